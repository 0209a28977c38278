using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Notifications;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.PauseRules;

/// <summary>Pause rules end to end: a real server, the fake upstream, reviews through the API.</summary>
public sealed class PauseRuleTests
{
    private const string System = GatewayHarness.System;

    private static string Rules(params string[] rules) => "  pauseRules:\n" + string.Join("\n", rules.Select(r => "    - " + r));

    private static async Task<string> ChatAsync(PilotageTestServer server, HttpClient member, HttpStatusCode expected = HttpStatusCode.OK, string system = System)
    {
        using var response = await member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?", model: system));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        return response.IsSuccessStatusCode ? response.Headers.GetValues("x-pilotage-interaction-id").Single() : body;
    }

    private static async Task ReviewAsync(PilotageTestServer server, string id, string outcome)
    {
        using var response = await server.Admin.PostAsJsonAsync($"/api/v1/interactions/{id}/review", new { outcome, reason = "test review" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<AuditEntryRow>> FiredAsync(PilotageTestServer server, string system = System)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        return await db.AuditEntries.AsNoTracking().Where(a => a.Action == "system.rule_fired" && a.Subject == $"system:{system}").OrderBy(a => a.Sequence).ToListAsync();
    }

    /// <summary>Waits until <paramref name="count"/> rule firings are on record.</summary>
    private static async Task<AuditEntryRow> WaitFiredAsync(PilotageTestServer server, int count = 1, string system = System)
    {
        // Up to 20 s: under a full test run's load the engine's queue can take more than a few seconds to drain.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var fired = await FiredAsync(server, system);
            if (fired.Count >= count)
            {
                // The entry is visible once the rule's command commits; the command then swaps the gateway's
                // snapshot before it returns. Waiting for that swap here keeps the test from racing it.
                await server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);
                return fired[count - 1];
            }
            await Task.Delay(25);
        }
        throw new TimeoutException($"no rule fired ({count} expected)");
    }

    /// <summary>Lets the engine process what is queued, for tests asserting that nothing fires.</summary>
    private static Task SettleAsync() => Task.Delay(750);

    [Fact]
    public async Task Rejections_pause_the_system_the_next_request_is_refused_and_it_does_not_flap_after_resume()
    {
        await using var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: rejection_rate, over: 5, above: 0.5, action: pause }"));
        var server = harness.Server;
        var ids = new List<string>();
        for (var i = 0; i < 5; i++) ids.Add(await ChatAsync(server, harness.Member));
        // Four reviews: the count window is not full, so 2 of 4 rejected does not fire.
        await ReviewAsync(server, ids[0], "rejected");
        await ReviewAsync(server, ids[1], "accepted");
        await ReviewAsync(server, ids[2], "rejected");
        await ReviewAsync(server, ids[3], "accepted");
        await SettleAsync();
        Assert.Empty(await FiredAsync(server));
        await ReviewAsync(server, ids[4], "rejected");

        var fired = await WaitFiredAsync(server);
        using (var after = JsonDocument.Parse(fired.After!))
        {
            var root = after.RootElement;
            Assert.Equal("rejection_rate", root.GetProperty("metric").GetString());
            Assert.Equal(0.6, root.GetProperty("figure").GetDouble(), 6);
            Assert.Equal(0.5, root.GetProperty("threshold").GetDouble(), 6);
            Assert.Equal("the last 5 reviews", root.GetProperty("window").GetString());
            Assert.Equal(5, root.GetProperty("n").GetInt64());
            Assert.Equal("pause", root.GetProperty("action").GetString());
        }
        Assert.Equal("pause rule: rejection_rate", fired.Actor);

        var refused = await ChatAsync(server, harness.Member, HttpStatusCode.Locked);
        Assert.Contains("system_paused", refused, StringComparison.Ordinal);
        Assert.Contains("rejection_rate 0.6 over the last 5 reviews is above 0.5", refused, StringComparison.Ordinal);

        // A person resumes with a reason: the window starts again, so two more rejections do not re-fire.
        using (var resume = await harness.Owner.PostAsJsonAsync($"/api/v1/systems/{System}/resume", new { reason = "prompt fixed" }))
        {
            Assert.True(resume.IsSuccessStatusCode, await resume.Content.ReadAsStringAsync());
        }
        var fresh = new List<string>();
        for (var i = 0; i < 5; i++) fresh.Add(await ChatAsync(server, harness.Member));
        await ReviewAsync(server, fresh[0], "rejected");
        await ReviewAsync(server, fresh[1], "rejected");
        await SettleAsync();
        Assert.Single(await FiredAsync(server));
        await ChatAsync(server, harness.Member);

        // Five new reviews fill the window again: now it fires a second time.
        await ReviewAsync(server, fresh[2], "rejected");
        await ReviewAsync(server, fresh[3], "accepted");
        await ReviewAsync(server, fresh[4], "accepted");
        await WaitFiredAsync(server, 2);
        await ChatAsync(server, harness.Member, HttpStatusCode.Locked);
    }

    [Fact]
    public async Task Restrict_in_rollout_holds_the_next_answer_for_approval()
    {
        const string rollout = "  rollout:\n    - { name: team, groups: [support-pilot], mode: draft }\n";
        await using var harness = await GatewayHarness.StartAsync(extra: rollout + Rules("{ metric: rejection_rate, over: 2, above: 0.4, action: restrict, to: approval }"));
        var server = harness.Server;
        // Test set-up, not the subject: moving to rollout through decisions needs a test run and gates.
        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("UPDATE ai_systems SET phase = 'Rollout', stage = 0, last_decision = 'Proceed' WHERE slug = 'support-drafts'");
        }
        await server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);
        var a = await ChatAsync(server, harness.Member);
        var b = await ChatAsync(server, harness.Member);
        await ReviewAsync(server, a, "rejected");
        await ReviewAsync(server, b, "rejected");
        var fired = await WaitFiredAsync(server);
        Assert.Contains("\"action\":\"restrict\"", fired.After, StringComparison.Ordinal);
        await ChatAsync(server, harness.Member, HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task Restrict_in_a_pilot_pauses_instead_and_says_why()
    {
        await using var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: rejection_rate, over: 1, above: 0.4, action: restrict, to: approval }"));
        var server = harness.Server;
        await ReviewAsync(server, await ChatAsync(server, harness.Member), "rejected");
        var fired = await WaitFiredAsync(server);
        Assert.Contains("a pilot cannot be restricted", fired.After, StringComparison.Ordinal);
        var refused = await ChatAsync(server, harness.Member, HttpStatusCode.Locked);
        Assert.Contains("system_paused", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_records_and_delivers_and_the_system_keeps_serving()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var webhook = new WebhookOptions { Url = "http://127.0.0.1:9/hook", RetryDelay = TimeSpan.FromMinutes(5), PollInterval = TimeSpan.FromMinutes(5) };
        await using var server = await PilotageTestServer.StartAsync(configure: o => o with { Webhook = webhook });
        var member = server.ClientFor(await server.CreateUserWithKeyAsync("mia@example.org", "member", GatewayHarness.Group));
        await server.CreateUserWithKeyAsync("owner@example.org", "owner");
        await server.ApplyAsync(GatewayHarness.Spec(System, upstream.BaseUrl, "draft", Rules("{ metric: rejection_rate, over: 2, above: 0.4, action: notify }")));
        using (var pilot = await server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/decisions", new { outcome = "pilot", reason = "test" }))
        {
            Assert.True(pilot.IsSuccessStatusCode);
        }
        await ReviewAsync(server, await ChatAsync(server, member), "rejected");
        await ReviewAsync(server, await ChatAsync(server, member), "rejected");
        await WaitFiredAsync(server);
        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            Assert.True(await db.WebhookDeliveries.AnyAsync(d => d.Event == "system.rule_fired"));
        }
        await ChatAsync(server, member);

        // Still above the threshold: a notify rule fires once per crossing, not on every review.
        await ReviewAsync(server, await ChatAsync(server, member), "rejected");
        await SettleAsync();
        Assert.Single(await FiredAsync(server));
    }

    [Fact]
    public async Task Rollback_puts_the_previous_configuration_in_force_for_the_next_request()
    {
        var rules = Rules("{ metric: rejection_rate, over: 2, above: 0.4, action: rollback }");
        await using var harness = await GatewayHarness.StartAsync(extra: rules);
        var server = harness.Server;
        var changed = GatewayHarness.Spec(System, harness.Upstream.BaseUrl, "draft", rules)
            .Replace("You draft polite replies to support tickets.", "You answer in pirate speak.", StringComparison.Ordinal);
        await server.ApplyAsync(changed);
        var a = await ChatAsync(server, harness.Member);
        Assert.Contains("pirate", harness.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);
        var b = await ChatAsync(server, harness.Member);
        await ReviewAsync(server, a, "rejected");
        await ReviewAsync(server, b, "rejected");
        var fired = await WaitFiredAsync(server);
        Assert.Contains("rolled back to the configuration of version 1", fired.After, StringComparison.Ordinal);

        await ChatAsync(server, harness.Member);
        var sent = harness.Upstream.LastRequest.ToJsonString();
        Assert.Contains("You draft polite replies to support tickets.", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("pirate", sent, StringComparison.Ordinal);
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.True(await db.AuditEntries.AnyAsync(e => e.Action == "system.config_rolled_back" && e.Subject == $"system:{System}"));
    }

    [Fact]
    public async Task A_time_window_on_error_rate_fires_when_the_upstream_fails()
    {
        await using var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: error_rate, window: 1h, above: 0.5, action: pause }"));
        harness.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        for (var i = 0; i < 10; i++)
        {
            using var response = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
            Assert.False(response.IsSuccessStatusCode);
        }
        var fired = await WaitFiredAsync(harness.Server);
        Assert.Contains("\"window\":\"the last 1h\"", fired.After, StringComparison.Ordinal);
        harness.Upstream.Behaviour = UpstreamBehaviour.Answer;
        await ChatAsync(harness.Server, harness.Member, HttpStatusCode.Locked);
    }

    [Fact]
    public async Task Windows_are_rebuilt_from_the_store_after_a_restart()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        var ids = new List<string>();
        string memberKey;
        await using (var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: rejection_rate, over: 5, above: 0.5, action: pause }"), database: database))
        {
            for (var i = 0; i < 5; i++) ids.Add(await ChatAsync(harness.Server, harness.Member));
            await ReviewAsync(harness.Server, ids[0], "rejected");
            await ReviewAsync(harness.Server, ids[1], "rejected");
            await ReviewAsync(harness.Server, ids[2], "accepted");
            await ReviewAsync(harness.Server, ids[3], "accepted");
            await SettleAsync();
            Assert.Empty(await FiredAsync(harness.Server));
            memberKey = harness.MemberKey;
        }
        await using var upstream = await FakeUpstream.StartAsync();
        await using var server = await PilotageTestServer.StartAsync(database);
        // One more rejection fills the window seeded from the store: 3 of 5.
        await ReviewAsync(server, ids[4], "rejected");
        var fired = await WaitFiredAsync(server);
        Assert.Contains("\"n\":5", fired.After, StringComparison.Ordinal);
        using var response = await server.ClientFor(memberKey).PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.Equal(HttpStatusCode.Locked, response.StatusCode);
    }
}
