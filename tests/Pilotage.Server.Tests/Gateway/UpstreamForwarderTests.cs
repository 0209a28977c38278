using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Gateway.Protocols;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>What the forwarder hands on of a served upstream call, which a streamed answer keeps for its length.</summary>
public sealed class UpstreamForwarderTests
{
    [Fact]
    public async Task A_served_response_keeps_its_content_headers_and_none_of_the_upstream_s_others()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.SetCookie = "affinity=someone; Path=/";
        var services = h.Server.App.Services;
        var forwarder = services.GetRequiredService<UpstreamForwarder>();
        var system = services.GetRequiredService<PolicyCache>().Current.Systems[GatewayHarness.System];
        var subject = new Subject(new Arrival(InteractionId.New(TimeProvider.System), GatewayOperation.Chat, DateTimeOffset.UtcNow), null!, system);
        var sent = """{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"hi"}]}"""u8.ToArray();
        using var timeouts = forwarder.Timeouts(system.State.Spec, CancellationToken.None);
        var (response, exchange, refusal) = await forwarder.SendAsync(subject, new Exchange { Sent = sent, Streamed = true }, null, system.ChatUrl,
            services.GetRequiredService<UpstreamProtocols>().For(system), timeouts, CancellationToken.None);
        using var answered = response;
        Assert.Null(refusal);
        Assert.Equal(200, exchange.UpstreamStatus);
        Assert.Empty(answered!.Headers);
        Assert.Equal("text/event-stream", answered.Content.Headers.ContentType?.MediaType);
        Assert.Contains("data: [DONE]", await answered.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
