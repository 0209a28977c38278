using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;
using Xunit.Abstractions;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Upstream faults under load: a hanging model holds at most the configured number of requests, the rest
/// are shed at once with 429/503, the control API and the kill switch keep answering, every request
/// leaves an evidence record, and no call to the model is left open afterwards.
/// </summary>
public class LoadSheddingTests(ITestOutputHelper output)
{
    private const int GreedyRequests = 100;
    private const int OtherKeys = 5;
    private const int PerKey = 40;
    private const int Requests = GreedyRequests + OtherKeys * PerKey; // 300
    private const int Global = 100;

    [Fact]
    public async Task A_hanging_upstream_under_300_requests_sheds_the_excess_and_the_kill_switch_still_works()
    {
        await using var h = await GatewayHarness.StartAsync(
            configure: o => o with { MaxUpstreamInFlight = Global, MaxUpstreamInFlightPerSystem = Global, MaxUpstreamInFlightPerKey = PerKey });
        // A first-byte timeout short enough to end the hung calls within the test, long enough to act while they hang.
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "").Replace("    model: fake-model", "    model: fake-model\n    firstByteTimeoutSeconds: 20", StringComparison.Ordinal));
        var before = await h.InteractionCountAsync();
        var greedy = h.Server.ClientFor(await h.Server.CreateKeyAsync("mia@example.org"));
        var others = new List<HttpClient>();
        for (var k = 0; k < OtherKeys; k++) others.Add(h.Server.ClientFor(await h.Server.CreateKeyAsync("mia@example.org")));
        h.Upstream.Behaviour = UpstreamBehaviour.Hang;

        // One key sends 100 at once: 40 are let through to the model, 60 are refused for the key (429).
        var calls = Enumerable.Range(0, GreedyRequests).Select(i => SendAsync(greedy, GatewayHarness.ChatBody($"greedy {i}"))).ToList();
        await UntilAsync(() => calls.Count(c => c.IsCompleted) >= GreedyRequests - PerKey);
        // Five more keys send 40 each: 60 fill the server's 100 places, 140 are refused as busy (503).
        calls.AddRange(Enumerable.Range(0, OtherKeys * PerKey).Select(i => SendAsync(others[i % OtherKeys], GatewayHarness.ChatBody($"other {i}"))));
        await UntilAsync(() => calls.Count(c => c.IsCompleted) >= Requests - Global);
        Assert.Equal(Requests - Global, calls.Count(c => c.IsCompleted));
        // The refusals can all be back before the last admitted call has reached the model.
        await UntilAsync(() => h.Upstream.InFlight >= Global);
        Assert.Equal(Global, h.Upstream.InFlight);

        // While they hang: the control API and the kill switch answer.
        using (var soon = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var systems = await h.Server.Admin.GetAsync("/api/v1/systems", soon.Token);
            Assert.Equal(HttpStatusCode.OK, systems.StatusCode);
            var listed = clock.Elapsed;
            using var pause = await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "the model hangs" }, soon.Token);
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
            output.WriteLine($"with {h.Upstream.InFlight} calls hanging: GET /api/v1/systems {listed.TotalMilliseconds:0} ms, pause {(clock.Elapsed - listed).TotalMilliseconds:0} ms");
            // Every server place is held, so the next request is shed before its body (and its model) is read:
            // 503, not 423; either way nothing reaches the model.
            var received = h.Upstream.Received.Count;
            var refused = await SendAsync(h.Member, GatewayHarness.ChatBody("after the pause"));
            Assert.Equal((503, "server_busy"), (refused.Status, refused.Code));
            Assert.Equal(received, h.Upstream.Received.Count);
        }

        var results = await Task.WhenAll(calls);
        // The places are free again (a place is given back just after its answer is written): the pause holds.
        var limits = h.Server.App.Services.GetRequiredService<Pilotage.Server.Gateway.UpstreamLimits>();
        await WaitForAsync(() => Task.FromResult(limits.InFlight == 0));
        var paused = await SendAsync(h.Member, GatewayHarness.ChatBody("after the places are free"));
        Assert.Equal((423, "system_paused"), (paused.Status, paused.Code));
        Assert.DoesNotContain(results, r => r.Status >= 500 && r.Status != 503 && r.Status != 504);
        var byCode = results.GroupBy(r => (r.Status, r.Code)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(GreedyRequests - PerKey, byCode.GetValueOrDefault((429, "too_many_concurrent_requests")));
        Assert.Equal(Requests - Global - (GreedyRequests - PerKey), byCode.GetValueOrDefault((503, "server_busy")));
        Assert.Equal(Global, byCode.GetValueOrDefault((504, "upstream_timeout")));
        Assert.All(results.Where(r => r.Status is 429 or 503), r => Assert.Equal("1", r.RetryAfter));

        // Every request has its record (the pause refusal too); no call to the model is left open.
        await WaitForAsync(async () => await h.InteractionCountAsync() >= before + Requests + 1);
        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var ids = results.Select(r => r.Id).ToHashSet();
        Assert.Equal(Requests, ids.Count);
        var recorded = await db.Interactions.AsNoTracking().Where(i => ids.Contains(i.Id)).Select(i => new { i.Outcome, i.RefusalCode }).ToListAsync();
        Assert.Equal(Requests, recorded.Count);
        Assert.Equal(Global, recorded.Count(r => r.Outcome == "failed" && r.RefusalCode == "upstream_timeout"));
        await WaitForAsync(() => Task.FromResult(h.Upstream.InFlight == 0));
    }

    [Fact]
    public async Task Truncated_streams_and_failing_upstreams_under_concurrency_are_502s_recorded_with_nothing_left_open()
    {
        await using var h = await GatewayHarness.StartAsync();
        var before = await h.InteractionCountAsync();

        h.Upstream.Behaviour = UpstreamBehaviour.TruncatedStream;
        // Each upstream answer is cut once its client has the gateway's headers (the gateway has read the upstream's
        // then): under a full test run's load a cut after a fixed wait could reach the gateway before it read them.
        var headersSeen = new ConcurrentDictionary<string, TaskCompletionSource>();
        TaskCompletionSource Seen(string text) => headersSeen.GetOrAdd(text, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        h.Upstream.CutTruncatedStreamWhen = (request, ct) => Seen(request["messages"]![0]!["content"]!.GetValue<string>()).Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var truncated = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => StreamAsync(h.Member, $"stream {i}", () => Seen($"stream {i}").TrySetResult())));
        // The whole answer on failure (Assert.Contains cuts it short).
        Assert.All(truncated, t => Assert.True(t.Contains("upstream_truncated", StringComparison.Ordinal), t));

        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        var failed = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => SendAsync(h.Member, GatewayHarness.ChatBody($"fail {i}"))));
        Assert.All(failed, f => Assert.Equal((502, "upstream_error"), (f.Status, f.Code)));

        h.Upstream.Behaviour = UpstreamBehaviour.Malformed;
        var malformed = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => SendAsync(h.Member, GatewayHarness.ChatBody($"bad {i}"))));
        Assert.All(malformed, f => Assert.Equal((502, "upstream_malformed"), (f.Status, f.Code)));

        await WaitForAsync(async () => await h.InteractionCountAsync() >= before + 150);
        await using (var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            var codes = await db.Interactions.AsNoTracking().Where(i => i.Outcome == "failed").GroupBy(i => i.RefusalCode).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
            Assert.Equal(50, codes.Single(c => c.Key == "upstream_truncated").Count);
            Assert.Equal(50, codes.Single(c => c.Key == "upstream_error").Count);
            Assert.Equal(50, codes.Single(c => c.Key == "upstream_malformed").Count);
        }
        await WaitForAsync(() => Task.FromResult(h.Upstream.InFlight == 0));

        // The permits were all given back: a full key's worth of requests is admitted again.
        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        var after = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => SendAsync(h.Member, GatewayHarness.ChatBody($"ok {i}"))));
        Assert.All(after, a => Assert.Equal(200, a.Status));
    }

    [Fact]
    public async Task One_hanging_system_cannot_take_the_places_of_another()
    {
        await using var h = await GatewayHarness.StartAsync(configure: o => o with { MaxUpstreamInFlight = 15, MaxUpstreamInFlightPerSystem = 10, MaxUpstreamInFlightPerKey = 100 });
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "").Replace("    model: fake-model", "    model: fake-model\n    firstByteTimeoutSeconds: 5", StringComparison.Ordinal));
        await using var healthy = await FakeUpstream.StartAsync();
        await h.Server.ApplyAsync(GatewayHarness.Spec("other-drafts", healthy.BaseUrl, "draft", ""));
        (await h.Server.Admin.PostAsJsonAsync("/api/v1/systems/other-drafts/decisions", new { outcome = "pilot", reason = "test", @override = false })).EnsureSuccessStatusCode();
        h.Upstream.Behaviour = UpstreamBehaviour.Hang;

        var hanging = Enumerable.Range(0, 20).Select(i => SendAsync(h.Member, GatewayHarness.ChatBody($"hang {i}"))).ToList();
        await UntilAsync(() => hanging.Count(c => c.IsCompleted) >= 10);
        await UntilAsync(() => h.Upstream.InFlight >= 10);
        Assert.Equal(10, h.Upstream.InFlight);
        // The hanging system holds its 10 places; the other system still has the server's remaining 5.
        var other = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => SendAsync(h.Member, GatewayHarness.ChatBody($"other {i}", model: "other-drafts"))));
        Assert.All(other, r => Assert.Equal(200, r.Status));

        var results = await Task.WhenAll(hanging);
        Assert.Equal(10, results.Count(r => (r.Status, r.Code) == (503, "server_busy")));
        Assert.Equal(10, results.Count(r => (r.Status, r.Code) == (504, "upstream_timeout")));
        await WaitForAsync(() => Task.FromResult(h.Upstream.InFlight == 0));
    }

    internal sealed record Result(int Status, string? Code, string Id, string? RetryAfter);

    internal static async Task<Result> SendAsync(HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", body);
        var text = await response.Content.ReadAsStringAsync();
        string? code = null;
        if (!response.IsSuccessStatusCode)
        {
            using var doc = JsonDocument.Parse(text);
            code = doc.RootElement.GetProperty("error").GetProperty("code").GetString();
        }
        var id = response.Headers.TryGetValues("x-pilotage-interaction-id", out var ids) ? ids.Single() : "";
        return new Result((int)response.StatusCode, code, id, response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<string> StreamAsync(HttpClient client, string text, Action headersSeen)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody(text, stream: true)) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        headersSeen();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Waits (at most 15 s: inside the 20 s first-byte timeout) for the shed requests to be answered.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!condition() && !wait.IsCancellationRequested) await Task.Delay(50);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 200; i++)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.True(await condition(), "the condition did not hold within 10 s");
    }
}
