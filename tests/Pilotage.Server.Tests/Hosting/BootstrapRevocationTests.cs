using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Hosting;

/// <summary>
/// The key minted from <c>PILOTAGE_ADMIN_TOKEN</c> is revoked (it leaked, say): real restarts of <c>pilotage serve</c> on
/// the same SQLite file, with the same token in the environment, must not bring it back, and the audit trail must say
/// what happened, not record a rotation that did not happen.
/// </summary>
public sealed class BootstrapRevocationTests
{
    private const string NewToken = "the-next-admin-token-after-the-leak";

    [Fact]
    public async Task An_admin_token_shaped_like_someone_elses_key_does_not_take_it_over()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        string memberKey;
        await using (var server = await PilotageTestServer.StartAsync(database))
        {
            memberKey = await server.CreateUserWithKeyAsync("mia@example.org", "member");
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // The operator's token names the member's key id with another secret: it used to replace that key's secret,
        // leaving the key with its holder, so the "admin" token became a member's key (and the member's stopped working).
        var id = Pilotage.Core.Access.ApiKeyToken.IdOf(memberKey);
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PilotageTestServer.StartAsync(database, configure: o => o with { AdminToken = $"plt_{id}_operator-chosen" }));
        Assert.Contains($"key '{id}' already exists with another secret", failure.Message, StringComparison.Ordinal);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        await using (var server = await PilotageTestServer.StartAsync(database))
        {
            Assert.Equal(HttpStatusCode.OK, (await server.ClientFor(memberKey).GetAsync("/api/v1/me")).StatusCode);
        }
    }

    [Fact]
    public async Task A_revoked_bootstrap_key_stays_revoked_across_restarts_and_a_new_token_mints_a_new_key_truthfully()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        var leaked = new Dictionary<string, string> { ["PILOTAGE_ADMIN_TOKEN"] = ServerProcess.AdminToken };
        string opsKey;
        await using (var server = await ServerProcess.StartAsync(database))
        {
            // A second admin, to look at things once the bootstrap key is gone.
            Assert.True((await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "ops@example.org", role = "admin" })).IsSuccessStatusCode);
            var created = await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "ops@example.org" });
            opsKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
            var revoked = await server.Admin.DeleteAsync("/api/v1/keys/bootstrap");
            Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Admin.GetAsync("/api/v1/me")).StatusCode);
            await server.StopAsync();
        }

        for (var restart = 1; restart <= 3; restart++)
        {
            // The environment names the token, so the start does not wait for it to be accepted.
            await using var server = await ServerProcess.StartAsync(database, environment: leaked);
            Assert.True((await server.ClientFor(opsKey).GetAsync("/api/v1/me")).IsSuccessStatusCode, server.Output);
            var me = await server.Admin.GetAsync("/api/v1/me");
            Assert.True(me.StatusCode == HttpStatusCode.Unauthorized, $"restart {restart}: the revoked token answered {(int)me.StatusCode}");
            var gateway = await server.Admin.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, gateway.StatusCode);
            Assert.Contains("key_revoked", await gateway.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            await server.StopAsync();
            Assert.Contains("PILOTAGE_ADMIN_TOKEN is the bootstrap key bootstrap, revoked at", server.Output, StringComparison.Ordinal);
        }

        await using (var server = await ServerProcess.StartAsync(database, environment: new Dictionary<string, string> { ["PILOTAGE_ADMIN_TOKEN"] = NewToken }))
        {
            var fresh = server.ClientFor(NewToken);
            var me = await fresh.GetFromJsonAsync<JsonElement>("/api/v1/me");
            Assert.Equal("admin", me.GetProperty("role").GetString());
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Admin.GetAsync("/api/v1/me")).StatusCode);

            var keys = await fresh.GetFromJsonAsync<JsonElement[]>("/api/v1/keys");
            Assert.Equal("revoked", keys!.Single(k => k.GetProperty("id").GetString() == "bootstrap").GetProperty("state").GetString());
            Assert.Equal("active", keys!.Single(k => k.GetProperty("id").GetString() == "bootstrap-2").GetProperty("state").GetString());

            var audit = (await fresh.GetStringAsync("/api/v1/audit/export")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement).ToList();
            Assert.DoesNotContain(audit, e => e.GetProperty("action").GetString() == "key.rotated");
            Assert.Single(audit, e => e.GetProperty("action").GetString() == "key.revoked" && e.GetProperty("subject").GetString() == "key:bootstrap");
            var minted = Assert.Single(audit, e => e.GetProperty("action").GetString() == "key.created" && e.GetProperty("subject").GetString() == "key:bootstrap-2");
            Assert.Contains("PILOTAGE_ADMIN_TOKEN was set to a new value", minted.GetProperty("after").GetString(), StringComparison.Ordinal);
            Assert.Contains("\"replaces\":\"bootstrap\"", minted.GetProperty("after").GetString(), StringComparison.Ordinal);
            var verified = await fresh.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
            Assert.True(verified.GetProperty("ok").GetBoolean(), verified.ToString());
            await server.StopAsync();
        }

        // Going back to the leaked value after a new one brings nothing back, and takes nothing away.
        await using (var server = await ServerProcess.StartAsync(database, environment: leaked))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await server.Admin.GetAsync("/api/v1/me")).StatusCode);
            Assert.True((await server.ClientFor(NewToken).GetAsync("/api/v1/me")).IsSuccessStatusCode);
            var audit = await server.ClientFor(opsKey).GetStringAsync("/api/v1/audit/export");
            Assert.Single(audit.Split('\n'), line => line.Contains("\"action\":\"key.created\"", StringComparison.Ordinal) && line.Contains("key:bootstrap-", StringComparison.Ordinal));
            await server.StopAsync();
        }
    }
}
