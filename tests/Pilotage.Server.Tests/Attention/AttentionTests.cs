using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Attention;

/// <summary>
/// Attention items through a real server and a real loopback upstream: upstream errors, refusals by
/// reason, a stale pilot, an expired pilot and a pause become items with their figure and a link, read
/// from the roll-ups (they survive the raw interactions being gone), with thresholds from the settings.
/// </summary>
public sealed class AttentionTests
{
    private const string System = GatewayHarness.System;

    private static async Task<JsonElement[]> ItemsAsync(GatewayHarness h, string? slug = System)
    {
        var path = slug is null ? "/api/v1/attention" : $"/api/v1/systems/{slug}/attention";
        return (await h.Server.Admin.GetFromJsonAsync<JsonElement[]>(path))!;
    }

    private static JsonElement? Item(JsonElement[] items, string kind) =>
        items.Where(i => i.GetProperty("kind").GetString() == kind).Select(i => (JsonElement?)i).FirstOrDefault();

    [Fact]
    public async Task A_system_whose_every_request_fails_upstream_is_a_bad_item_with_the_rate_and_the_reasons()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        Assert.Null(Item(await ItemsAsync(h), "upstream_errors"));
        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.BadGateway, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        }

        var item = Item(await ItemsAsync(h), "upstream_errors") ?? throw new Xunit.Sdk.XunitException("no upstream_errors item");
        Assert.Equal("bad", item.GetProperty("level").GetString());
        Assert.Equal(1.0, item.GetProperty("figure").GetDouble());
        Assert.Equal("ratio", item.GetProperty("unit").GetString());
        var host = new Uri(h.Upstream.BaseUrl).Authority;
        Assert.StartsWith($"4 of 4 upstream calls to {host} failed in the last 24 h (100 %; upstream_error 4)", item.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/dashboard/systems/{System}/report?handler=Full#controls", item.GetProperty("link").GetString());
        // The portfolio view of the API has the same item.
        Assert.Contains(await ItemsAsync(h, null), i => i.GetProperty("system").GetString() == System && i.GetProperty("kind").GetString() == "upstream_errors");
        // The report's controls count the failures by reason from the same roll-up.
        var report = await h.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{System}/report?format=json");
        var failures = report.GetProperty("controls").GetProperty("failuresByReason").EnumerateArray().Single();
        Assert.Equal(("upstream_error", 4L), (failures.GetProperty("code").GetString(), failures.GetProperty("count").GetInt64()));
    }

    [Fact]
    public async Task Refusals_by_reason_are_an_item_and_come_from_the_roll_ups_not_the_raw_interactions()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olaf@example.org", "member", "sales"));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await outsider.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        // Refusals are recorded asynchronously: wait until all four requests are counted.
        for (var attempt = 0; attempt < 100 && await h.InteractionCountAsync() < 4; attempt++) await Task.Delay(50);

        // With the raw records gone, the item (and the report's breakdown) still stand: they are read from the roll-ups.
        await using (var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("DELETE FROM interactions");
        }
        var item = Item(await ItemsAsync(h), "refusals") ?? throw new Xunit.Sdk.XunitException("no refusals item");
        Assert.Equal("bad", item.GetProperty("level").GetString());
        Assert.Equal("3 of 4 requests refused in the last 24 h (75 %; not_in_allowed_group 3)", item.GetProperty("text").GetString());
        Assert.Equal(0.75, item.GetProperty("figure").GetDouble());
        var report = await h.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{System}/report?format=json");
        Assert.Contains(report.GetProperty("controls").GetProperty("refusalsByReason").EnumerateArray(),
            r => r.GetProperty("code").GetString() == "not_in_allowed_group" && r.GetProperty("count").GetInt64() == 3);
    }

    [Fact]
    public async Task A_running_pilot_nobody_uses_becomes_stale_until_someone_uses_it()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        Assert.Null(Item(await ItemsAsync(h), "stale_pilot"));
        h.Time.Offset = TimeSpan.FromDays(4);
        var stale = Item(await ItemsAsync(h), "stale_pilot") ?? throw new Xunit.Sdk.XunitException("no stale_pilot item");
        Assert.Equal("warn", stale.GetProperty("level").GetString());
        Assert.StartsWith("No real request since the pilot started 4 days ago, although the pilot is running; ask the pilot group support-pilot", stale.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("hours", stale.GetProperty("unit").GetString());
        Assert.InRange(stale.GetProperty("figure").GetDouble(), 95.9, 96.1);

        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        Assert.Null(Item(await ItemsAsync(h), "stale_pilot"));
        h.Time.Offset = TimeSpan.FromDays(8);
        var again = Item(await ItemsAsync(h), "stale_pilot") ?? throw new Xunit.Sdk.XunitException("no stale_pilot item after the last use");
        Assert.StartsWith("No real request for 3.9 days (the last one before ", again.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pilot_past_its_end_date_without_a_decision_is_a_bad_item_linking_to_the_decision()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        var ends = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(2);
        await h.Server.ApplyAsync(GatewayHarness.Spec(System, h.Upstream.BaseUrl, "full", "").Replace("ends: 2099-12-31", $"ends: {ends:yyyy-MM-dd}", StringComparison.Ordinal));
        var ending = Item(await ItemsAsync(h), "pilot_ending") ?? throw new Xunit.Sdk.XunitException("no pilot_ending item");
        Assert.Equal(("warn", 2.0), (ending.GetProperty("level").GetString(), ending.GetProperty("figure").GetDouble()));

        h.Time.Offset = TimeSpan.FromDays(5);
        var items = await ItemsAsync(h);
        var expired = Item(items, "pilot_expired") ?? throw new Xunit.Sdk.XunitException("no pilot_expired item");
        Assert.Equal("bad", expired.GetProperty("level").GetString());
        Assert.StartsWith($"The pilot ended on {ends:yyyy-MM-dd}, 3 days ago, and no decision is recorded", expired.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/dashboard/systems/{System}/report#decide", expired.GetProperty("link").GetString());
        // Quiet because it is refused: not also reported as stale.
        Assert.Null(Item(items, "stale_pilot"));
    }

    [Fact]
    public async Task A_pause_is_an_item_and_the_thresholds_are_settings()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full",
            configure: o => o with { Attention = new Pilotage.Server.Attention.AttentionThresholds { MinUpstreamCalls = 10 } });
        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        for (var i = 0; i < 4; i++) await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        // Four failed calls are below this server's minimum of ten: no upstream item yet.
        Assert.Null(Item(await ItemsAsync(h), "upstream_errors"));

        (await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/pause", new { reason = "wrong prices" })).EnsureSuccessStatusCode();
        var paused = Item(await ItemsAsync(h), "paused") ?? throw new Xunit.Sdk.XunitException("no paused item");
        Assert.Equal("bad", paused.GetProperty("level").GetString());
        Assert.EndsWith("by admin@localhost: wrong prices", paused.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal($"/dashboard/systems/{System}#h-control", paused.GetProperty("link").GetString());
    }

    [Fact]
    public async Task A_pause_rule_is_an_item_only_past_or_near_its_threshold_never_at_a_zero_threshold_it_has_not_crossed()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: """
              pauseRules:
                - { metric: incidents_high, above: 0, action: pause }
                - { metric: blocked_rate, above: 0.4, action: pause }
            """);
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        Assert.Null(Item(await ItemsAsync(h), "pause_rule"));

        (await h.Member.PostAsJsonAsync("/api/v1/incidents", new { system = System, kind = "incident", severity = "high", title = "Wrong refund promised" })).EnsureSuccessStatusCode();
        var item = Item(await ItemsAsync(h), "pause_rule") ?? throw new Xunit.Sdk.XunitException("no pause_rule item");
        Assert.Equal("bad", item.GetProperty("level").GetString());
        Assert.Equal("Pause rule incidents_high above 0: now 1, past the threshold", item.GetProperty("text").GetString());
        Assert.Equal("count", item.GetProperty("unit").GetString());
    }

    [Fact]
    public async Task Attention_follows_the_role_matrix_and_unknown_systems_are_404()
    {
        await using var h = await GatewayHarness.StartAsync();
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Member.GetAsync("/api/v1/attention")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Member.GetAsync($"/api/v1/systems/{System}/attention")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await h.Server.Admin.GetAsync("/api/v1/systems/no-such-system/attention")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.Owner.GetAsync("/api/v1/attention")).StatusCode);
    }
}
