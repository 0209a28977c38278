namespace Pilotage.Server.Gateway;

/// <summary>
/// The two time-outs of an upstream call in one cancellation source that the client's going away cancels too: until
/// the upstream's headers arrive it fires at the first-byte limit (or the total, if shorter), afterwards at what is left
/// of the total. Timers use the system clock, as <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> does.
/// Rented from an <see cref="UpstreamTimeoutPool"/> and given back when disposed.
/// </summary>
internal sealed class UpstreamTimeouts : IDisposable
{
    // Not a linked source: one made per call (with its timer, its registrations and its link to the client's token) was
    // young garbage that every open streamed answer kept alive, which each collection copied (docs/scaling.md). A source
    // that was never cancelled is reset and reused, its timer and registration nodes with it, as YARP's
    // ActivityCancellationTokenSource and Kestrel's request-aborted source are; the client's token cancels it through
    // a registration of its own, removed before the source is reset.
    private readonly CancellationTokenSource _source = new();
    private readonly UpstreamTimeoutPool _pool;
    private TimeProvider _time = TimeProvider.System;
    private long _started;
    private bool _headersArrived;
    private CancellationTokenRegistration _aborted;
    private int _armed;

    internal UpstreamTimeouts(UpstreamTimeoutPool pool) => _pool = pool;

    public TimeSpan FirstByte { get; private set; }
    public TimeSpan Total { get; private set; }
    public CancellationToken Token => _source.Token;

    /// <summary>Which limit a cancellation (not the client's) came from: the total, or the first byte.</summary>
    public bool TotalExpired => _headersArrived || Total <= FirstByte;

    // A frame of its own, never inlined into the pool's: the gateway's tests fail the clock while a call's time-outs
    // are armed, and find that moment by this type's frame on the stack (GatewayHarness).
    /// <summary>Starts the first-byte limit for one call; the client's token cancels the source from now on.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    internal void Arm(TimeProvider time, TimeSpan firstByte, TimeSpan total, CancellationToken aborted)
    {
        _time = time;
        _started = time.GetTimestamp();
        FirstByte = firstByte;
        Total = total;
        _headersArrived = false;
        _armed = 1;
        // Already cancelled, the client's token runs the callback here, at once: the call is cancelled before it starts.
        _aborted = aborted.UnsafeRegister(static source => ((CancellationTokenSource)source!).Cancel(), _source);
        _source.CancelAfter(firstByte < total ? firstByte : total);
    }

    /// <summary>From now on only the total limit applies.</summary>
    public void HeadersArrived()
    {
        _headersArrived = true;
        var left = Total - _time.GetElapsedTime(_started);
        _source.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
    }

    /// <summary>
    /// Ends the call's time-outs. A source that was cancelled (a limit, or the client) is never reused: only one that
    /// nothing cancelled goes back to the pool, reset. A second dispose does nothing, so the source is never given
    /// back twice (two calls sharing it would cancel each other).
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 0) return;
        // Waits for the client's callback if it is running: after this the source is cancelled or will not be.
        _aborted.Dispose();
        _aborted = default;
        if (_source.TryReset() && _pool.Return(this)) return;
        _source.Dispose();
    }
}
