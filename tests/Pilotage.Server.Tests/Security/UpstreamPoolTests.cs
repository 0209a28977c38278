using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The upstream connection pool never queues a call the bounds admitted: streamed answers hold their call for
/// seconds, and a pool smaller than the in-flight bound made the calls beyond it wait, silently, for one of them to end.
/// </summary>
public class UpstreamPoolTests
{
    // Above the 512 connections the pool used to allow to one upstream.
    private const int Calls = 600;

    [Fact]
    public async Task Every_call_the_bounds_admit_reaches_a_slow_model_at_once()
    {
        var h = await GatewayHarness.StartAsync(configure: o => o with { MaxUpstreamInFlight = Calls, MaxUpstreamInFlightPerSystem = Calls, MaxUpstreamInFlightPerKey = Calls });
        List<Task<LoadSheddingTests.Result>> calls = [];
        try
        {
            var client = h.Server.ClientFor(await h.Server.CreateKeyAsync("mia@example.org"));
            h.Upstream.Behaviour = UpstreamBehaviour.Hang;
            calls = [.. Enumerable.Range(0, Calls).Select(i => LoadSheddingTests.SendAsync(client, GatewayHarness.ChatBody($"call {i}")))];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (h.Upstream.InFlight < Calls && !wait.IsCancellationRequested) await Task.Delay(50);

            Assert.Equal(Calls, h.Upstream.InFlight);
            Assert.DoesNotContain(calls, c => c.IsCompleted);
        }
        finally
        {
            // Stopping the upstream ends the hanging calls.
            await h.DisposeAsync();
        }
        await Task.WhenAll(calls.Select(c => c.ContinueWith(_ => { }, TaskScheduler.Default)));
    }
}
