using System.Collections.Concurrent;

namespace Pilotage.Server.Gateway;

/// <summary>
/// The upstream calls' time-out sources, reused: one per call in flight, kept once the call ends for the next one.
/// Kept ones are old objects, which a collection does not copy, where a source made per call (with its timer and the
/// registrations on it) was copied at every collection for as long as its streamed answer lasted. Keeps at most as many
/// as calls may be in flight (<see cref="GatewayOptions.MaxUpstreamInFlight"/>): about half a kilobyte each.
/// </summary>
internal sealed class UpstreamTimeoutPool(GatewayOptions options, TimeProvider time)
{
    private readonly ConcurrentQueue<UpstreamTimeouts> _kept = new();
    private readonly int _most = Math.Max(0, options.MaxUpstreamInFlight);
    private int _count;

    /// <summary>How many sources are kept for reuse now.</summary>
    public int Kept => Volatile.Read(ref _count);

    /// <summary>A source armed for one call: the first-byte limit runs from now, and <paramref name="aborted"/> cancels it.</summary>
    public UpstreamTimeouts Rent(TimeSpan firstByte, TimeSpan total, CancellationToken aborted)
    {
        if (_kept.TryDequeue(out var timeouts)) Interlocked.Decrement(ref _count);
        else timeouts = new UpstreamTimeouts(this);
        timeouts.Arm(time, firstByte, total, aborted);
        return timeouts;
    }

    /// <summary>Keeps a reset source for the next call; false when the pool is full (the caller disposes it).</summary>
    internal bool Return(UpstreamTimeouts timeouts)
    {
        if (Interlocked.Increment(ref _count) > _most)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        _kept.Enqueue(timeouts);
        return true;
    }
}
