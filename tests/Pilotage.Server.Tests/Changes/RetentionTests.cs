using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Changes;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Changes;

/// <summary>Retention of raw content, the purge as an audit entry, and the legal hold that blocks it — on both stores.</summary>
public sealed class RetentionTests
{
    private const string System = GatewayHarness.System;

    [Fact]
    public Task Purge_blanks_old_content_keeps_hashes_and_outcomes_and_a_legal_hold_blocks_it_on_sqlite() => ScenarioAsync(null);

    [PostgresFact]
    public async Task Purge_blanks_old_content_keeps_hashes_and_outcomes_and_a_legal_hold_blocks_it_on_postgresql()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await ScenarioAsync(database.ConnectionString);
    }

    private static async Task<string> ChatAsync(GatewayHarness harness, string text)
    {
        using var response = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(text));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task ScenarioAsync(string? database)
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full", extra: "  evidence: { contentDays: 30 }", database: database);
        var old = await ChatAsync(harness, "My card was charged twice, order 1234.");
        using (var review = await harness.Member.PostAsJsonAsync($"/v1/interactions/{old}/review", new { outcome = "edited", final_text = "We refunded the second charge on order 1234.", seconds = 30 }))
        {
            Assert.True(review.IsSuccessStatusCode, await review.Content.ReadAsStringAsync());
        }
        using (var feedback = await harness.Member.PostAsJsonAsync($"/v1/interactions/{old}/feedback", new { rating = 4, comment = "order 1234 sorted" }))
        {
            Assert.True(feedback.IsSuccessStatusCode, await feedback.Content.ReadAsStringAsync());
        }

        // Nothing is 30 days old yet: the purge blanks nothing, and is on record all the same.
        var (first, firstBody) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/purge", new { });
        Assert.True(first == HttpStatusCode.OK, firstBody.ToString());
        Assert.Equal(0, firstBody.GetProperty("interactions").GetInt32());

        harness.Time.Offset = TimeSpan.FromDays(31);
        var recent = await ChatAsync(harness, "Where is order 5678?");

        var auditor = harness.Server.ClientFor(await harness.Server.CreateUserWithKeyAsync("audrey@example.org", "auditor"));
        var (member, _) = await PostAsync(harness.Member, $"/api/v1/systems/{System}/hold", new { reason = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, member);
        var (noReason, _) = await PostAsync(auditor, $"/api/v1/systems/{System}/hold", new { });
        Assert.Equal(HttpStatusCode.BadRequest, noReason);
        var (held, heldBody) = await PostAsync(auditor, $"/api/v1/systems/{System}/hold", new { reason = "complaint 42 under investigation" });
        Assert.True(held == HttpStatusCode.OK, heldBody.ToString());

        var (blocked, blockedBody) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/purge", new { });
        Assert.Equal(HttpStatusCode.Conflict, blocked);
        Assert.Contains("legal hold", blockedBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("complaint 42", blockedBody.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var purger = harness.Server.App.Services.GetRequiredService<RetentionPurger>();
        await purger.PurgeDueAsync(CancellationToken.None);
        Assert.NotNull((await harness.InteractionAsync(old)).RequestContent);

        var (released, releasedBody) = await PostAsync(harness.Server.Admin, $"/api/v1/systems/{System}/hold/release", new { reason = "investigation closed" });
        Assert.True(released == HttpStatusCode.OK, releasedBody.ToString());

        // The scheduled purge (called directly: it runs hourly) blanks what is older than 30 days.
        await purger.PurgeDueAsync(CancellationToken.None);
        var purged = await harness.InteractionAsync(old);
        Assert.Null(purged.RequestContent);
        Assert.Null(purged.ResponseContent);
        Assert.NotNull(purged.RequestHash);
        Assert.NotNull(purged.ResponseHash);
        Assert.True(purged.TokensIn > 0);
        var kept = await harness.InteractionAsync(recent);
        Assert.Contains("5678", kept.RequestContent, StringComparison.Ordinal);

        await using var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var reviewRow = await db.Reviews.AsNoTracking().SingleAsync(r => r.InteractionId == old);
        Assert.Equal("edited", reviewRow.Outcome);
        Assert.Null(reviewRow.FinalText);
        Assert.NotNull(reviewRow.Rework);
        Assert.Null((await db.Feedback.AsNoTracking().SingleAsync(f => f.InteractionId == old)).Comment);
        Assert.Equal(4, (await db.Feedback.AsNoTracking().SingleAsync(f => f.InteractionId == old)).Rating);

        var entries = await db.AuditEntries.AsNoTracking().Where(e => e.Action == "evidence.purged").OrderBy(e => e.Sequence).ToListAsync();
        Assert.Equal(2, entries.Count);
        var counts = JsonDocument.Parse(entries[1].After!).RootElement;
        Assert.Equal(1, counts.GetProperty("interactions").GetInt32());
        Assert.Equal(1, counts.GetProperty("reviews").GetInt32());
        Assert.Equal(1, counts.GetProperty("feedback").GetInt32());
        Assert.Equal(30, counts.GetProperty("olderThanDays").GetInt32());
        Assert.Equal(["system.legal_hold_placed", "system.legal_hold_released"],
            await db.AuditEntries.AsNoTracking().Where(e => e.Action.StartsWith("system.legal_hold")).OrderBy(e => e.Sequence).Select(e => e.Action).ToListAsync());

        // Nothing left to blank: the scheduled purge writes no entry.
        await purger.PurgeDueAsync(CancellationToken.None);
        Assert.Equal(2, await db.AuditEntries.AsNoTracking().CountAsync(e => e.Action == "evidence.purged"));

        using var verify = await harness.Server.Admin.GetAsync("/api/v1/audit/verify");
        Assert.Contains("\"ok\":true", await verify.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_released_held_answer_is_purged_to_a_notice_the_app_can_still_read()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "approval");
        using var held = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Refund order 1234?"));
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        var id = held.Headers.GetValues("x-pilotage-interaction-id").Single();
        var (released, releasedBody) = await PostAsync(harness.Server.Admin, $"/api/v1/approvals/{id}/release", new { reason = "fine" });
        Assert.True(released == HttpStatusCode.OK, releasedBody.ToString());

        harness.Time.Offset = TimeSpan.FromDays(8);
        var (purged, purgedBody) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/purge", new { olderThanDays = 7 });
        Assert.True(purged == HttpStatusCode.OK, purgedBody.ToString());
        Assert.Equal(1, purgedBody.GetProperty("approvals").GetInt32());

        using var fetched = await harness.Member.GetAsync($"/v1/interactions/{id}");
        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal("pilotage.purged", JsonDocument.Parse(await fetched.Content.ReadAsStringAsync()).RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task Without_a_retention_period_a_purge_needs_an_age()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "full");
        var (status, body) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/purge", new { });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("contentDays", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var (ok, okBody) = await PostAsync(harness.Owner, $"/api/v1/systems/{System}/purge", new { olderThanDays = 7 });
        Assert.True(ok == HttpStatusCode.OK, okBody.ToString());
        Assert.Equal(7, okBody.GetProperty("olderThanDays").GetInt32());
    }
}
