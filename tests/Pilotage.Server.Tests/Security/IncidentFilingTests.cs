using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Dashboard;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// An incident can pause a system (a pause rule on <c>incidents_high</c>), so only the people a system
/// concerns may file one against it: its users (a group it serves now), its reviewers, its owner, admins.
/// The attack: a member of another team files a high incident to stop a system that is not theirs.
/// </summary>
public sealed class IncidentFilingTests
{
    private const string System = GatewayHarness.System;
    private const string PauseRule = "  pauseRules:\n    - { metric: incidents_high, above: 0, action: pause }";

    private static object High(string system) => new { system, kind = "incident", severity = "high", title = "Drafts promise refunds we do not give" };

    [Fact]
    public async Task A_member_of_another_team_cannot_file_against_a_system_and_so_cannot_pause_it()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full", extra: PauseRule);
        var server = harness.Server;
        var mallory = server.ClientFor(await server.CreateUserWithKeyAsync("mallory@example.org", "member", "other-team"));
        var otto = server.ClientFor(await server.CreateUserWithKeyAsync("otto@example.org", "owner"));
        var audrey = server.ClientFor(await server.CreateUserWithKeyAsync("audrey@example.org", "auditor"));

        // To a member of another team and to another system's owner the system does not exist: the same
        // answer, word for word, as for a system that really does not exist.
        using var ghost = await mallory.PostAsJsonAsync("/api/v1/incidents", High("no-such-system"));
        var ghostDetail = (await ghost.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        foreach (var attacker in new[] { mallory, otto })
        {
            using var refused = await attacker.PostAsJsonAsync("/api/v1/incidents", High(System));
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Equal(ghostDetail.Replace("no-such-system", System, StringComparison.Ordinal), detail);
        }
        // The auditor may read it, so is told why not.
        using (var auditor = await audrey.PostAsJsonAsync("/api/v1/incidents", High(System)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, auditor.StatusCode);
            Assert.Contains("does not use", await auditor.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The dashboard's form does not offer the system to Mallory, and refuses it when sent by hand.
        using (var session = new DashboardFixture.Session(server.Url))
        {
            Assert.Equal(HttpStatusCode.Redirect, (await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = await server.CreateKeyAsync("mallory@example.org") })).StatusCode);
            Assert.DoesNotContain(System, await session.Client.GetStringAsync("/dashboard/incidents"), StringComparison.Ordinal);
            using var forged = await session.PostFormAsync("/dashboard/incidents?handler=File",
                new() { ["system"] = System, ["kind"] = "incident", ["severity"] = "high", ["title"] = "forged" }, "/dashboard/incidents");
            Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        }

        // Nothing was filed and nothing fired: Mia, who uses the system, is still served.
        await Task.Delay(750);
        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            Assert.Empty(await db.Incidents.AsNoTracking().ToListAsync());
            Assert.False(await db.AuditEntries.AsNoTracking().AnyAsync(a => a.Action == "system.rule_fired"));
        }
        using var served = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
    }

    [Fact]
    public async Task Its_user_files_and_the_pause_names_who_filed_in_the_audit_trail_and_the_reason_shown()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full", extra: PauseRule);
        var server = harness.Server;
        using var filed = await harness.Member.PostAsJsonAsync("/api/v1/incidents", High(System));
        Assert.Equal(HttpStatusCode.Created, filed.StatusCode);
        var incident = (await filed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();

        var fired = await WaitAsync(server, "system.rule_fired");
        using (var after = JsonDocument.Parse(fired.After!))
        {
            var named = Assert.Single(after.RootElement.GetProperty("incidents").EnumerateArray());
            Assert.Equal(incident, named.GetProperty("id").GetInt64());
            Assert.Equal("mia@example.org", named.GetProperty("reportedBy").GetString());
        }
        var paused = await WaitAsync(server, "system.paused");
        Assert.Contains($"incident {incident} filed by mia@example.org", paused.After, StringComparison.Ordinal);

        // The reason people are shown: the gateway's refusal and the owner's dashboard.
        using var refused = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.Equal((HttpStatusCode)423, refused.StatusCode);
        Assert.Contains($"incident {incident} filed by mia@example.org", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var session = new DashboardFixture.Session(server.Url);
        Assert.Equal(HttpStatusCode.Redirect, (await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = await server.CreateKeyAsync("owner@example.org") })).StatusCode);
        Assert.Contains($"incident {incident} filed by mia@example.org", await session.Client.GetStringAsync($"/dashboard/systems/{System}"), StringComparison.Ordinal);
    }

    private static async Task<AuditEntryRow> WaitAsync(Pilotage.Testing.PilotageTestServer server, string action)
    {
        for (var attempt = 0; attempt < 400; attempt++)
        {
            await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
            var entry = await db.AuditEntries.AsNoTracking().Where(a => a.Action == action && a.Subject == $"system:{System}").FirstOrDefaultAsync();
            if (entry is not null)
            {
                await server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);
                return entry;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no {action} on record");
    }
}
