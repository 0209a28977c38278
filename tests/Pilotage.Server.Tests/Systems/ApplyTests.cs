using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Systems;

public sealed class ApplyTests
{
    private static string Example => File.ReadAllText(RepoPaths.Examples("support-reply-drafts.yaml"));

    [Fact]
    public async Task Applying_the_example_creates_a_proposed_system_and_applying_it_again_changes_nothing()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var first = await server.ApplyAsync(Example);
        Assert.True(first.GetProperty("changed").GetBoolean());
        var result = first.GetProperty("results")[0];
        Assert.Equal("support-reply-drafts", result.GetProperty("slug").GetString());
        Assert.Equal("created", result.GetProperty("action").GetString());
        Assert.Equal(1, result.GetProperty("configVersion").GetInt32());

        var system = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/systems/support-reply-drafts");
        Assert.Equal("proposed", system.GetProperty("system").GetProperty("phase").GetString());
        Assert.Equal("dana@example.org", system.GetProperty("system").GetProperty("owner").GetString());
        Assert.Equal("dana@example.org", system.GetProperty("spec").GetProperty("owner").GetString());

        var entries = await AuditCountAsync(server);
        var second = await server.ApplyAsync(Example);
        Assert.False(second.GetProperty("changed").GetBoolean());
        Assert.Equal("unchanged", second.GetProperty("results")[0].GetProperty("action").GetString());
        Assert.Equal(entries, await AuditCountAsync(server));

        // Formatting, comments and key order are not changes.
        var reformatted = "# the same system, written differently\n" + Example.Replace("purpose:", "purpose:  ", StringComparison.Ordinal);
        var third = await server.ApplyAsync(reformatted);
        Assert.False(third.GetProperty("changed").GetBoolean());
        Assert.Equal(entries, await AuditCountAsync(server));
    }

    [Fact]
    public async Task A_config_change_is_a_new_config_version_and_diff_shows_it_before_apply()
    {
        await using var server = await PilotageTestServer.StartAsync();
        await server.ApplyAsync(Example);
        var changed = Example.Replace("temperature: 0.2", "temperature: 0.7", StringComparison.Ordinal);
        Assert.NotEqual(Example, changed);

        using var diffBody = new StringContent(changed, Encoding.UTF8, "application/yaml");
        var diff = await (await server.Admin.PostAsync("/api/v1/systems/diff", diffBody)).Content.ReadFromJsonAsync<JsonElement>();
        var diffResult = diff.GetProperty("results")[0];
        Assert.Equal("update", diffResult.GetProperty("action").GetString());
        Assert.Equal(2, diffResult.GetProperty("configVersion").GetInt32());
        Assert.True(diffResult.GetProperty("changes").GetArrayLength() == 1, diffResult.ToString());
        var change = diffResult.GetProperty("changes")[0];
        Assert.Equal("spec.config.temperature", change.GetProperty("path").GetString());
        Assert.Equal("0.2", change.GetProperty("before").GetString());
        Assert.Equal("0.7", change.GetProperty("after").GetString());
        // diff changed nothing
        var still = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/systems/support-reply-drafts");
        Assert.Equal(1, still.GetProperty("system").GetProperty("configVersion").GetInt32());

        var applied = await server.ApplyAsync(changed);
        Assert.Equal("updated", applied.GetProperty("results")[0].GetProperty("action").GetString());
        Assert.Equal(2, applied.GetProperty("results")[0].GetProperty("configVersion").GetInt32());

        // A change outside config/upstream is not a new config version.
        var purpose = changed.Replace("Draft replies to customer support tickets", "Draft replies to support tickets", StringComparison.Ordinal);
        Assert.NotEqual(changed, purpose);
        var updated = await server.ApplyAsync(purpose);
        Assert.Equal(2, updated.GetProperty("results")[0].GetProperty("configVersion").GetInt32());
        var audit = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/audit?subject=system:support-reply-drafts");
        Assert.Equal(new[] { "system.created", "system.updated", "system.updated" }, audit!.Select(a => a.GetProperty("action").GetString()!).ToArray());
        Assert.Contains("0.2", audit![1].GetProperty("before").GetString(), StringComparison.Ordinal);
        Assert.Contains("0.7", audit![1].GetProperty("after").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_document_among_valid_ones_applies_nothing_and_every_error_is_located()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var entries = await AuditCountAsync(server);
        var bad = Example.Replace("name: support-reply-drafts,", "name: other-system,", StringComparison.Ordinal)
            .Replace("acceptance_rate, min: 0.8", "acceptence_rate, min: 0.8", StringComparison.Ordinal)
            .Replace("owner: dana@example.org", "owner: nobody", StringComparison.Ordinal);
        Assert.NotEqual(Example, bad);
        var request = new { documents = new[] { new { source = "good.yaml", yaml = Example }, new { source = "bad.yaml", yaml = bad } } };
        var response = await server.Admin.PostAsJsonAsync("/api/v1/systems/apply", request);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        // The misspelt metric appears in a criterion and in a gate: each is reported, with the owner.
        Assert.True(errors.Count == 3, problem.ToString());
        Assert.All(errors, e => Assert.Equal("bad.yaml", e.GetProperty("source").GetString()));
        var metric = errors.Single(e => e.GetProperty("path").GetString() == "spec.pilot.criteria[0].metric");
        Assert.Contains("did you mean acceptance_rate", metric.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(metric.GetProperty("line").GetInt32() > 0);
        Assert.Contains(errors, e => e.GetProperty("path").GetString() == "spec.owner");

        var systems = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/systems");
        Assert.Empty(systems!);
        Assert.Equal(entries, await AuditCountAsync(server));
    }

    [Fact]
    public async Task Oversized_specs_are_refused_with_a_message_that_says_how_to_fix_it()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var tenMegabytes = Example + "\n#" + new string('x', 10 * 1024 * 1024);
        using var body = new StringContent(tenMegabytes, Encoding.UTF8, "application/yaml");
        var response = await server.Admin.PostAsync("/api/v1/systems/apply", body);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MB", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var twoMegabytes = Example + "\n#" + new string('x', 2 * 1024 * 1024);
        using var body2 = new StringContent(twoMegabytes, Encoding.UTF8, "application/yaml");
        var response2 = await server.Admin.PostAsync("/api/v1/systems/apply", body2);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response2.StatusCode);
        Assert.Contains("at most 1 MB", await response2.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty((await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/systems"))!);
    }

    [Fact]
    public async Task Malformed_bodies_get_a_problem_not_a_crash()
    {
        await using var server = await PilotageTestServer.StartAsync();
        using var json = new StringContent("{\"documents\": [", Encoding.UTF8, "application/json");
        var response = await server.Admin.PostAsync("/api/v1/systems/apply", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("malformed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var yaml = new StringContent("spec: [unclosed", Encoding.UTF8, "application/yaml");
        var response2 = await server.Admin.PostAsync("/api/v1/systems/apply", yaml);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response2.StatusCode);

        using var bytes = new ByteArrayContent([0xC3, 0x28, 0xA0, 0xA1]);
        bytes.Headers.ContentType = new("application/yaml");
        var response3 = await server.Admin.PostAsync("/api/v1/systems/apply", bytes);
        Assert.Equal(HttpStatusCode.BadRequest, response3.StatusCode);
        Assert.Contains("UTF-8", await response3.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var user = new StringContent("{\"email\": 42", Encoding.UTF8, "application/json");
        var response4 = await server.Admin.PostAsync("/api/v1/users", user);
        Assert.Equal(HttpStatusCode.BadRequest, response4.StatusCode);
        Assert.Equal("application/problem+json", response4.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.OK, (await server.Anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task An_owner_may_apply_only_systems_they_own()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var dana = server.ClientFor(await server.CreateUserWithKeyAsync("dana@example.org", "owner"));
        var eve = server.ClientFor(await server.CreateUserWithKeyAsync("eve@example.org", "owner"));
        await server.ApplyAsync(Example, dana);

        var takeover = Example.Replace("owner: dana@example.org", "owner: eve@example.org", StringComparison.Ordinal);
        using var body = new StringContent(takeover, Encoding.UTF8, "application/yaml");
        var response = await eve.PostAsync("/api/v1/systems/apply", body);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        // Refused without saying whose it is: eve may not see dana's system.
        var refusal = await response.Content.ReadAsStringAsync();
        Assert.Contains("belongs to a system you do not own", refusal, StringComparison.Ordinal);
        Assert.DoesNotContain("dana@example.org", refusal, StringComparison.Ordinal);

        using var body2 = new StringContent(takeover, Encoding.UTF8, "application/yaml");
        var response2 = await dana.PostAsync("/api/v1/systems/apply", body2);
        Assert.Equal(HttpStatusCode.Forbidden, response2.StatusCode);
        var system = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/systems/support-reply-drafts");
        Assert.Equal("dana@example.org", system.GetProperty("system").GetProperty("owner").GetString());
    }

    [Fact]
    public async Task Multi_document_yaml_applies_every_system_in_one_go()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var all = string.Join("\n---\n", new[] { "support-reply-drafts.yaml", "policy-qa.yaml", "invoice-extraction.yaml" }.Select(f => File.ReadAllText(RepoPaths.Examples(f))));
        var result = await server.ApplyAsync(all);
        Assert.Equal(3, result.GetProperty("results").GetArrayLength());
        Assert.All(result.GetProperty("results").EnumerateArray(), r => Assert.Equal("created", r.GetProperty("action").GetString()));
        var systems = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/systems");
        Assert.Equal(3, systems!.Length);
    }

    [Fact]
    public async Task Apply_and_diff_tell_the_owner_which_custom_patterns_run_with_a_timeout()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var spec = Example.Replace(
            "dataBoundary: { block: [credit_card, iban], redact: [email, phone] }",
            "dataBoundary: { block: [credit_card, iban], redact: [email, phone, ticket, order], detectors: [ { name: ticket, pattern: 'T-[0-9]{4}' }, { name: order, pattern: '(?<=order )[0-9]{6}' } ] }",
            StringComparison.Ordinal);
        Assert.NotEqual(Example, spec);

        using var diffBody = new StringContent(spec, Encoding.UTF8, "application/yaml");
        var diff = await (await server.Admin.PostAsync("/api/v1/systems/diff", diffBody)).Content.ReadFromJsonAsync<JsonElement>();
        var applied = await server.ApplyAsync(spec);

        foreach (var result in new[] { diff.GetProperty("results")[0], applied.GetProperty("results")[0] })
        {
            // Only the look-behind pattern needs the backtracking engine; the other one runs in linear time, unbounded.
            var note = Assert.Single(result.GetProperty("notes").EnumerateArray()).GetString()!;
            Assert.Contains("detector 'order' runs on the backtracking engine", note, StringComparison.Ordinal);
            Assert.Contains("100 ms timeout", note, StringComparison.Ordinal);
            Assert.DoesNotContain("'ticket'", note, StringComparison.Ordinal);
        }
        var again = await server.ApplyAsync(spec);
        Assert.Equal("unchanged", again.GetProperty("results")[0].GetProperty("action").GetString());
        Assert.Single(again.GetProperty("results")[0].GetProperty("notes").EnumerateArray());
        // The example's boundary has built-in detectors only: nothing to note.
        var plain = await server.ApplyAsync(Example);
        Assert.True(plain.GetProperty("results")[0].TryGetProperty("notes", out var none) is false || none.ValueKind == JsonValueKind.Null);
    }

    private static async Task<long> AuditCountAsync(PilotageTestServer server) =>
        (await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify")).GetProperty("entries").GetInt64();
}
