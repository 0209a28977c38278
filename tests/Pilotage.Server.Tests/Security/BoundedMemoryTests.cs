using System.Diagnostics;
using System.Net.Http.Json;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Gateway;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Server.Tests.Reliability;
using Pilotage.Testing;
using Xunit.Abstractions;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Hostile load on memory: 100 clients each stream a 16 MB body slowly while the model hangs. The server
/// takes only what its byte budget allows, refuses the rest with 503 before reading their bodies, its
/// heap stays bounded, the control API and the kill switch keep answering, and every place and reserved
/// byte is given back when the clients go away. Alone in the reliability collection: it measures the heap.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class BoundedMemoryTests(ITestOutputHelper output)
{
    private const int Clients = 100;
    private const int BodyBytes = 16 * 1024 * 1024;
    private const long Budget = 128L * 1024 * 1024;
    // The budget counts each body byte BufferBudget.CostPerByte times, so it admits two 16 MB bodies. The heap
    // also holds the in-process fake model's copy of each body and garbage not yet collected, hence the slack;
    // the 100 bodies admitted without a bound would take gigabytes (1.6 GB raw, several times that parsed).
    private const long HeapBound = 6 * Budget;
    private static readonly byte[] Filler = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));

    [Fact]
    public async Task Hundred_slow_16_MB_bodies_against_a_hanging_model_keep_the_heap_bounded_and_shed_the_excess_with_503()
    {
        await using var h = await GatewayHarness.StartAsync(configure: o => o with { MaxBufferedBytes = Budget, MaxUpstreamInFlightPerKey = 200 });
        var limits = h.Server.App.Services.GetRequiredService<UpstreamLimits>();
        var budget = h.Server.App.Services.GetRequiredService<BufferBudget>();
        h.Upstream.Behaviour = UpstreamBehaviour.Hang;

        GC.Collect();
        GC.WaitForPendingFinalizers();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(false));
                await Task.Delay(20);
            }
        });

        using var giveUp = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var client = new HttpClient { BaseAddress = new Uri(h.Server.Url), Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.Authorization = new("Bearer", h.MemberKey);
        var calls = Enumerable.Range(0, Clients).Select(_ => SendSlowAsync(client, giveUp.Token)).ToList();

        // The refused ones are answered at once; the admitted ones (budget / body) hang on the model.
        var admitted = (int)(Budget / (BodyBytes * (long)BufferBudget.CostPerByte));
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (calls.Count(c => c.IsCompleted) < Clients - admitted && !wait.IsCancellationRequested) await Task.Delay(50);
        }
        var early = calls.Where(c => c.IsCompleted).Select(c => c.Result).ToList();
        Assert.Equal(Clients - admitted, early.Count);
        Assert.All(early, r => Assert.Equal((HttpStatusCode)503, r));
        Assert.True(budget.InUse <= Budget, $"{budget.InUse} bytes reserved, over the {Budget} budget");

        // While the admitted bodies stream and wait: the control API and the kill switch answer within 2 s.
        var clock = Stopwatch.StartNew();
        using (var systems = await h.Server.Admin.GetAsync("/api/v1/systems"))
        {
            Assert.Equal(HttpStatusCode.OK, systems.StatusCode);
        }
        var listed = clock.Elapsed;
        using (var pause = await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "memory test" }))
        {
            Assert.Equal(HttpStatusCode.OK, pause.StatusCode);
        }
        var paused = clock.Elapsed - listed;
        Assert.True(listed < TimeSpan.FromSeconds(2), $"GET /api/v1/systems took {listed.TotalMilliseconds:0} ms under load");
        Assert.True(paused < TimeSpan.FromSeconds(2), $"the pause took {paused.TotalMilliseconds:0} ms under load");

        // Let the admitted bodies finish arriving (they then wait on the model), then measure and hang up.
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (h.Upstream.InFlight < admitted && !wait.IsCancellationRequested) await Task.Delay(50);
        }
        var atModel = h.Upstream.InFlight;
        await giveUp.CancelAsync();
        var all = await Task.WhenAll(calls);
        await stopSampling.CancelAsync();
        await sampler;

        var growth = peak - baseline;
        output.WriteLine($"{Clients} clients x 16 MB: {early.Count} refused 503 at once, {atModel} reached the model; heap baseline {baseline / 1048576} MB, peak {peak / 1048576} MB (+{growth / 1048576} MB), budget {Budget / 1048576} MB; GET systems {listed.TotalMilliseconds:0} ms, pause {paused.TotalMilliseconds:0} ms");
        Assert.DoesNotContain(all, s => (int)s >= 500 && s != (HttpStatusCode)503);
        Assert.True(growth < HeapBound, $"the heap grew by {growth / 1048576} MB under load; the bound is {HeapBound / 1048576} MB");

        // Every place and every reserved byte is given back once the clients have gone.
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            while ((limits.InFlight != 0 || budget.InUse != 0) && !wait.IsCancellationRequested) await Task.Delay(50);
        }
        Assert.Equal(0, limits.InFlight);
        Assert.Equal(0, budget.InUse);
    }

    /// <summary>One client: a declared 16 MB body sent 64 KB at a time with pauses. Hung up by the token: reported as 499.</summary>
    private static async Task<HttpStatusCode> SendSlowAsync(HttpClient client, CancellationToken ct)
    {
        try
        {
            using var content = new SlowBody();
            using var response = await client.PostAsync("/v1/chat/completions", content, ct);
            return response.StatusCode;
        }
        catch (OperationCanceledException)
        {
            return (HttpStatusCode)499;
        }
    }

    private sealed class SlowBody : HttpContent
    {
        private static readonly byte[] Head = Encoding.ASCII.GetBytes($$"""{"model":"{{GatewayHarness.System}}","messages":[{"role":"user","content":" """.TrimEnd());
        private static readonly byte[] Tail = Encoding.ASCII.GetBytes("\"}]}");

        public SlowBody() => Headers.ContentType = new("application/json");

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(Head, cancellationToken);
            var left = BodyBytes - Head.Length - Tail.Length;
            while (left > 0)
            {
                var n = Math.Min(left, Filler.Length);
                await stream.WriteAsync(Filler.AsMemory(0, n), cancellationToken);
                left -= n;
                await Task.Delay(5, cancellationToken);
            }
            await stream.WriteAsync(Tail, cancellationToken);
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length)
        {
            length = BodyBytes;
            return true;
        }
    }
}
