using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Pilotage.Core.Gateway;
using Pilotage.Server.Hosting;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Bounds the upstream calls in flight: per key, per system and for the whole server. A slow or hanging
/// upstream then holds at most that many requests (each with its socket and buffers); the next ones are
/// refused at once, with Retry-After, instead of queueing without limit. Refused early, a request costs
/// nothing upstream, and the control API and the kill switch keep answering (docs/security.md).
/// </summary>
public sealed class UpstreamLimits : IDisposable
{
    private readonly PilotageServerOptions _options;
    private readonly ConcurrencyLimiter _global;
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _perSystem = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _perKey = new(StringComparer.Ordinal);

    public UpstreamLimits(PilotageServerOptions options)
    {
        _options = options;
        _global = Limiter(options.MaxUpstreamInFlight);
    }

    /// <summary>Permits for one upstream call, or the refusal when a bound is reached. Dispose the permit when the call is over.</summary>
    public (IDisposable? Permit, GatewayRefusal? Refusal) Acquire(string keyId, string system)
    {
        var key = _perKey.GetOrAdd(keyId, _ => Limiter(_options.MaxUpstreamInFlightPerKey)).AttemptAcquire();
        if (!key.IsAcquired)
        {
            key.Dispose();
            return (null, new GatewayRefusal(429, "too_many_concurrent_requests", string.Create(CultureInfo.InvariantCulture,
                $"this key already has {_options.MaxUpstreamInFlightPerKey} requests waiting for a model; wait for some to finish (Retry-After) before sending more")));
        }
        var perSystem = _perSystem.GetOrAdd(system, _ => Limiter(_options.MaxUpstreamInFlightPerSystem)).AttemptAcquire();
        if (!perSystem.IsAcquired)
        {
            perSystem.Dispose();
            key.Dispose();
            return (null, Busy($"the model behind '{system}' has {_options.MaxUpstreamInFlightPerSystem} requests in progress, the most Pilotage lets one system have"));
        }
        var global = _global.AttemptAcquire();
        if (!global.IsAcquired)
        {
            global.Dispose();
            perSystem.Dispose();
            key.Dispose();
            return (null, Busy($"the gateway has {_options.MaxUpstreamInFlight} requests in progress, its limit"));
        }
        return (new Permits(key, perSystem, global), null);
    }

    private static GatewayRefusal Busy(string why) =>
        new(503, "server_busy", $"{why}; nothing was sent to the model. Retry after a moment (Retry-After); if it persists, {ServingPolicy.ManualProcess}.");

    /// <summary>Fails fast: no queue, so a caller never waits behind a hung upstream.</summary>
    private static ConcurrencyLimiter Limiter(int permits) => new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Math.Max(1, permits),
        QueueLimit = 0,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    public void Dispose()
    {
        _global.Dispose();
        foreach (var limiter in _perSystem.Values) limiter.Dispose();
        foreach (var limiter in _perKey.Values) limiter.Dispose();
    }

    private sealed class Permits(RateLimitLease key, RateLimitLease system, RateLimitLease global) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            global.Dispose();
            system.Dispose();
            key.Dispose();
        }
    }
}
