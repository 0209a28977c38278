using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

public sealed class AuditTrailTests
{
    [Fact]
    public async Task Every_state_change_appends_one_chained_entry_with_who_what_before_and_after()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var start = await CountAsync(server);
        await server.CreateUserWithKeyAsync("ana@example.org", "member", "pilot-a");
        var entries = await server.Admin.GetFromJsonAsync<JsonElement[]>($"/api/v1/audit?after={start}");
        Assert.NotNull(entries);
        // user.created, group.created (pilot-a did not exist), key.created
        Assert.Equal(new[] { "group.created", "key.created", "user.created" }, entries!.Select(e => e.GetProperty("action").GetString()!).Order().ToArray());
        Assert.All(entries, e => Assert.Equal("admin@localhost", e.GetProperty("actor").GetString()));
        for (var i = 1; i < entries.Length; i++)
        {
            Assert.Equal(entries[i - 1].GetProperty("hash").GetString(), entries[i].GetProperty("previousHash").GetString());
        }
        var userEntry = entries.Single(e => e.GetProperty("action").GetString() == "user.created");
        Assert.Equal("user:ana@example.org", userEntry.GetProperty("subject").GetString());
        Assert.Contains("pilot-a", userEntry.GetProperty("after").GetString(), StringComparison.Ordinal);

        // The secret of a key never reaches the audit trail.
        var export = await server.Admin.GetStringAsync("/api/v1/audit/export");
        Assert.DoesNotContain("plt_", export.Replace("\"key:", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var lines = export.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(await CountAsync(server), lines.Length);
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
    }

    [Fact]
    public async Task A_refused_command_leaves_no_audit_entry()
    {
        await using var server = await PilotageTestServer.StartAsync();
        await server.CreateUserWithKeyAsync("ana@example.org", "member");
        var start = await CountAsync(server);
        var duplicate = await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "ana@example.org", role = "member" });
        Assert.Equal(System.Net.HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(start, await CountAsync(server));
    }

    private static async Task<long> CountAsync(PilotageTestServer server)
    {
        var verify = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        return verify.GetProperty("entries").GetInt64();
    }
}
