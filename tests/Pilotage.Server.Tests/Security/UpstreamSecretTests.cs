using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// A system owner chooses <c>upstream.baseUrl</c> and <c>upstream.apiKeyEnv</c>; the gateway sends that variable as a
/// Bearer token to that address. These attacks try to make it send one of the server's own secrets (the admin token,
/// the webhook secret) or a key meant for another host, and check that no secret comes back out through an error, the
/// logs, the evidence, the audit trail or a report.
/// </summary>
public sealed class UpstreamSecretTests
{
    private const string WebhookSecret = "whsec-upstream-attack-5c1d";
    private const string SmuggledValue = "smuggled-value-77f3e1";

    [Fact]
    public async Task An_owner_cannot_send_the_servers_own_secrets_to_a_listener_of_their_own_not_even_from_a_stored_spec()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        await using var listener = await FakeUpstream.StartAsync(); // the owner's own server, waiting for a Bearer token
        var environment = new Dictionary<string, string>
        {
            ["PILOTAGE_WEBHOOK_SECRET"] = WebhookSecret,
            ["SMUGGLE_TOKEN"] = SmuggledValue,
            // The configuration's list (Pilotage:UpstreamSecrets), as an operator sets it in the environment.
            ["Pilotage__UpstreamSecrets"] = "SMUGGLE_TOKEN",
        };
        string ownerKey, memberKey;
        await using (var server = await ServerProcess.StartAsync(database, environment: environment))
        {
            await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" });
            await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "mia@example.org", role = "member", groups = new[] { GatewayHarness.Group } });
            ownerKey = await KeyAsync(server.Admin, "owner@example.org");
            memberKey = await KeyAsync(server.Admin, "mia@example.org");
            var owner = server.ClientFor(ownerKey);

            foreach (var variable in new[] { "PILOTAGE_ADMIN_TOKEN", "PILOTAGE_WEBHOOK_SECRET", "PILOTAGE_DB", "pilotage_admin_token", "DATABASE_PASSWORD" })
            {
                var refused = await ApplyAsync(owner, Spec(listener.BaseUrl, variable));
                var body = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.UnprocessableEntity, $"{variable}: {(int)refused.StatusCode} {body}");
                Assert.Contains("\"path\":\"spec.upstream.apiKeyEnv\"", body, StringComparison.Ordinal);
                Assert.Contains("upstream.apiKeyEnv", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
                Assert.Contains("--upstream-secret", body, StringComparison.Ordinal);
                AssertNoSecret(body, variable);
            }
            Assert.Empty(listener.Received);

            // A variable the operator allowed in the configuration is sent.
            var applied = await ApplyAsync(owner, Spec(listener.BaseUrl, "SMUGGLE_TOKEN"));
            Assert.True(applied.IsSuccessStatusCode, await applied.Content.ReadAsStringAsync());
            Assert.True((await server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "pilot", reason = "attack test" })).IsSuccessStatusCode);
            var served = await server.ClientFor(memberKey).PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal("Bearer " + SmuggledValue, Assert.Single(listener.Authorizations));
            await server.StopAsync();
        }

        // The operator takes SMUGGLE_TOKEN off the list: the stored spec still names it, and the gateway must not send it.
        environment.Remove("Pilotage__UpstreamSecrets");
        await using (var server = await ServerProcess.StartAsync(database, environment: environment))
        {
            var refused = await server.ClientFor(memberKey).PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello again"));
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == HttpStatusCode.BadGateway, body);
            Assert.Equal("upstream_secret_refused", JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("SMUGGLE_TOKEN", body, StringComparison.Ordinal);
            Assert.DoesNotContain(SmuggledValue, body, StringComparison.Ordinal);
            Assert.Single(listener.Received);
            await server.StopAsync();
        }

        // A spec stored by a version without this check, naming the admin token itself.
        SqliteConnection.ClearAllPools();
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE ai_systems SET spec_json = replace(spec_json, '\"SMUGGLE_TOKEN\"', '\"PILOTAGE_ADMIN_TOKEN\"')";
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }
        SqliteConnection.ClearAllPools();
        await using (var server = await ServerProcess.StartAsync(database, environment: environment))
        {
            var member = server.ClientFor(memberKey);
            foreach (var stream in new[] { false, true })
            {
                var refused = await member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("give me the admin token", stream));
                var body = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.BadGateway, body);
                Assert.Contains("upstream_secret_refused", body, StringComparison.Ordinal);
                Assert.Contains("PILOTAGE_", body, StringComparison.Ordinal);
                AssertNoSecret(body, "gateway refusal");
            }
            var embeddings = await member.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = "x" });
            Assert.Equal(HttpStatusCode.BadGateway, embeddings.StatusCode);
            Assert.Single(listener.Received);
            Assert.Single(listener.Authorizations);

            // Nothing the server keeps or shows holds a secret: the audit trail, the report, the process's own output.
            AssertNoSecret(await server.Admin.GetStringAsync("/api/v1/audit/export"), "audit trail");
            foreach (var format in new[] { "json", "html", "md" })
            {
                AssertNoSecret(await server.Admin.GetStringAsync($"/api/v1/systems/{GatewayHarness.System}/report?format={format}"), $"{format} report");
            }
            await server.StopAsync();
            Assert.Contains("Upstream call of support-drafts refused", server.Output, StringComparison.Ordinal);
            AssertNoSecret(server.Output, "server output");
        }
        await using (var connection = new SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            await using var dump = connection.CreateCommand();
            dump.CommandText = "SELECT coalesce(refusal_reason, '') || coalesce(error, '') || coalesce(request_content, '') || coalesce(response_content, '') FROM interactions";
            await using var rows = await dump.ExecuteReaderAsync();
            while (await rows.ReadAsync()) AssertNoSecret(rows.GetString(0), "evidence record");
        }
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_key_bound_to_a_host_goes_nowhere_else_and_with_no_list_only_API_KEY_names_pass()
    {
        await using var listener = await FakeUpstream.StartAsync();
        await using (var server = await PilotageTestServer.StartAsync(configure: o => o with { UpstreamSecrets = ["OPENAI_API_KEY=api.openai.com", "LOCAL_MODEL_KEY"] }))
        {
            var bound = await ApplyAsync(server.Admin, Spec(listener.BaseUrl, "OPENAI_API_KEY"));
            var body = await bound.Content.ReadAsStringAsync();
            Assert.True(bound.StatusCode == HttpStatusCode.UnprocessableEntity, body);
            Assert.Contains("sends only to api.openai.com, not to 127.0.0.1", body, StringComparison.Ordinal);
            Assert.Contains("--upstream-secret NAME=HOST", body, StringComparison.Ordinal);

            var unlisted = await ApplyAsync(server.Admin, Spec(listener.BaseUrl, "MISTRAL_API_KEY"));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, unlisted.StatusCode);
            Assert.Contains("it allows OPENAI_API_KEY, LOCAL_MODEL_KEY", await unlisted.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            Assert.True((await ApplyAsync(server.Admin, Spec(listener.BaseUrl, "LOCAL_MODEL_KEY"))).IsSuccessStatusCode);
        }
        await using (var server = await PilotageTestServer.StartAsync())
        {
            var diff = await server.Admin.PostAsync("/api/v1/systems/diff", new StringContent(Spec(listener.BaseUrl, "LOCAL_MODEL_KEY"), Encoding.UTF8, "application/yaml"));
            var body = await diff.Content.ReadAsStringAsync();
            Assert.True(diff.StatusCode == HttpStatusCode.UnprocessableEntity, body);
            Assert.Contains("end in _API_KEY", body, StringComparison.Ordinal);
            Assert.True((await ApplyAsync(server.Admin, Spec(listener.BaseUrl, "MISTRAL_API_KEY"))).IsSuccessStatusCode);
        }
        Assert.Empty(listener.Received);
    }

    [Fact]
    public async Task An_upstream_that_quotes_the_key_back_passes_it_to_no_caller_log_record_audit_entry_or_report()
    {
        const string Variable = "QUOTED_TEST_API_KEY";
        const string Secret = "sk-quoted-SECRET-3e9d1f";
        const string Refused = "REFUSED_TEST_SECRET";
        const string RefusedValue = "refused-value-c8a2";
        Environment.SetEnvironmentVariable(Variable, Secret);
        Environment.SetEnvironmentVariable(Refused, RefusedValue);
        var logs = new CapturingLoggerProvider();
        try
        {
            await using var h = await GatewayHarness.StartAsync(configure: o => o with { LogLevel = LogLevel.Trace, LoggerProviders = [logs] });
            var refusedApply = await ApplyAsync(h.Owner, Spec(h.Upstream.BaseUrl, Refused));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refusedApply.StatusCode);
            Assert.DoesNotContain(RefusedValue, await refusedApply.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            await h.Server.ApplyAsync(Spec(h.Upstream.BaseUrl, Variable), h.Owner);
            h.Upstream.Behaviour = UpstreamBehaviour.QuoteKey;
            var quoted = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
            var body = await quoted.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, quoted.StatusCode);
            Assert.Equal("Bearer " + Secret, h.Upstream.Authorizations.Last());
            Assert.Contains("the key 'Bearer [upstream key]' is not valid", body, StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, body, StringComparison.Ordinal);

            var record = await h.InteractionAsync(quoted.Headers.GetValues("x-pilotage-interaction-id").Single());
            Assert.Contains("[upstream key]", record.RefusalReason, StringComparison.Ordinal);
            var store = h.Server.App.Services.GetRequiredService<PilotageStore>();
            await using (var db = store.CreateDbContext())
            {
                foreach (var row in await db.Interactions.AsNoTracking().ToListAsync())
                {
                    Assert.DoesNotContain(Secret, $"{row.RefusalReason}{row.Error}{row.RequestContent}{row.ResponseContent}", StringComparison.Ordinal);
                }
            }
            var audit = await h.Server.Admin.GetStringAsync("/api/v1/audit/export");
            Assert.Contains(Variable, audit, StringComparison.Ordinal); // the name is in the spec, which the trail keeps
            Assert.DoesNotContain(Secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(RefusedValue, audit, StringComparison.Ordinal);
            foreach (var format in new[] { "json", "html", "md" })
            {
                Assert.DoesNotContain(Secret, await h.Server.Admin.GetStringAsync($"/api/v1/systems/{GatewayHarness.System}/report?format={format}"), StringComparison.Ordinal);
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(Variable, null);
            Environment.SetEnvironmentVariable(Refused, null);
        }
        var lines = logs.Lines.ToArray();
        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => l.Contains(Secret, StringComparison.Ordinal) || l.Contains(RefusedValue, StringComparison.Ordinal));
    }

    private static void AssertNoSecret(string text, string where)
    {
        foreach (var secret in new[] { ServerProcess.AdminToken, WebhookSecret, SmuggledValue })
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} holds '{secret}'");
        }
    }

    private static async Task<string> KeyAsync(HttpClient admin, string email)
    {
        var response = await admin.PostAsJsonAsync("/api/v1/keys", new { user = email });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
    }

    internal static Task<HttpResponseMessage> ApplyAsync(HttpClient client, string yaml) =>
        client.PostAsync("/api/v1/systems/apply", new StringContent(yaml, Encoding.UTF8, "application/yaml"));

    internal static string Spec(string baseUrl, string? variable) =>
        GatewayHarness.Spec(GatewayHarness.System, baseUrl, "full", "")
            .Replace("    model: fake-model", variable is null ? "    model: fake-model" : $"    model: fake-model\n    apiKeyEnv: {variable}", StringComparison.Ordinal);
}
