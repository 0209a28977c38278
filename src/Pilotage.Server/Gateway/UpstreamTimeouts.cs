
namespace Pilotage.Server.Gateway;

/// <summary>
/// The two time-outs of an upstream call in one cancellation source linked to the client's: until the
/// upstream's headers arrive it fires at the first-byte limit (or the total, if shorter), afterwards at what
/// is left of the total. Timers use the system clock, as <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/> does.
/// </summary>
internal sealed class UpstreamTimeouts : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly TimeProvider _time;
    private readonly long _started;
    private bool _headersArrived;

    public UpstreamTimeouts(TimeProvider time, TimeSpan firstByte, TimeSpan total, CancellationToken aborted)
    {
        _time = time;
        _started = time.GetTimestamp();
        FirstByte = firstByte;
        Total = total;
        _source = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        _source.CancelAfter(firstByte < total ? firstByte : total);
    }

    public TimeSpan FirstByte { get; }
    public TimeSpan Total { get; }
    public CancellationToken Token => _source.Token;

    /// <summary>Which limit a cancellation (not the client's) came from: the total, or the first byte.</summary>
    public bool TotalExpired => _headersArrived || Total <= FirstByte;

    /// <summary>From now on only the total limit applies.</summary>
    public void HeadersArrived()
    {
        _headersArrived = true;
        var left = Total - _time.GetElapsedTime(_started);
        _source.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1));
    }

    public void Dispose() => _source.Dispose();
}
