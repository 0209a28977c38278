using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.PauseRules;

/// <summary>
/// The metrics pause rules once ignored: complaints and latency fire on a real server; the ones no
/// rule can watch are refused at apply, with their line, instead of being stored and never evaluated.
/// </summary>
public sealed class PauseRuleMetricTests
{
    private const string System = GatewayHarness.System;

    private static string Rules(params string[] rules) => "  pauseRules:\n" + string.Join("\n", rules.Select(r => "    - " + r));

    private static async Task<AuditEntryRow> WaitFiredAsync(PilotageTestServer server)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
            {
                var fired = await db.AuditEntries.AsNoTracking().Where(a => a.Action == "system.rule_fired" && a.Subject == $"system:{System}").FirstOrDefaultAsync();
                if (fired is not null)
                {
                    await server.App.Services.GetRequiredService<Pilotage.Server.Policy.PolicyCache>().RefreshAsync(CancellationToken.None);
                    return fired;
                }
            }
            await Task.Delay(25);
        }
        throw new TimeoutException("no rule fired");
    }

    private static async Task FileAsync(HttpClient client, string kind, string severity = "low")
    {
        using var response = await client.PostAsJsonAsync("/api/v1/incidents", new { system = System, kind, severity, title = $"a {kind} about a draft" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<HttpStatusCode> ChatAsync(HttpClient member)
    {
        using var response = await member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        return response.StatusCode;
    }

    [Fact]
    public async Task Complaints_over_a_day_pause_the_system_as_the_policy_example_says()
    {
        await using var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: complaints, window: 1d, above: 2, action: pause }"));
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(harness.Member));
        // An incident is not a complaint, and two complaints are not above 2.
        await FileAsync(harness.Member, "incident", "medium");
        await FileAsync(harness.Member, "complaint");
        await FileAsync(harness.Member, "complaint");
        await Task.Delay(750);
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(harness.Member));

        await FileAsync(harness.Member, "complaint");
        var fired = await WaitFiredAsync(harness.Server);

        using (var after = JsonDocument.Parse(fired.After!))
        {
            Assert.Equal("complaints", after.RootElement.GetProperty("metric").GetString());
            Assert.Equal(3, after.RootElement.GetProperty("figure").GetDouble());
        }
        Assert.Equal(HttpStatusCode.Locked, await ChatAsync(harness.Member));
    }

    [Fact]
    public async Task Complaints_filed_before_a_restart_still_count()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        string key;
        await using (var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: complaints, window: 1d, above: 1, action: pause }"), database: database))
        {
            await FileAsync(harness.Member, "complaint");
            key = harness.MemberKey;
        }
        await using var upstream = await FakeUpstream.StartAsync();
        await using var server = await PilotageTestServer.StartAsync(database);
        await FileAsync(server.ClientFor(key), "complaint");
        var fired = await WaitFiredAsync(server);
        Assert.Contains("\"metric\":\"complaints\"", fired.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_answers_fire_a_latency_rule()
    {
        await using var harness = await GatewayHarness.StartAsync(extra: Rules("{ metric: latency_p50, over: 3, above: 250, action: notify }"));
        harness.Upstream.Delay = TimeSpan.FromMilliseconds(600);
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await ChatAsync(harness.Member));

        var fired = await WaitFiredAsync(harness.Server);

        using var after = JsonDocument.Parse(fired.After!);
        Assert.Equal("latency_p50", after.RootElement.GetProperty("metric").GetString());
        Assert.True(after.RootElement.GetProperty("figure").GetDouble() > 250);
        Assert.Equal("the last 3 answers", after.RootElement.GetProperty("window").GetString());
    }

    [Theory]
    [InlineData("pass_rate.edge")]
    [InlineData("feedback_mean")]
    [InlineData("review_backlog")]
    public async Task Apply_refuses_a_rule_no_window_can_watch_with_its_line(string metric)
    {
        await using var server = await PilotageTestServer.StartAsync();
        await using var upstream = await FakeUpstream.StartAsync();
        var spec = GatewayHarness.Spec(System, upstream.BaseUrl, "draft", Rules($"{{ metric: {metric}, window: 1d, above: 0.5 }}"));

        using var response = await server.Admin.PostAsync("/api/v1/systems/apply", new StringContent(spec, global::System.Text.Encoding.UTF8, "application/yaml"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal("spec.pauseRules[0].metric", error.GetProperty("path").GetString());
        Assert.True(error.GetProperty("line").GetInt32() > 0);
        Assert.StartsWith($"a pause rule cannot watch {metric}", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.False(await db.Systems.AnyAsync());
    }
}
