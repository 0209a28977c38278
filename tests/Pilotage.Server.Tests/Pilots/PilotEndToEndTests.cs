using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Pilots;

/// <summary>
/// Steps 1–4 of the pilot-to-production sequence on a real server: a spec with criteria, an
/// evaluation run through the gateway, reviews, incidents, the report's recommendation, and the
/// decision rules that follow from it.
/// </summary>
public sealed class PilotEndToEndTests
{
    private const string Criteria = """
          baseline:
            manualMinutesPerTask: 9
          pauseRules:
            - { metric: rejection_rate, over: 20, above: 0.5, action: pause }
          rollout:
            - { name: team-a, groups: [support-team-a], mode: draft, gate: [ { metric: acceptance_rate, min: 0.8 } ] }
        """;

    private static string PilotWith(string criteria) => $"""
          pilot:
            group: {GatewayHarness.Group}
            mode: draft
            ends: 2099-12-31
            minSamples: 4
            criteria:
        {criteria}
        """;

    private static readonly string StandardCriteria = string.Join('\n',
        "      - { metric: acceptance_rate, min: 0.6, else: redesign }",
        "      - { metric: incidents_high, max: 0, else: stop }",
        "      - { metric: pass_rate.edge, min: 0.5, else: narrow }",
        "      - { metric: feedback_mean, min: 3, else: repilot }");

    /// <summary>A harness whose spec has criteria (the harness's own pilot section is replaced).</summary>
    private static async Task<GatewayHarness> StartAsync(string? criteria = null)
    {
        var h = await GatewayHarness.StartAsync(mode: "draft", startPilot: false);
        var spec = GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", Criteria);
        spec = spec[..spec.IndexOf("  pilot:", StringComparison.Ordinal)] + PilotWith(criteria ?? StandardCriteria) + "\n" + Criteria;
        await h.Server.ApplyAsync(spec);
        (await h.Server.Admin.PutAsync($"/api/v1/groups/{GatewayHarness.Group}/members/owner@example.org", null)).EnsureSuccessStatusCode();
        await h.DecideAsync("pilot");
        return h;
    }

    /// <summary>Real traffic: <paramref name="count"/> drafts, each reviewed with the given outcome and rated.</summary>
    private static async Task TrafficAsync(GatewayHarness h, int count, string outcome, int rating)
    {
        for (var i = 0; i < count; i++)
        {
            var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody($"ticket {i}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
            object review = outcome switch
            {
                "edited" => new { outcome, final_text = "Thanks for writing. Your refund is on its way.", seconds = 90 },
                "rejected" => new { outcome, reason = "wrong amount", seconds = 30 },
                _ => new { outcome, seconds = 45 },
            };
            var reviewed = await h.Member.PostAsJsonAsync($"/v1/interactions/{id}/review", review);
            Assert.True(reviewed.IsSuccessStatusCode, await reviewed.Content.ReadAsStringAsync());
            (await h.Member.PostAsJsonAsync($"/v1/interactions/{id}/feedback", new { rating })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>An evaluation run through the gateway, marked as test traffic, with the verdicts given.</summary>
    private static async Task<long> EvalAsync(GatewayHarness h, params (string Category, string Verdict)[] cases)
    {
        var started = await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/evals", new { testSet = "support", testSetHash = "0123", cases = cases.Length });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var run = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var results = new List<object>();
        for (var i = 0; i < cases.Length; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody($"case {i}")) };
            request.Headers.Add("x-pilotage-eval", $"run={run};case=c{i};category={cases[i].Category}");
            var response = await h.Owner.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            results.Add(new { caseId = $"c{i}", category = cases[i].Category, verdict = cases[i].Verdict, interactionId = response.Headers.GetValues("x-pilotage-interaction-id").Single() });
        }
        (await h.Owner.PostAsJsonAsync($"/api/v1/evals/{run}/results", new { results })).EnsureSuccessStatusCode();
        (await h.Owner.PostAsJsonAsync($"/api/v1/evals/{run}/finish", new { status = "completed" })).EnsureSuccessStatusCode();
        return run;
    }

    private static async Task<JsonElement> ReportAsync(GatewayHarness h) =>
        await h.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{GatewayHarness.System}/report?format=json");

    private static string Recommendation(JsonElement report) =>
        report.GetProperty("criteria").GetProperty("recommendation").GetProperty("kind").GetString()!;

    [Fact]
    public async Task Good_evidence_recommends_proceed_and_proceed_needs_a_test_run_then_stores_the_evidence_and_its_hash()
    {
        await using var h = await StartAsync();
        await TrafficAsync(h, 5, "accepted", 5);
        var report = await ReportAsync(h);
        // Real traffic is not counted as test cases: with no evaluation run, pass_rate.edge is unknown,
        // so the evidence is insufficient and proceed goes against it.
        Assert.Equal("insufficient_evidence", Recommendation(report));
        var blocked = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "proceed", reason = "works" });
        Assert.Equal(HttpStatusCode.Conflict, blocked.StatusCode);

        await EvalAsync(h, ("normal", "pass"), ("edge", "pass"), ("unclear", "pass"), ("missing_data", "pass"), ("policy_boundary", "pass"));
        report = await ReportAsync(h);
        Assert.Equal("proceed", Recommendation(report));
        var metrics = await h.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{GatewayHarness.System}/metrics");
        Assert.Equal(1.0, metrics.GetProperty("metrics").GetProperty("pass_rate.edge").GetProperty("value").GetDouble());
        Assert.Equal(5, metrics.GetProperty("metrics").GetProperty("acceptance_rate").GetProperty("n").GetInt64()); // evaluation traffic is apart

        var decided = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "proceed", reason = "criteria met" });
        var body = await decided.Content.ReadAsStringAsync();
        Assert.True(decided.StatusCode == HttpStatusCode.OK, body);
        var decision = JsonDocument.Parse(body).RootElement;
        Assert.Equal("decided", decision.GetProperty("toPhase").GetString());
        Assert.False(decision.GetProperty("override").GetBoolean());
        Assert.Equal(64, decision.GetProperty("evidenceHash").GetString()!.Length);
        var system = await h.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{GatewayHarness.System}");
        Assert.Equal("decided", system.GetProperty("system").GetProperty("phase").GetString());
    }

    [Fact]
    public async Task Proceed_is_refused_with_every_blocker_listed()
    {
        await using var h = await StartAsync();
        await TrafficAsync(h, 5, "accepted", 5);
        await EvalAsync(h, ("edge", "pass"));
        // Remove the pause rules: the spec without them.
        var spec = GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "");
        spec = spec[..spec.IndexOf("  pilot:", StringComparison.Ordinal)] + PilotWith(StandardCriteria);
        await h.Server.ApplyAsync(spec);
        var refused = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "proceed", reason = "works" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        var blockers = problem.GetProperty("blockers").EnumerateArray().Select(b => b.GetString()!).ToList();
        Assert.Contains(blockers, b => b.Contains("no pause rules", StringComparison.Ordinal));
        Assert.Contains(blockers, b => b.Contains("readiness", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("redesign")]
    [InlineData("stop")]
    [InlineData("narrow")]
    [InlineData("repilot")]
    [InlineData("insufficient_evidence")]
    public async Task Constructed_evidence_gives_each_recommendation(string expected)
    {
        await using var h = await StartAsync();
        switch (expected)
        {
            case "redesign":
                await TrafficAsync(h, 2, "accepted", 4);
                await TrafficAsync(h, 3, "rejected", 4);
                await EvalAsync(h, ("edge", "pass"));
                break;
            case "stop":
                await TrafficAsync(h, 5, "accepted", 4);
                await EvalAsync(h, ("edge", "pass"));
                var incident = await h.Member.PostAsJsonAsync("/api/v1/incidents", new { system = GatewayHarness.System, kind = "incident", severity = "high", title = "Draft promised a refund we do not give" });
                Assert.Equal(HttpStatusCode.Created, incident.StatusCode);
                break;
            case "narrow":
                await TrafficAsync(h, 5, "accepted", 4);
                await EvalAsync(h, ("edge", "fail"), ("edge", "fail"), ("normal", "pass"));
                break;
            case "repilot":
                await TrafficAsync(h, 5, "accepted", 1);
                await EvalAsync(h, ("edge", "pass"));
                break;
            case "insufficient_evidence":
                await TrafficAsync(h, 2, "accepted", 5);
                break;
        }
        var report = await ReportAsync(h);
        Assert.Equal(expected, Recommendation(report));
        if (expected == "insufficient_evidence") return;

        // Deciding against the recommendation needs an explicit, reasoned override, recorded as such.
        var against = expected == "stop" ? "repilot" : "stop";
        var refused = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = against, reason = "we think otherwise" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains(expected, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var overridden = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = against, reason = "budget cut", @override = true });
        Assert.Equal(HttpStatusCode.OK, overridden.StatusCode);
        Assert.True((await overridden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("override").GetBoolean());
    }

    [Fact]
    public async Task The_html_report_and_the_expiry_refusal_close_the_loop()
    {
        await using var h = await StartAsync();
        await TrafficAsync(h, 4, "edited", 4);
        var html = await h.Server.Admin.GetStringAsync($"/api/v1/systems/{GatewayHarness.System}/report?format=html");
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("acceptance_rate", html, StringComparison.Ordinal);
        h.Time.Offset = new DateTimeOffset(2100, 1, 2, 0, 0, 0, TimeSpan.Zero) - DateTimeOffset.UtcNow;
        var expired = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        Assert.Equal((HttpStatusCode)423, expired.StatusCode);
        Assert.Contains("pilot_expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
