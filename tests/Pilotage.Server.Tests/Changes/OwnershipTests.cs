using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Changes;

/// <summary>Handover needs the new owner's acceptance; a deactivated owner leaves the system orphaned and (by default) restricted to approval.</summary>
public sealed class OwnershipTests
{
    private const string System = GatewayHarness.System;

    private static async Task<HttpResponseMessage> ChatAsync(GatewayHarness harness) =>
        await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));

    private static async Task<JsonElement> SummaryAsync(GatewayHarness harness)
    {
        using var response = await harness.Server.Admin.GetAsync($"/api/v1/systems/{System}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("system").Clone();
    }

    private static async Task DeactivateOwnerAsync(GatewayHarness harness)
    {
        using var response = await harness.Server.Admin.PatchAsJsonAsync("/api/v1/users/owner@example.org", new { active = false });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_deactivated_owner_restricts_the_system_to_approval_until_a_new_owner_accepts()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full");
        using (var before = await ChatAsync(harness))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            Assert.Equal("full", before.Headers.GetValues("x-pilotage-mode").Single());
        }

        await DeactivateOwnerAsync(harness);
        Assert.True((await SummaryAsync(harness)).GetProperty("orphaned").GetBoolean());
        using (var held = await ChatAsync(harness))
        {
            Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
            Assert.Equal("approval", held.Headers.GetValues("x-pilotage-mode").Single());
        }

        var noraKey = await harness.Server.CreateUserWithKeyAsync("nora@example.org", "owner");
        var nora = harness.Server.ClientFor(noraKey);
        var otherKey = await harness.Server.CreateUserWithKeyAsync("otto@example.org", "owner");
        using (var member = await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/handover", new { to = "mia@example.org" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, member.StatusCode);
            Assert.Contains("owner", await member.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var proposed = await harness.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/handover", new { to = "nora@example.org", reason = "dana left" }))
        {
            var body = await proposed.Content.ReadAsStringAsync();
            Assert.True(proposed.IsSuccessStatusCode, body);
            Assert.Equal("nora@example.org", JsonDocument.Parse(body).RootElement.GetProperty("pendingOwner").GetString());
        }
        // Proposed is not accepted: still orphaned, still held.
        using (var stillHeld = await ChatAsync(harness)) Assert.Equal(HttpStatusCode.Accepted, stillHeld.StatusCode);
        using (var wrong = await harness.Server.ClientFor(otherKey).PostAsync($"/api/v1/systems/{System}/handover/accept", null))
        {
            // Another owner may not even see the system: it does not exist for them, and nothing names nora.
            Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
            Assert.DoesNotContain("nora@example.org", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var admin = await harness.Server.Admin.PostAsync($"/api/v1/systems/{System}/handover/accept", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        }

        using (var accepted = await nora.PostAsync($"/api/v1/systems/{System}/handover/accept", null))
        {
            Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        }
        var summary = await SummaryAsync(harness);
        Assert.Equal("nora@example.org", summary.GetProperty("owner").GetString());
        Assert.False(summary.GetProperty("orphaned").GetBoolean());
        using (var after = await ChatAsync(harness))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
            Assert.Equal("full", after.Headers.GetValues("x-pilotage-mode").Single());
        }
        // The new owner now operates the system; the spec names them.
        using (var pause = await nora.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "checking the prompts" }))
        {
            Assert.True(pause.IsSuccessStatusCode, await pause.Content.ReadAsStringAsync());
        }

        await using var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleAsync(s => s.Slug == System);
        Assert.Contains("\"owner\":\"nora@example.org\"", row.SpecJson, StringComparison.Ordinal);
        Assert.Null(row.PendingOwner);
        var actions = await db.AuditEntries.AsNoTracking().Where(e => e.Action.StartsWith("system.handover_")).OrderBy(e => e.Sequence).Select(e => e.Action).ToListAsync();
        Assert.Equal(["system.handover_requested", "system.handover_accepted"], actions);
    }

    [Fact]
    public async Task With_the_serve_setting_an_orphaned_system_keeps_serving_but_shows_as_orphaned()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full",
            configure: o => o with { OrphanedSystems = Pilotage.Server.Policy.OrphanedSystems.Serve });
        await DeactivateOwnerAsync(harness);
        Assert.True((await SummaryAsync(harness)).GetProperty("orphaned").GetBoolean());
        using var response = await ChatAsync(harness);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("full", response.Headers.GetValues("x-pilotage-mode").Single());
    }

    [Fact]
    public async Task The_owner_hands_over_and_the_proposed_owner_may_decline()
    {
        await using var harness = await GatewayHarness.StartAsync();
        var noraKey = await harness.Server.CreateUserWithKeyAsync("nora@example.org", "owner");
        var nora = harness.Server.ClientFor(noraKey);
        using (var missing = await harness.Owner.PostAsJsonAsync($"/api/v1/systems/{System}/handover", new { }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        }
        using (var proposed = await harness.Owner.PostAsJsonAsync($"/api/v1/systems/{System}/handover", new { to = "nora@example.org" }))
        {
            Assert.True(proposed.IsSuccessStatusCode, await proposed.Content.ReadAsStringAsync());
        }
        using (var declined = await nora.DeleteAsync($"/api/v1/systems/{System}/handover"))
        {
            Assert.True(declined.IsSuccessStatusCode, await declined.Content.ReadAsStringAsync());
        }
        using (var nothing = await nora.PostAsync($"/api/v1/systems/{System}/handover/accept", null))
        {
            // Declined, nora is no longer its proposed owner, so the system is no longer hers to see.
            Assert.Equal(HttpStatusCode.NotFound, nothing.StatusCode);
        }
        Assert.Equal("owner@example.org", (await SummaryAsync(harness)).GetProperty("owner").GetString());
    }
}
