using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Access;

/// <summary>
/// Every control API endpoint × every role: allowed → 2xx, not allowed → 403 (or 404 where the resource
/// belongs to a system the role may not see at all), no token → 401. The expected matrix is written out
/// here, independently of the server's AccessMatrix, so a change to either shows up as a failure. Which
/// systems each role reaches is <c>Security/ReadScopingTests</c>'s subject; here every role's user owns,
/// reviews or uses matrix-fixture.
/// </summary>
public sealed class AccessMatrixTests(AccessMatrixTests.Fixture fixture) : IClassFixture<AccessMatrixTests.Fixture>
{
    public static readonly string[] RoleNames = ["admin", "owner", "reviewer", "auditor", "member"];

    /// <summary>One row per endpoint (and per variant where the same route is scoped by ownership).</summary>
    /// <param name="Hidden">Roles refused with 404, not 403: the resource is of a system they may not see.</param>
    public sealed record Case(string Name, string Method, string Route, string[] Allowed, Func<Fixture, string, HttpRequestMessage> Request, string[]? Hidden = null);

    private static readonly string[] Everyone = RoleNames;
    private static readonly string[] Staff = ["admin", "owner", "reviewer", "auditor"];
    private static readonly string[] Writers = ["admin", "owner"];
    private static readonly string[] Readers = ["admin", "auditor"];
    private static readonly string[] AdminOnly = ["admin"];

    public static readonly Case[] Cases =
    [
        new("me", "GET", "/api/v1/me", Everyone, (f, r) => Get("/api/v1/me")),
        new("systems list", "GET", "/api/v1/systems/", Staff, (f, r) => Get("/api/v1/systems")),
        new("system get", "GET", "/api/v1/systems/{slug}", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture")),
        new("apply", "POST", "/api/v1/systems/apply", Writers, (f, r) => Yaml("/api/v1/systems/apply", Spec($"apply-{r}-{Unique()}", $"{r}@example.org"))),
        new("diff", "POST", "/api/v1/systems/diff", Writers, (f, r) => Yaml("/api/v1/systems/diff", Spec($"diff-{r}", $"{r}@example.org"))),
        new("users list", "GET", "/api/v1/users/", Readers, (f, r) => Get("/api/v1/users")),
        new("user get", "GET", "/api/v1/users/{email}", Readers, (f, r) => Get("/api/v1/users/member@example.org")),
        new("user create", "POST", "/api/v1/users/", AdminOnly, (f, r) => Json("POST", "/api/v1/users", new { email = $"new-{Unique()}@example.org", role = "member" })),
        new("user update", "PATCH", "/api/v1/users/{email}", AdminOnly, (f, r) => Json("PATCH", "/api/v1/users/target@example.org", new { displayName = $"Target {Unique()}" })),
        new("groups list", "GET", "/api/v1/groups/", ["admin", "owner", "auditor"], (f, r) => Get("/api/v1/groups")),
        new("group create", "POST", "/api/v1/groups/", AdminOnly, (f, r) => Json("POST", "/api/v1/groups", new { name = $"g-{Unique()}" })),
        new("member add", "PUT", "/api/v1/groups/{name}/members/{email}", AdminOnly, (f, r) => new HttpRequestMessage(HttpMethod.Put, "/api/v1/groups/matrix/members/target@example.org")),
        new("member remove", "DELETE", "/api/v1/groups/{name}/members/{email}", AdminOnly, (f, r) => new HttpRequestMessage(HttpMethod.Delete, "/api/v1/groups/matrix/members/target@example.org")),
        new("keys list", "GET", "/api/v1/keys/", Everyone, (f, r) => Get("/api/v1/keys")),
        new("key create (own)", "POST", "/api/v1/keys/", Everyone, (f, r) => Json("POST", "/api/v1/keys", new { name = "own" })),
        new("key create (someone else's)", "POST", "/api/v1/keys/", AdminOnly, (f, r) => Json("POST", "/api/v1/keys", new { user = "target@example.org" })),
        new("key revoke (own)", "DELETE", "/api/v1/keys/{id}", Everyone, (f, r) => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/keys/{f.SpareKey(r)}")),
        new("key revoke (someone else's)", "DELETE", "/api/v1/keys/{id}", AdminOnly, (f, r) => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/keys/{f.SpareKey("target")}")),
        new("metrics", "GET", "/api/v1/systems/{slug}/metrics", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/metrics")),
        new("attention", "GET", "/api/v1/attention", Staff, (f, r) => Get("/api/v1/attention")),
        new("system attention", "GET", "/api/v1/systems/{slug}/attention", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/attention")),
        new("report", "GET", "/api/v1/systems/{slug}/report", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/report?format=json")),
        new("readiness", "GET", "/api/v1/systems/{slug}/readiness", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/readiness")),
        new("readiness answer", "PUT", "/api/v1/systems/{slug}/readiness/{questionId}", Writers, (f, r) => Json("PUT", $"/api/v1/systems/{Fixture.Operated(r, "decide")}/readiness/rollout.risky_tasks", new { answer = $"matrix {Unique()}" })),
        new("decisions list", "GET", "/api/v1/systems/{slug}/decisions", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/decisions")),
        // Owners may operate only their own systems: each role gets a system whose owner is that role's user.
        new("decide", "POST", "/api/v1/systems/{slug}/decisions", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "decide")}/decisions", new { outcome = "pilot", reason = "matrix" })),
        new("pause", "POST", "/api/v1/systems/{slug}/pause", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "pause")}/pause", new { reason = "matrix" })),
        new("resume", "POST", "/api/v1/systems/{slug}/resume", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "resume")}/resume", new { reason = "matrix" })),
        new("config versions", "GET", "/api/v1/systems/{slug}/versions", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/versions")),
        // Each role's rollback system has two configuration versions; rolling back to version 1 is allowed once per role.
        new("rollback", "POST", "/api/v1/systems/{slug}/rollback", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "rollback")}/rollback", new { toVersion = 1, reason = "matrix" })),
        new("import", "POST", "/api/v1/systems/{slug}/import", Writers, (f, r) => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/{Fixture.Operated(r, "decide")}/import") { Content = new StringContent("prompt,answer,timestamp\nmatrix,matrix,2026-03-01\n", Encoding.UTF8, "text/csv") }),
        new("import (someone else's)", "POST", "/api/v1/systems/{slug}/import", AdminOnly, (f, r) => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/{Fixture.Operated("admin", "decide")}/import") { Content = new StringContent("prompt,answer,timestamp\nmatrix,matrix,2026-03-01\n", Encoding.UTF8, "text/csv") }, ["owner"]),
        new("approvals list", "GET", "/api/v1/approvals/", ["admin", "owner", "reviewer"], (f, r) => Get("/api/v1/approvals")),
        new("approval release", "POST", "/api/v1/approvals/{id}/release", ["admin", "owner", "reviewer"], (f, r) => Json("POST", $"/api/v1/approvals/{f.Held(r)}/release", new { reason = "ok" })),
        new("approval reject", "POST", "/api/v1/approvals/{id}/reject", ["admin", "owner", "reviewer"], (f, r) => Json("POST", $"/api/v1/approvals/{f.Held(r)}/reject", new { reason = "wrong" })),
        new("review queue", "GET", "/api/v1/reviews/", ["admin", "owner", "reviewer"], (f, r) => Get("/api/v1/reviews")),
        new("review open", "POST", "/api/v1/reviews/{id}/open", ["admin", "owner", "reviewer"], (f, r) => Json("POST", $"/api/v1/reviews/{f.Draft(r)}/open", new { })),
        new("interaction review", "POST", "/api/v1/interactions/{id}/review", ["admin", "owner", "reviewer"], (f, r) => Json("POST", $"/api/v1/interactions/{f.Draft(r)}/review", new { outcome = "accepted" })),
        new("interaction get", "GET", "/api/v1/interactions/{id}", Staff, (f, r) => Get($"/api/v1/interactions/{Fixture.DraftRecord}")),
        new("eval start", "POST", "/api/v1/systems/{slug}/evals", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "decide")}/evals", new { testSet = "matrix", testSetHash = "abc", cases = 1 })),
        new("evals list", "GET", "/api/v1/systems/{slug}/evals", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/evals")),
        new("eval get", "GET", "/api/v1/evals/{id:long}", Staff, (f, r) => Get($"/api/v1/evals/{f.EvalRun("matrix", "get")}")),
        new("eval results", "POST", "/api/v1/evals/{id:long}/results", Writers, (f, r) => Json("POST", $"/api/v1/evals/{f.EvalRun(r, "results")}/results", new { results = new[] { new { caseId = "c1", category = "edge", verdict = "pass" } } })),
        new("eval finish", "POST", "/api/v1/evals/{id:long}/finish", Writers, (f, r) => Json("POST", $"/api/v1/evals/{f.EvalRun(r, "finish")}/finish", new { status = "completed" })),
        new("webhook deliveries", "GET", "/api/v1/webhooks/deliveries", Readers, (f, r) => Get("/api/v1/webhooks/deliveries")),
        new("audit list", "GET", "/api/v1/audit/", Readers, (f, r) => Get("/api/v1/audit")),
        new("audit verify", "GET", "/api/v1/audit/verify", Readers, (f, r) => Get("/api/v1/audit/verify")),
        new("audit export", "GET", "/api/v1/audit/export", Readers, (f, r) => Get("/api/v1/audit/export")),
        new("audit verify against", "POST", "/api/v1/audit/verify", Readers, (f, r) => Json("POST", "/api/v1/audit/verify", new { checkpoint = "forged\n1\nAAAA\n\n\u2014 forged AAAA\n" })),
        new("audit checkpoint", "POST", "/api/v1/audit/checkpoints", Readers, (f, r) => Json("POST", "/api/v1/audit/checkpoints", new { })),
        new("audit latest checkpoint", "GET", "/api/v1/audit/checkpoints/latest", Readers, (f, r) => Get("/api/v1/audit/checkpoints/latest")),
        new("audit proof", "GET", "/api/v1/audit/proofs/{sequence:long}", Readers, (f, r) => Get("/api/v1/audit/proofs/1")),
        new("audit public key", "GET", "/api/v1/audit/public-key", Readers, (f, r) => Get("/api/v1/audit/public-key")),
        new("incident file", "POST", "/api/v1/incidents/", Everyone, (f, r) => Json("POST", "/api/v1/incidents", new { system = "matrix-fixture", kind = "complaint", severity = "low", title = "matrix" })),
        new("incidents list", "GET", "/api/v1/incidents/", Everyone, (f, r) => Get("/api/v1/incidents")),
        new("incident get (own)", "GET", "/api/v1/incidents/{id:long}", Everyone, (f, r) => Get($"/api/v1/incidents/{f.Incident(r)}")),
        new("incident get (someone else's)", "GET", "/api/v1/incidents/{id:long}", Staff, (f, r) => Get($"/api/v1/incidents/{f.Incident("other")}"), ["member"]),
        // Incidents of matrix-fixture, owned by the owner's user; the assigned person may work one too.
        new("incident update", "PATCH", "/api/v1/incidents/{id:long}", Writers, (f, r) => Json("PATCH", $"/api/v1/incidents/{f.Incident("other")}", new { reviewNote = $"matrix {Unique()}" }), ["member"]),
        new("incident update (assigned)", "PATCH", "/api/v1/incidents/{id:long}", Everyone, (f, r) => Json("PATCH", $"/api/v1/incidents/{f.Incident($"assigned-{r}")}", new { reviewNote = $"matrix {Unique()}" })),
        new("changes list", "GET", "/api/v1/changes/", Staff, (f, r) => Get("/api/v1/changes")),
        new("change get", "GET", "/api/v1/changes/{id:long}", Staff, (f, r) => Get($"/api/v1/changes/{f.Change("matrix", "get")}")),
        new("change approve", "POST", "/api/v1/changes/{id:long}/approve", Writers, (f, r) => Json("POST", $"/api/v1/changes/{f.Change(r, "approve")}/approve", new { reason = "matrix" })),
        new("change reject", "POST", "/api/v1/changes/{id:long}/reject", Writers, (f, r) => Json("POST", $"/api/v1/changes/{f.Change(r, "reject")}/reject", new { reason = "matrix" })),
        new("change withdraw", "POST", "/api/v1/changes/{id:long}/withdraw", Writers, (f, r) => Json("POST", $"/api/v1/changes/{f.Change(r, "withdraw")}/withdraw", new { reason = "matrix" })),
        new("change apply", "POST", "/api/v1/changes/{id:long}/apply", Writers, (f, r) => Json("POST", $"/api/v1/changes/{f.Change(r, "apply")}/apply", new { reason = "matrix" })),
        new("system changes", "GET", "/api/v1/systems/{slug}/changes", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/changes")),
        new("handover propose", "POST", "/api/v1/systems/{slug}/handover", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "decide")}/handover", new { to = r == "admin" ? "owner@example.org" : "admin@example.org" })),
        new("handover accept", "POST", "/api/v1/systems/{slug}/handover/accept", Writers, (f, r) => new HttpRequestMessage(HttpMethod.Post, $"/api/v1/systems/accept-{(r is "admin" or "owner" ? r : "admin")}/handover/accept")),
        new("handover cancel", "DELETE", "/api/v1/systems/{slug}/handover", Writers, (f, r) => new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/systems/cancel-{(r is "admin" or "owner" ? r : "admin")}/handover")),
        new("purge", "POST", "/api/v1/systems/{slug}/purge", Writers, (f, r) => Json("POST", $"/api/v1/systems/{Fixture.Operated(r, "decide")}/purge", new { olderThanDays = 30 })),
        new("legal hold", "POST", "/api/v1/systems/{slug}/hold", Readers, (f, r) => Json("POST", $"/api/v1/systems/hold-{(r is "admin" or "auditor" ? r : "admin")}/hold", new { reason = "matrix" })),
        new("legal hold release", "POST", "/api/v1/systems/{slug}/hold/release", Readers, (f, r) => Json("POST", $"/api/v1/systems/release-{(r is "admin" or "auditor" ? r : "admin")}/hold/release", new { reason = "matrix" })),
        new("metrics by version", "GET", "/api/v1/systems/{slug}/metrics/versions", Staff, (f, r) => Get("/api/v1/systems/matrix-fixture/metrics/versions")),
    ];

    public static TheoryData<string, string> CaseByRole()
    {
        var data = new TheoryData<string, string>();
        foreach (var c in Cases)
        {
            foreach (var role in RoleNames) data.Add(c.Name, role);
        }
        return data;
    }

    public static TheoryData<string> CaseNames() => [.. Cases.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseByRole))]
    public async Task Each_role_gets_2xx_when_allowed_and_403_when_not(string caseName, string role)
    {
        var c = Cases.Single(x => x.Name == caseName);
        using var request = c.Request(fixture, role);
        using var response = await fixture.Clients[role].SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (c.Allowed.Contains(role))
        {
            Assert.True(response.IsSuccessStatusCode, $"{role} on {caseName}: expected 2xx, got {(int)response.StatusCode} {body}");
        }
        else if (c.Hidden?.Contains(role) == true)
        {
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{role} on {caseName}: expected 404, got {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        else
        {
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{role} on {caseName}: expected 403, got {(int)response.StatusCode} {body}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("admin", body, StringComparison.Ordinal); // the refusal says who may do it
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Without_a_token_every_endpoint_answers_401(string caseName)
    {
        var c = Cases.Single(x => x.Name == caseName);
        using var request = c.Request(fixture, "admin");
        using var response = await fixture.Server.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_matrix_covers_every_control_api_endpoint()
    {
        var source = fixture.Server.App.Services.GetRequiredService<EndpointDataSource>();
        var routes = source.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} {e.RoutePattern.RawText}"))
            .ToHashSet();
        var covered = Cases.Select(c => $"{c.Method} {c.Route}").ToHashSet();
        var missing = routes.Except(covered).ToList();
        Assert.True(missing.Count == 0, "endpoints without an access test: " + string.Join(", ", missing));
        Assert.Empty(covered.Except(routes));
    }

    [Fact]
    public async Task A_revoked_key_and_an_expired_key_are_refused_with_the_reason()
    {
        var token = await fixture.Server.CreateKeyAsync("member@example.org");
        var client = fixture.Server.ClientFor(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);
        var id = token.Split('_')[1];
        Assert.Equal(HttpStatusCode.OK, (await fixture.Server.Admin.DeleteAsync($"/api/v1/keys/{id}")).StatusCode);
        var refused = await client.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var soon = await fixture.Server.CreateKeyAsync("member@example.org", DateTimeOffset.UtcNow.AddSeconds(1));
        var expiring = fixture.Server.ClientFor(soon);
        await Task.Delay(1500);
        var expired = await expiring.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_secret_for_a_real_key_id_is_refused()
    {
        var token = await fixture.Server.CreateKeyAsync("member@example.org");
        var forged = token[..^4] + "AAAA";
        var response = await fixture.Server.ClientFor(forged).GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage Json(string method, string path, object body) =>
        new(new HttpMethod(method), path) { Content = JsonContent.Create(body) };

    private static HttpRequestMessage Yaml(string path, string yaml) =>
        new(HttpMethod.Post, path) { Content = new StringContent(yaml, Encoding.UTF8, "application/yaml") };

    private static string Unique() => Guid.NewGuid().ToString("N")[..8];

    private const string PilotSection = """
          pilot:
            group: matrix
            ends: 2099-12-31

        """;

    private const string ReviewSection = """
          review:
            reviewers: [matrix-reviewers]

        """;

    /// <summary>matrix-fixture: owned by the owner, reviewed and used (its pilot group) by every role's user.</summary>
    private const string SharedSection = """
          review:
            reviewers: [matrix-reviewers]
          pilot:
            group: matrix-reviewers
            ends: 2099-12-31

        """;

    internal static string Spec(string name, string owner) => $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {name}
        spec:
          owner: {owner}
          purpose: Access matrix test system
          risk: low
          upstream:
            baseUrl: http://127.0.0.1:9/v1
            model: test-model
        """;

    public sealed class Fixture : IAsyncLifetime
    {
        private readonly Dictionary<string, Queue<string>> _spareKeys = [];

        public PilotageTestServer Server { get; private set; } = null!;
        public Dictionary<string, HttpClient> Clients { get; } = [];

        private readonly Dictionary<string, Queue<string>> _held = [];


        private readonly Dictionary<(string Role, string Step), long> _evalRuns = [];

        private readonly Dictionary<(string Role, string Step), long> _changes = [];

        /// <summary>A change request of that role's own system, in the state the step needs (admin's for roles that may not act on it).</summary>
        public long Change(string role, string step) => _changes.TryGetValue((role, step), out var id) ? id : _changes[("admin", step)];

        /// <summary>A running evaluation started by that role (admin's for roles that may not run evaluations).</summary>
        public long EvalRun(string role, string step) => _evalRuns.TryGetValue((role, step), out var id) ? id : _evalRuns[("admin", step)];

        /// <summary>A pending held answer the role may decide; each call hands out a new one.</summary>
        public string Held(string role) => _held[role].Dequeue();

        private readonly Dictionary<string, Queue<string>> _drafts = [];

        /// <summary>A draft answer of held-answers waiting in the review queue; each call hands out a new one.</summary>
        public string Draft(string role) => _drafts[role].Dequeue();

        /// <summary>A draft answer of held-answers that every staff role may read.</summary>
        public const string DraftRecord = "int_draft_record";

        /// <summary>A system owned by that role's user, in a phase where the step is allowed: proposed to decide, in pilot to pause, paused to resume.</summary>
        public static string Operated(string role, string step) => $"{step}-{role}";

        /// <summary>A key of that user made for being revoked; each call hands out a new one.</summary>
        public string SpareKey(string user) => _spareKeys[user].Dequeue();

        private readonly Dictionary<string, long> _incidents = [];

        /// <summary>An incident of matrix-fixture: filed by that role's user, "other" (filed by the admin), or "assigned-{role}".</summary>
        public long Incident(string key) => _incidents[key];

        public async Task InitializeAsync()
        {
            Server = await PilotageTestServer.StartAsync();
            foreach (var role in RoleNames)
            {
                Clients[role] = Server.ClientFor(await Server.CreateUserWithKeyAsync($"{role}@example.org", role, "matrix-reviewers"));
            }
            await Server.CreateUserWithKeyAsync("target@example.org", "member");
            (await Server.Admin.PostAsJsonAsync("/api/v1/groups", new { name = "matrix" })).EnsureSuccessStatusCode();
            await Server.ApplyAsync(Spec("matrix-fixture", "owner@example.org") + "\n" + SharedSection);
            foreach (var role in RoleNames)
            {
                foreach (var step in new[] { "decide", "pause", "resume", "rollback" })
                {
                    var slug = Operated(role, step);
                    await Server.ApplyAsync(Spec(slug, $"{role}@example.org") + "\n" + PilotSection);
                    if (step == "decide") continue;
                    if (step == "rollback")
                    {
                        // A second configuration version, so there is one to roll back to.
                        await Server.ApplyAsync(Spec(slug, $"{role}@example.org") + "\n" + PilotSection + "  config:\n    systemPrompt: second version\n");
                        continue;
                    }
                    (await Server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/decisions", new { outcome = "pilot", reason = "setup" })).EnsureSuccessStatusCode();
                    if (step == "resume") (await Server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/pause", new { reason = "setup" })).EnsureSuccessStatusCode();
                }
            }
            await FileIncidentsAsync();
            var shared = await Clients["owner"].PostAsJsonAsync("/api/v1/systems/matrix-fixture/evals", new { testSet = "fixture", testSetHash = "abc", cases = 1 });
            shared.EnsureSuccessStatusCode();
            _evalRuns[("matrix", "get")] = (await shared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            foreach (var role in new[] { "admin", "owner" })
            {
                foreach (var step in new[] { "results", "finish" })
                {
                    var started = await Clients[role].PostAsJsonAsync($"/api/v1/systems/{Operated(role, "decide")}/evals", new { testSet = "fixture", testSetHash = "abc", cases = 1 });
                    started.EnsureSuccessStatusCode();
                    _evalRuns[(role, step)] = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
                }
            }
            foreach (var role in new[] { "admin", "owner" })
            {
                // accept-{role}: being handed to that role's user; cancel-{role}: that user's, being handed to the target.
                await Server.ApplyAsync(Spec($"accept-{role}", role == "admin" ? "owner@example.org" : "admin@example.org"));
                await Server.ApplyAsync(Spec($"cancel-{role}", $"{role}@example.org"));
            }
            foreach (var role in new[] { "admin", "auditor" })
            {
                await Server.ApplyAsync(Spec($"hold-{role}", "owner@example.org"));
                await Server.ApplyAsync(Spec($"release-{role}", "owner@example.org"));
            }
            await using (var db = Server.App.Services.GetRequiredService<Pilotage.Server.Storage.PilotageStore>().CreateDbContext())
            {
                foreach (var role in new[] { "admin", "auditor" })
                {
                    var held = db.Systems.Single(s => s.Slug == $"release-{role}");
                    held.LegalHoldAt = DateTimeOffset.UtcNow;
                    held.LegalHoldBy = "admin@example.org";
                    held.LegalHoldReason = "matrix";
                }
                var fixtureSystem = db.Systems.Single(s => s.Slug == "matrix-fixture");
                var readable = new Pilotage.Server.Storage.ChangeRequestRow
                {
                    System = fixtureSystem.Slug, Status = "open", RequestedBy = "admin@example.org", RequestedAt = DateTimeOffset.UtcNow,
                    BaseVersion = fixtureSystem.ConfigVersion, SpecJson = fixtureSystem.SpecJson, SpecHash = fixtureSystem.SpecHash, Diff = "[]",
                };
                db.ChangeRequests.Add(readable);
                await db.SaveChangesAsync();
                _changes[("matrix", "get")] = readable.Id;
                foreach (var role in new[] { "admin", "owner" })
                {
                    db.Systems.Single(s => s.Slug == $"accept-{role}").PendingOwner = $"{role}@example.org";
                    db.Systems.Single(s => s.Slug == $"cancel-{role}").PendingOwner = "target@example.org";
                    var system = db.Systems.Single(s => s.Slug == Operated(role, "decide"));
                    foreach (var step in new[] { "approve", "reject", "withdraw", "apply" })
                    {
                        var change = new Pilotage.Server.Storage.ChangeRequestRow
                        {
                            System = system.Slug, Status = step == "apply" ? "approved" : "open", RequestedBy = "admin@example.org", RequestedAt = DateTimeOffset.UtcNow,
                            BaseVersion = system.ConfigVersion, SpecJson = system.SpecJson, SpecHash = system.SpecHash, Diff = "[]",
                        };
                        db.ChangeRequests.Add(change);
                        await db.SaveChangesAsync();
                        _changes[(role, step)] = change.Id;
                    }
                }
            }
            // Held answers of a system reviewed by the reviewers' group and owned by the owner.
            await Server.ApplyAsync(Spec("held-answers", "owner@example.org") + "\n" + ReviewSection);
            await using (var db = Server.App.Services.GetRequiredService<Pilotage.Server.Storage.PilotageStore>().CreateDbContext())
            {
                foreach (var role in RoleNames)
                {
                    var queue = new Queue<string>();
                    for (var i = 0; i < 4; i++)
                    {
                        var id = $"int_held_{role}_{i}";
                        db.Approvals.Add(new Pilotage.Server.Storage.ApprovalRow { InteractionId = id, System = "held-answers", State = "pending", HeldResponse = "{}", HeldAt = DateTimeOffset.UtcNow });
                        queue.Enqueue(id);
                    }
                    _held[role] = queue;
                    var drafts = new Queue<string>();
                    for (var i = 0; i < 6; i++) drafts.Enqueue(AddDraft(db, $"int_draft_{role}_{i}"));
                    _drafts[role] = drafts;
                }
                AddDraft(db, DraftRecord);
                await db.SaveChangesAsync();
            }
            foreach (var user in RoleNames.Append("target"))
            {
                var queue = new Queue<string>();
                for (var i = 0; i < RoleNames.Length + 1; i++)
                {
                    var key = await Server.CreateKeyAsync($"{user}@example.org");
                    queue.Enqueue(key.Split('_')[1]);
                }
                _spareKeys[user] = queue;
            }
        }

        private async Task FileIncidentsAsync()
        {
            async Task<long> FileAsync(HttpClient client)
            {
                var response = await client.PostAsJsonAsync("/api/v1/incidents", new { system = "matrix-fixture", kind = "incident", severity = "low", title = "matrix" });
                response.EnsureSuccessStatusCode();
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
            }
            _incidents["other"] = await FileAsync(Server.Admin);
            foreach (var role in RoleNames)
            {
                _incidents[role] = await FileAsync(Clients[role]);
                var assigned = _incidents[$"assigned-{role}"] = await FileAsync(Server.Admin);
                (await Server.Admin.PatchAsJsonAsync($"/api/v1/incidents/{assigned}", new { assignedTo = $"{role}@example.org" })).EnsureSuccessStatusCode();
            }
        }

        /// <summary>A served draft of held-answers and its queue item, as the evidence writer would have stored them.</summary>
        private static string AddDraft(Pilotage.Server.Storage.PilotageDbContext db, string id)
        {
            db.Interactions.Add(new Pilotage.Server.Storage.InteractionRow
            {
                Id = id, CreatedAt = DateTimeOffset.UtcNow, System = "held-answers", Phase = "pilot", UserEmail = "member@example.org", KeyId = "k",
                Groups = "[]", Endpoint = "chat", Mode = "draft", Outcome = "served",
            });
            db.ReviewItems.Add(new Pilotage.Server.Storage.ReviewItemRow { InteractionId = id, System = "held-answers", Kind = "draft", State = "pending", EnqueuedAt = DateTimeOffset.UtcNow });
            return id;
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }
}
