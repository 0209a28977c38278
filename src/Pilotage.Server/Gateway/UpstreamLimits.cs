using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Bounds the upstream calls in flight: per key, per system and for the whole server. A slow or hanging
/// upstream then holds at most that many requests (each with its socket and buffers); the next ones are
/// refused at once, with Retry-After, instead of queueing without limit. Refused early, a request costs
/// nothing upstream, and the control API and the kill switch keep answering (docs/security.md).
/// </summary>
public sealed class UpstreamLimits : IDisposable
{
    private readonly GatewayOptions _options;
    private readonly ConcurrencyLimiter _global;
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _perSystem = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrencyLimiter> _perKey = new(StringComparer.Ordinal);

    public UpstreamLimits(GatewayOptions options)
    {
        _options = options;
        _global = Limiter(options.MaxUpstreamInFlight);
    }

    /// <summary>
    /// The key's and the server's places, taken before the request body is read: a request that would be
    /// refused anyway is turned away before it costs the server its body (up to 16 MB) and a parse. The
    /// system's place needs the body's <c>model</c>, so it is taken later with <see cref="AdmitSystem"/>.
    /// Dispose the admission when the call is over (it also carries the body's byte reservation).
    /// </summary>
    public (GatewayAdmission? Admission, GatewayRefusal? Refusal) Admit(string keyId)
    {
        var key = _perKey.GetOrAdd(keyId, static (_, permits) => Limiter(permits), _options.MaxUpstreamInFlightPerKey).AttemptAcquire();
        if (!key.IsAcquired)
        {
            key.Dispose();
            return (null, new GatewayRefusal(429, "too_many_concurrent_requests", string.Create(CultureInfo.InvariantCulture,
                $"this key already has {_options.MaxUpstreamInFlightPerKey} requests waiting for a model; wait for some to finish (Retry-After) before sending more")));
        }
        var global = _global.AttemptAcquire();
        if (!global.IsAcquired)
        {
            global.Dispose();
            key.Dispose();
            return (null, Busy($"the gateway has {_options.MaxUpstreamInFlight} requests in progress, its limit"));
        }
        var admission = new GatewayAdmission();
        admission.Hold(key);
        admission.Hold(global);
        return (admission, null);
    }

    /// <summary>The system's place, once the body named it; null when taken (held by the admission), else the refusal.</summary>
    public GatewayRefusal? AdmitSystem(GatewayAdmission admission, string system)
    {
        var perSystem = _perSystem.GetOrAdd(system, static (_, permits) => Limiter(permits), _options.MaxUpstreamInFlightPerSystem).AttemptAcquire();
        if (!perSystem.IsAcquired)
        {
            perSystem.Dispose();
            return Busy($"the model behind '{system}' has {_options.MaxUpstreamInFlightPerSystem} requests in progress, the most Pilotage lets one system have");
        }
        admission.Hold(perSystem);
        return null;
    }

    /// <summary>Gateway requests holding a server-wide place now (tests check it returns to zero).</summary>
    public int InFlight => (int)Math.Max(0, Math.Max(1, _options.MaxUpstreamInFlight) - (_global.GetStatistics()?.CurrentAvailablePermits ?? 0));

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
}

/// <summary>
/// Everything one gateway request holds while it is in progress: its places among the calls in flight and
/// its reservation of buffered bytes. Disposed once, on every path, when the request is over.
/// </summary>
public sealed class GatewayAdmission : IDisposable
{
    // Most requests hold four or five things: their key's, the server's and the system's places, and the bytes of their
    // body and of the answer (one more per step when either grows in steps). The first four are held in fields, the rest
    // in a list made only when needed: a list and its array for every request were kept alive as long as its answer.
    private IDisposable? _first, _second, _third, _fourth;
    private List<IDisposable>? _more;
    private readonly Lock _gate = new();
    private bool _disposed;

    public void Hold(IDisposable resource)
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                if (_first is null) _first = resource;
                else if (_second is null) _second = resource;
                else if (_third is null) _third = resource;
                else if (_fourth is null) _fourth = resource;
                else (_more ??= []).Add(resource);
                return;
            }
        }
        resource.Dispose();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        // Once disposed, Hold no longer adds, so what is held is read outside the lock; released last taken first.
        if (_more is { } more)
        {
            for (var i = more.Count - 1; i >= 0; i--) more[i].Dispose();
        }
        _fourth?.Dispose();
        _third?.Dispose();
        _second?.Dispose();
        _first?.Dispose();
        _first = _second = _third = _fourth = null;
        _more = null;
    }
}
