using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Notifications;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Notifications;

/// <summary>A loopback webhook receiver that fails the first N calls.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _calls;

    private Receiver(WebApplication app) => _app = app;

    public int FailFirst { get; set; }
    public ConcurrentQueue<(string Event, string Signature, string Body)> Received { get; } = new();
    public string Url => _app.Urls.First() + "/hook";

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Pilotage.Server.Hosting.PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
            if (Interlocked.Increment(ref receiver._calls) <= receiver.FailFirst) return Results.StatusCode(500);
            receiver.Received.Enqueue((http.Request.Headers["X-Pilotage-Event"].ToString(), http.Request.Headers["X-Pilotage-Signature"].ToString(), body));
            return Results.Ok();
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class WebhookTests
{
    private static async Task<(PilotageTestServer Server, FakeUpstream Upstream)> StartAsync(Receiver receiver, AdjustableTime? time = null)
    {
        var upstream = await FakeUpstream.StartAsync();
        var webhook = new WebhookOptions { Url = receiver.Url, Secret = "s3cret", RetryDelay = TimeSpan.FromMilliseconds(50), PollInterval = TimeSpan.FromMilliseconds(50), MaxAttempts = 4 };
        var server = await PilotageTestServer.StartAsync(time: time, configure: o => o with { Webhook = webhook });
        await server.ApplyAsync(GatewayHarness.Spec("hooked", upstream.BaseUrl, "draft", ""));
        return (server, upstream);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++) await Task.Delay(50);
        Assert.True(condition(), "timed out waiting");
    }

    [Fact]
    public async Task A_pause_is_delivered_signed_with_HMAC_SHA256()
    {
        await using var receiver = await Receiver.StartAsync();
        var (server, upstream) = await StartAsync(receiver);
        await using var _ = server;
        await using var __ = upstream;
        (await server.Admin.PostAsJsonAsync("/api/v1/systems/hooked/decisions", new { outcome = "pilot", reason = "go" })).EnsureSuccessStatusCode();
        (await server.Admin.PostAsJsonAsync("/api/v1/systems/hooked/pause", new { reason = "bad answers" })).EnsureSuccessStatusCode();
        await WaitAsync(() => receiver.Received.Any(r => r.Event == "system.paused"));

        var paused = receiver.Received.Single(r => r.Event == "system.paused");
        Assert.Equal(WebhookEvents.Signature("s3cret", paused.Body), paused.Signature);
        using var body = JsonDocument.Parse(paused.Body);
        Assert.Equal("system:hooked", body.RootElement.GetProperty("subject").GetString());
        Assert.Contains(receiver.Received, r => r.Event == "system.decision.pilot");
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_and_the_attempts_are_visible()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.FailFirst = 2;
        var (server, upstream) = await StartAsync(receiver);
        await using var _ = server;
        await using var __ = upstream;
        (await server.Admin.PostAsJsonAsync("/api/v1/systems/hooked/decisions", new { outcome = "pilot", reason = "go" })).EnsureSuccessStatusCode();
        await WaitAsync(() => !receiver.Received.IsEmpty);

        var deliveries = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/webhooks/deliveries");
        var delivery = deliveries!.Single(d => d.GetProperty("event").GetString() == "system.decision.pilot");
        Assert.Equal("delivered", delivery.GetProperty("status").GetString());
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task The_owner_is_warned_ahead_of_expiry_once_per_threshold_and_when_it_expires()
    {
        await using var receiver = await Receiver.StartAsync();
        var time = new AdjustableTime();
        var (server, upstream) = await StartAsync(receiver, time);
        await using var _ = server;
        await using var __ = upstream;
        (await server.Admin.PostAsJsonAsync("/api/v1/systems/hooked/decisions", new { outcome = "pilot", reason = "go" })).EnsureSuccessStatusCode();
        var watcher = server.App.Services.GetRequiredService<PilotExpiryWatcher>();

        Assert.Equal(0, await watcher.CheckAsync(CancellationToken.None)); // 2099 is far away
        time.Offset = new DateTimeOffset(2099, 12, 26, 12, 0, 0, TimeSpan.Zero) - DateTimeOffset.UtcNow;
        Assert.Equal(1, await watcher.CheckAsync(CancellationToken.None));
        Assert.Equal(0, await watcher.CheckAsync(CancellationToken.None));
        time.Offset = new DateTimeOffset(2100, 1, 1, 12, 0, 0, TimeSpan.Zero) - DateTimeOffset.UtcNow;
        Assert.Equal(1, await watcher.CheckAsync(CancellationToken.None));

        var audit = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/audit?subject=system:hooked");
        var notices = audit!.Where(a => a.GetProperty("action").GetString()!.StartsWith("pilot.", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "pilot.expiring", "pilot.expired" }, notices.Select(n => n.GetProperty("action").GetString()!).ToArray());
        Assert.Contains("5 day(s) left", notices[0].GetProperty("after").GetString(), StringComparison.Ordinal);
        await WaitAsync(() => receiver.Received.Any(r => r.Event == "pilot.expired"));
    }
}
