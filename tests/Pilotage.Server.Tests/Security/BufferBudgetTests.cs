using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Gateway;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The server-wide budget of buffered bytes (PILOTAGE_MAX_BUFFERED_MB) covers chunked request bodies, read
/// as they arrive, and non-streamed answers; what does not fit is a 503 naming the setting, and every
/// reserved byte is given back.
/// </summary>
public sealed class BufferBudgetTests
{
    private const long Budget = 2L * 1024 * 1024;

    [Fact]
    public async Task A_chunked_body_or_an_answer_beyond_the_budget_is_refused_503_naming_the_setting_and_the_bytes_come_back()
    {
        await using var h = await GatewayHarness.StartAsync(configure: o => o with { MaxBufferedBytes = Budget });
        var budget = h.Server.App.Services.GetRequiredService<BufferBudget>();

        // An ordinary request fits and is served.
        using (var ok = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello")))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // A 3 MB chunked body (no Content-Length): reserved as it arrives, refused once past the budget.
        var text = new string('a', 3 * 1024 * 1024);
        var json = JsonSerializer.SerializeToUtf8Bytes(GatewayHarness.ChatBody(text));
        using (var chunked = new StreamContent(new MemoryStream(json)))
        {
            chunked.Headers.ContentType = new("application/json");
            chunked.Headers.ContentLength = null;
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = chunked };
            request.Headers.TransferEncodingChunked = true;
            using var refused = await h.Member.SendAsync(request);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.Contains("server_busy", body, StringComparison.Ordinal);
            Assert.Contains("PILOTAGE_MAX_BUFFERED_MB", body, StringComparison.Ordinal);
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }
        Assert.DoesNotContain(h.Upstream.Received, r => r.ToJsonString().Length > 1024 * 1024);

        // An answer larger than what is left of the budget: 503 naming the setting, not an unbounded buffer.
        h.Upstream.AnswerText = new string('b', 600 * 1024);
        using (var big = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("a long answer please")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, big.StatusCode);
            var body = await big.Content.ReadAsStringAsync();
            Assert.Contains("PILOTAGE_MAX_BUFFERED_MB", body, StringComparison.Ordinal);
            Assert.Contains("the answer from", body, StringComparison.Ordinal);
        }

        // Every reserved byte was given back: a normal call is served again, and nothing is held.
        h.Upstream.AnswerText = "short";
        using (var again = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello again")))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }
        for (var i = 0; i < 100 && budget.InUse != 0; i++) await Task.Delay(50);
        Assert.Equal(0, budget.InUse);
        Assert.Equal(0, h.Server.App.Services.GetRequiredService<UpstreamLimits>().InFlight);
    }

    /// <summary>
    /// The capacity benchmark's 256 connections: hundreds of small answers read at once must fit the default budget.
    /// Each answer used to reserve a first step of 256 KB (1 MB counted) whatever its size, so 256 answers of 400 bytes
    /// spent the default 256 MB and the next ones were refused 503 after the model had answered.
    /// </summary>
    [Fact]
    public async Task Three_hundred_small_answers_read_at_once_all_fit_the_default_budget()
    {
        const int Calls = 300;
        // The default budget; only the key's cap is raised, so that one key can have them all in flight.
        await using var h = await GatewayHarness.StartAsync(configure: o => o with { MaxUpstreamInFlightPerKey = 2 * Calls });
        var budget = h.Server.App.Services.GetRequiredService<BufferBudget>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Upstream.HoldAnswerMidway = release.Task;

        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Calls }) { BaseAddress = new Uri(h.Server.Url), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", h.MemberKey);
        // With a Content-Length, as the SDKs send them (a chunked body is read into a 16 KB buffer, and reserves that).
        var calls = Enumerable.Range(0, Calls).Select(i => client.PostAsync("/v1/chat/completions",
            new StringContent(JsonSerializer.Serialize(GatewayHarness.ChatBody($"question {i}")), System.Text.Encoding.UTF8, "application/json"))).ToList();
        long held;
        try
        {
            // Every answer is half read by the gateway at the same time, each holding its reservation.
            using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                while (h.Upstream.HeldMidway < Calls && !calls.Any(c => c.IsCompleted) && !wait.IsCancellationRequested) await Task.Delay(20);
            }
            Assert.Equal(Calls, h.Upstream.HeldMidway);
            held = budget.InUse;
        }
        finally
        {
            release.SetResult();
        }
        var responses = await Task.WhenAll(calls);
        var failed = new List<string>();
        foreach (var response in responses)
        {
            using (response)
            {
                if (response.StatusCode != HttpStatusCode.OK) failed.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.Empty(failed);
        // What is held is counted, not a fixed step: a few kilobytes a call (body and answer, each counted 4×).
        Assert.True(held < Calls * 8L * 1024, $"{held} bytes reserved for {Calls} answers of a few hundred bytes");
        for (var i = 0; i < 100 && budget.InUse != 0; i++) await Task.Delay(50);
        Assert.Equal(0, budget.InUse);
    }
}
