using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Incidents;

/// <summary>
/// Incidents, complaints and support requests through the control API: who may file, read and work
/// them, the status machine and its review rule, linked interactions, audit entries and metrics.
/// </summary>
public sealed class IncidentApiTests(IncidentApiTests.Fixture fixture) : IClassFixture<IncidentApiTests.Fixture>
{
    private HttpClient Admin => fixture.Server.Admin;
    private HttpClient Owner => fixture.Clients["dana"];
    private HttpClient Mia => fixture.Clients["mia"];
    private HttpClient Max => fixture.Clients["max"];
    private HttpClient Reviewer => fixture.Clients["rita"];
    private HttpClient Auditor => fixture.Clients["aldo"];

    [Fact]
    public async Task A_member_files_an_incident_with_linked_interactions_and_it_is_audited()
    {
        var slug = await fixture.SystemAsync("file");
        var interactions = await fixture.InteractionsAsync(slug, 2);
        var response = await Mia.PostAsJsonAsync("/api/v1/incidents", new
        {
            system = slug, kind = "incident", severity = "medium", title = "Draft quoted a wrong refund policy",
            description = "Two drafts cited a 60-day window; ours is 30.", interactions,
        });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        var incident = JsonDocument.Parse(body).RootElement;
        var id = incident.GetProperty("id").GetInt64();
        Assert.Equal($"/api/v1/incidents/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(slug, incident.GetProperty("system").GetString());
        Assert.Equal("open", incident.GetProperty("status").GetString());
        Assert.Equal("medium", incident.GetProperty("severity").GetString());
        Assert.Equal("mia@example.org", incident.GetProperty("reportedBy").GetString());
        Assert.Equal(interactions, incident.GetProperty("interactions").EnumerateArray().Select(i => i.GetString()!).ToArray());
        Assert.Equal(JsonValueKind.Null, incident.GetProperty("assignedTo").ValueKind);

        var fetched = await Mia.GetFromJsonAsync<JsonElement>($"/api/v1/incidents/{id}");
        Assert.Equal("Draft quoted a wrong refund policy", fetched.GetProperty("title").GetString());

        var audit = await AuditAsync(id);
        var filed = Assert.Single(audit);
        Assert.Equal("incident.filed", filed.GetProperty("action").GetString());
        Assert.Equal("mia@example.org", filed.GetProperty("actor").GetString());
        Assert.Contains("wrong refund policy", filed.GetProperty("after").GetString(), StringComparison.Ordinal);
        // A medium incident is not escalated to the owner.
        Assert.Empty(await AuditAsync(slug, "incident.escalated"));
    }

    [Fact]
    public async Task Complaints_and_support_requests_are_filed_the_same_way()
    {
        var slug = await fixture.SystemAsync("kinds");
        foreach (var kind in new[] { "complaint", "support_request" })
        {
            var created = await FileAsync(Max, slug, kind, "low");
            Assert.Equal(kind, created.GetProperty("kind").GetString());
        }
    }

    [Fact]
    public async Task Owners_reviewers_and_auditors_see_every_incident_a_member_only_their_own()
    {
        var slug = await fixture.SystemAsync("list");
        var mias = await FileAsync(Mia, slug, "incident", "low");
        var maxs = await FileAsync(Max, slug, "complaint", "medium");
        var assigned = await FileAsync(Owner, slug, "support_request", "low");
        await PatchOkAsync(Owner, Id(assigned), new { assignedTo = "mia@example.org" });

        foreach (var staff in new[] { Owner, Reviewer, Auditor, Admin })
        {
            var all = await ListAsync(staff, $"?system={slug}");
            Assert.Equal(new[] { Id(assigned), Id(maxs), Id(mias) }, all);
        }
        // Mia filed one and is assigned another; Max's complaint is not hers to read.
        Assert.Equal(new[] { Id(assigned), Id(mias) }, await ListAsync(Mia, $"?system={slug}"));
        Assert.Equal(new[] { Id(maxs) }, await ListAsync(Max, $"?system={slug}"));
        // One she may not see answers like one that does not exist.
        var refused = await Mia.GetAsync($"/api/v1/incidents/{Id(maxs)}");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith($"no incident {Id(maxs)};", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        Assert.Equal(new[] { Id(maxs) }, await ListAsync(Owner, $"?system={slug}&kind=complaint"));
        await PatchOkAsync(Owner, Id(maxs), new { status = "investigating" });
        Assert.Equal(new[] { Id(assigned), Id(mias) }, await ListAsync(Owner, $"?system={slug}&status=open"));
        Assert.Equal(new[] { Id(maxs) }, await ListAsync(Owner, $"?system={slug}&status=investigating"));
        Assert.Empty(await ListAsync(Mia, $"?system={slug}&status=investigating"));
        Assert.Equal(HttpStatusCode.BadRequest, (await Owner.GetAsync("/api/v1/incidents?status=closed")).StatusCode);
    }

    [Fact]
    public async Task Linking_unknown_interactions_is_404_naming_them()
    {
        var slug = await fixture.SystemAsync("unknown");
        var known = await fixture.InteractionsAsync(slug, 1);
        var response = await Mia.PostAsJsonAsync("/api/v1/incidents", new
        {
            system = slug, kind = "incident", severity = "low", title = "t", interactions = new[] { known[0], "int_nope_1", "int_nope_2" },
        });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("int_nope_1", detail, StringComparison.Ordinal);
        Assert.Contains("int_nope_2", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(known[0], detail, StringComparison.Ordinal);
        Assert.Equal(new[] { "int_nope_1", "int_nope_2" }, problem.GetProperty("unknown").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Empty(await ListAsync(Admin, $"?system={slug}"));
    }

    [Fact]
    public async Task Linking_an_interaction_of_another_system_is_400()
    {
        var slug = await fixture.SystemAsync("mine");
        var other = await fixture.SystemAsync("theirs");
        var foreign = await fixture.InteractionsAsync(other, 1);
        var response = await Mia.PostAsJsonAsync("/api/v1/incidents", new { system = slug, kind = "incident", severity = "low", title = "t", interactions = foreign });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains(foreign[0], detail, StringComparison.Ordinal);
        // Which system it belongs to is not said: the filer may not be allowed to see that one.
        Assert.DoesNotContain(other, detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"system\":\"nope\",\"kind\":\"incident\",\"severity\":\"low\",\"title\":\"t\"}", HttpStatusCode.NotFound, "no system 'nope'")]
    [InlineData("{\"system\":\"SYSTEM\",\"severity\":\"low\",\"title\":\"t\"}", HttpStatusCode.BadRequest, "kind is required: one of incident, complaint, support_request")]
    [InlineData("{\"system\":\"SYSTEM\",\"kind\":\"outage\",\"severity\":\"low\",\"title\":\"t\"}", HttpStatusCode.BadRequest, "unknown kind 'outage'")]
    [InlineData("{\"system\":\"SYSTEM\",\"kind\":\"incident\",\"title\":\"t\"}", HttpStatusCode.BadRequest, "severity is required: one of low, medium, high, critical")]
    [InlineData("{\"system\":\"SYSTEM\",\"kind\":\"incident\",\"severity\":\"low\"}", HttpStatusCode.BadRequest, "a title is required")]
    [InlineData("{\"kind\":\"incident\",\"severity\":\"low\",\"title\":\"t\"}", HttpStatusCode.BadRequest, "name the system")]
    public async Task A_bad_filing_is_refused_with_a_problem_that_says_what_to_fix(string json, HttpStatusCode status, string expected)
    {
        var slug = await fixture.SystemAsync("bad");
        using var content = new StringContent(json.Replace("SYSTEM", slug, StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json");
        var response = await Mia.PostAsync("/api/v1/incidents", content);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_status_path_works_through_the_api_and_forbidden_moves_are_409_with_the_reason()
    {
        var slug = await fixture.SystemAsync("paths");
        var full = Id(await FileAsync(Mia, slug, "incident", "medium"));
        Assert.Equal("investigating", (await PatchOkAsync(Owner, full, new { status = "investigating" })).GetProperty("status").GetString());
        await RefusedAsync(Owner, full, new { status = "open" }, HttpStatusCode.Conflict, "cannot go back to open");
        await RefusedAsync(Owner, full, new { status = "reviewed" }, HttpStatusCode.Conflict, "move it to resolved first");
        var resolved = await PatchOkAsync(Owner, full, new { status = "resolved" });
        Assert.NotEqual(JsonValueKind.Null, resolved.GetProperty("resolvedAt").ValueKind);
        await RefusedAsync(Owner, full, new { status = "open" }, HttpStatusCode.Conflict, "to reopen it, move it to investigating");
        var reopened = await PatchOkAsync(Owner, full, new { status = "investigating" });
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("resolvedAt").ValueKind);
        await PatchOkAsync(Owner, full, new { status = "resolved" });
        Assert.Equal("reviewed", (await PatchOkAsync(Owner, full, new { status = "reviewed" })).GetProperty("status").GetString());
        await RefusedAsync(Owner, full, new { status = "investigating" }, HttpStatusCode.Conflict, "closed");
        await RefusedAsync(Owner, full, new { assignedTo = "mia@example.org" }, HttpStatusCode.Conflict, "closed");
        Assert.Equal(
            new[] { "incident.filed", "incident.investigating", "incident.resolved", "incident.reopened", "incident.resolved", "incident.reviewed" },
            (await AuditAsync(full)).Select(e => e.GetProperty("action").GetString()!).ToArray());

        var quick = Id(await FileAsync(Max, slug, "support_request", "low"));
        await RefusedAsync(Owner, quick, new { status = "reviewed" }, HttpStatusCode.Conflict, "move it to resolved first");
        await PatchOkAsync(Owner, quick, new { status = "resolved" });
        await PatchOkAsync(Owner, quick, new { status = "reviewed" });

        await RefusedAsync(Owner, quick, new { status = "paused" }, HttpStatusCode.BadRequest, "unknown status 'paused'");
        await RefusedAsync(Owner, quick, new { }, HttpStatusCode.BadRequest, "nothing to change");
        await RefusedAsync(Owner, 999_999, new { status = "resolved" }, HttpStatusCode.NotFound, "no incident 999999");
    }

    [Theory]
    [InlineData("high")]
    [InlineData("critical")]
    public async Task A_high_or_critical_incident_closes_only_with_its_review_note(string severity)
    {
        var slug = await fixture.SystemAsync($"review-{severity}");
        var id = Id(await FileAsync(Mia, slug, "incident", severity));
        await PatchOkAsync(Owner, id, new { status = "resolved" });
        await RefusedAsync(Owner, id, new { status = "reviewed" }, HttpStatusCode.Conflict,
            $"a {severity} incident cannot close without its post-incident review: add a review note");
        Assert.Equal("resolved", (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/incidents/{id}")).GetProperty("status").GetString());

        var closed = await PatchOkAsync(Owner, id, new { status = "reviewed", reviewNote = "Cause: retrieval returned stale policy. Fix: reindex nightly." });
        Assert.Equal("reviewed", closed.GetProperty("status").GetString());
        Assert.StartsWith("Cause: retrieval", closed.GetProperty("reviewNote").GetString(), StringComparison.Ordinal);
        var actions = (await AuditAsync(id)).Select(e => e.GetProperty("action").GetString()).ToArray();
        Assert.Equal(new[] { "incident.filed", "incident.resolved", "incident.review_noted", "incident.reviewed" }, actions);

        // Filing it put a notice for the owner on the system's trail.
        var escalated = Assert.Single(await AuditAsync(slug, "incident.escalated"));
        using var after = JsonDocument.Parse(escalated.GetProperty("after").GetString()!);
        Assert.Equal(id, after.RootElement.GetProperty("incident").GetInt64());
        Assert.Equal("dana@example.org", after.RootElement.GetProperty("owner").GetString());
        Assert.Equal(severity, after.RootElement.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task The_owner_assigns_the_assignee_works_it_and_a_random_member_cannot_touch_it()
    {
        var slug = await fixture.SystemAsync("assign");
        var id = Id(await FileAsync(Max, slug, "complaint", "medium"));

        // The reporter, a reviewer and an auditor do not work incidents unless assigned; to another member it does not exist.
        await RefusedAsync(Mia, id, new { status = "investigating" }, HttpStatusCode.NotFound, $"no incident {id}");
        await RefusedAsync(Max, id, new { status = "investigating" }, HttpStatusCode.Forbidden, "nobody yet");
        await RefusedAsync(Reviewer, id, new { status = "investigating" }, HttpStatusCode.Forbidden, "an admin");
        await RefusedAsync(Auditor, id, new { reviewNote = "x" }, HttpStatusCode.Forbidden, "an admin");
        await RefusedAsync(Owner, id, new { assignedTo = "ghost@example.org" }, HttpStatusCode.NotFound, "no user ghost@example.org");

        var assigned = await PatchOkAsync(Owner, id, new { assignedTo = "Mia@Example.org" });
        Assert.Equal("mia@example.org", assigned.GetProperty("assignedTo").GetString());
        Assert.Equal("investigating", (await PatchOkAsync(Mia, id, new { status = "investigating" })).GetProperty("status").GetString());
        await RefusedAsync(Mia, id, new { severity = "high" }, HttpStatusCode.Forbidden, "may change the severity");
        await RefusedAsync(Mia, id, new { assignedTo = "max@example.org" }, HttpStatusCode.Forbidden, "may assign");
        await RefusedAsync(Max, id, new { status = "resolved" }, HttpStatusCode.Forbidden, "mia@example.org");

        var raised = await PatchOkAsync(Owner, id, new { severity = "high" });
        Assert.Equal("high", raised.GetProperty("severity").GetString());
        await PatchOkAsync(Mia, id, new { status = "resolved" });
        await RefusedAsync(Mia, id, new { status = "reviewed" }, HttpStatusCode.Conflict, "a high complaint cannot close without its post-incident review");
        await PatchOkAsync(Mia, id, new { reviewNote = "Apologised; clarified the policy text in the prompt." });
        await PatchOkAsync(Mia, id, new { status = "reviewed" });

        var admin = Id(await FileAsync(Mia, slug, "incident", "low"));
        await PatchOkAsync(Admin, admin, new { assignedTo = "max@example.org", severity = "medium" });
        Assert.Equal(JsonValueKind.Null, (await PatchOkAsync(Admin, admin, new { assignedTo = "" })).GetProperty("assignedTo").ValueKind);

        var audit = await AuditAsync(id);
        Assert.Equal(
            new[] { "incident.filed", "incident.assigned", "incident.investigating", "incident.severity_changed", "incident.resolved", "incident.review_noted", "incident.reviewed" },
            audit.Select(e => e.GetProperty("action").GetString()!).ToArray());
        var severity = audit.Single(e => e.GetProperty("action").GetString() == "incident.severity_changed");
        Assert.Equal("dana@example.org", severity.GetProperty("actor").GetString());
        Assert.Contains("medium", severity.GetProperty("before").GetString(), StringComparison.Ordinal);
        Assert.Contains("high", severity.GetProperty("after").GetString(), StringComparison.Ordinal);
        Assert.Contains("mia@example.org", audit.Single(e => e.GetProperty("action").GetString() == "incident.assigned").GetProperty("after").GetString(), StringComparison.Ordinal);
        // Raising it to high is a notice for the owner, like filing a high one.
        Assert.Single(await AuditAsync(slug, "incident.escalated"));

        var verify = await Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task A_refused_change_writes_nothing()
    {
        var slug = await fixture.SystemAsync("atomic");
        var id = Id(await FileAsync(Mia, slug, "incident", "high"));
        await PatchOkAsync(Owner, id, new { status = "resolved" });
        // The severity change and assignment are rolled back with the refused close.
        await RefusedAsync(Owner, id, new { severity = "critical", assignedTo = "max@example.org", status = "reviewed" }, HttpStatusCode.Conflict, "a critical incident cannot close");
        var current = await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/incidents/{id}");
        Assert.Equal("high", current.GetProperty("severity").GetString());
        Assert.Equal(JsonValueKind.Null, current.GetProperty("assignedTo").ValueKind);
        Assert.Equal(2, (await AuditAsync(id)).Length);
    }

    [Fact]
    public async Task Metrics_count_incidents_by_severity_and_complaints()
    {
        var slug = await fixture.SystemAsync("metrics");
        await FileAsync(Mia, slug, "incident", "high");
        await FileAsync(Mia, slug, "incident", "low");
        await FileAsync(Max, slug, "complaint", "medium");
        await FileAsync(Max, slug, "complaint", "high");
        await FileAsync(Max, slug, "support_request", "critical");

        var metrics = (await Owner.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{slug}/metrics")).GetProperty("metrics");
        Assert.Equal(1, metrics.GetProperty("incidents_high").GetProperty("n").GetInt64());
        Assert.Equal(1, metrics.GetProperty("incidents_high").GetProperty("value").GetDouble());
        Assert.Equal(1, metrics.GetProperty("incidents_low").GetProperty("n").GetInt64());
        Assert.Equal(0, metrics.GetProperty("incidents_critical").GetProperty("n").GetInt64());
        Assert.Equal(2, metrics.GetProperty("complaints").GetProperty("n").GetInt64());
        Assert.Equal(2, metrics.GetProperty("complaints").GetProperty("value").GetDouble());
    }

    private static long Id(JsonElement incident) => incident.GetProperty("id").GetInt64();

    private static async Task<JsonElement> FileAsync(HttpClient client, string slug, string kind, string severity)
    {
        var response = await client.PostAsJsonAsync("/api/v1/incidents", new { system = slug, kind, severity, title = $"{kind} {severity}" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> PatchOkAsync(HttpClient client, long id, object patch)
    {
        var response = await client.PatchAsJsonAsync($"/api/v1/incidents/{id}", patch);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PATCH {id} {JsonSerializer.Serialize(patch)}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task RefusedAsync(HttpClient client, long id, object patch, HttpStatusCode status, string expected)
    {
        var response = await client.PatchAsJsonAsync($"/api/v1/incidents/{id}", patch);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"PATCH {id} {JsonSerializer.Serialize(patch)}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }

    private static async Task<long[]> ListAsync(HttpClient client, string query)
    {
        var list = await client.GetFromJsonAsync<JsonElement[]>($"/api/v1/incidents{query}");
        return list!.Select(Id).ToArray();
    }

    private async Task<JsonElement[]> AuditAsync(long id) =>
        (await Admin.GetFromJsonAsync<JsonElement[]>($"/api/v1/audit?subject=incident:{id}&limit=1000"))!;

    private async Task<JsonElement[]> AuditAsync(string slug, string action) =>
        (await Admin.GetFromJsonAsync<JsonElement[]>($"/api/v1/audit?subject=system:{slug}&limit=1000"))!
            .Where(e => e.GetProperty("action").GetString() == action).ToArray();

    public sealed class Fixture : IAsyncLifetime
    {
        public PilotageTestServer Server { get; private set; } = null!;
        public Dictionary<string, HttpClient> Clients { get; } = [];

        public async Task InitializeAsync()
        {
            Server = await PilotageTestServer.StartAsync();
            // Members file against the systems they use (the pilot group), the reviewer reviews them all.
            foreach (var (name, role, group) in new[] { ("dana", "owner", ""), ("mia", "member", Users), ("max", "member", Users), ("rita", "reviewer", Reviewers), ("aldo", "auditor", "") })
            {
                Clients[name] = Server.ClientFor(await Server.CreateUserWithKeyAsync($"{name}@example.org", role, group.Length == 0 ? [] : [group]));
            }
        }

        public const string Users = "incident-users";
        public const string Reviewers = "incident-reviewers";

        /// <summary>A new system owned by dana, used by mia and max, reviewed by rita, so each test counts only its own incidents.</summary>
        public async Task<string> SystemAsync(string name)
        {
            var slug = $"{name}-{Guid.NewGuid().ToString("N")[..6]}";
            await Server.ApplyAsync($"""
                apiVersion: pilotage/v1
                kind: AiSystem
                metadata:
                  name: {slug}
                spec:
                  owner: dana@example.org
                  purpose: Incident API tests
                  risk: medium
                  upstream:
                    baseUrl: http://127.0.0.1:9/v1
                    model: test-model
                  review:
                    reviewers: [{Reviewers}]
                  pilot:
                    group: {Users}
                    ends: 2099-12-31
                """);
            return slug;
        }

        /// <summary>Evidence records of the system, as the gateway would have written them.</summary>
        public async Task<string[]> InteractionsAsync(string slug, int count)
        {
            await using var db = Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
            var ids = Enumerable.Range(0, count).Select(_ => $"int_{Guid.NewGuid():N}").ToArray();
            foreach (var id in ids)
            {
                db.Interactions.Add(new InteractionRow
                {
                    Id = id, CreatedAt = DateTimeOffset.UtcNow, System = slug, Phase = "pilot", ConfigVersion = 1, UserId = 1,
                    UserEmail = "mia@example.org", KeyId = "key", Groups = "[]", Endpoint = "chat", Mode = "draft", Outcome = "served",
                });
            }
            await db.SaveChangesAsync();
            return ids;
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
