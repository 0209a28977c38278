using System.Threading.Tasks.Sources;

namespace Pilotage.Server.Gateway;

/// <summary>
/// An upstream's response stream read through its own <see cref="Stream.CopyToAsync(Stream, int, CancellationToken)"/>:
/// the copy writes into this stream, and each write goes to the reader's read. The HTTP/2 response stream's
/// <c>ReadAsync</c> is an async method that allocates its state machine (about 140 B) each time it has to wait, so
/// once per event relayed; its <c>CopyToAsync</c> is one state machine for the whole answer, and waits without
/// allocating. The platform has no other way to wait for an HTTP/2 response's data without that allocation.
/// </summary>
/// <remarks>
/// <para>The copy and the reader take turns: the copy reads the upstream only while the reader waits for bytes, and
/// each write waits until the reader asks for more. So a zero-byte read waits until data is there, as on the response
/// stream itself; the upstream is read no faster than the relay writes to its client (the model is still held back by
/// flow control); and when the reader stops (the answer ended, or failed), the copy is waiting in a write, not in a
/// read of the upstream. It is left there when this stream is disposed: resumed, it would read the stream disposal
/// has just reset and throw, an exception per answer. It then holds nothing but its own state and buffer, which the GC
/// takes with this stream.</para>
/// <para>Cancellation is the copy's: the token given here ends a read that waits. What the copy fails with (a reset
/// stream, a time-out) is what the read throws, as the response stream's own read would.</para>
/// <para>Held per open answer: the copy's buffer (<see cref="CopyBufferBytes"/>), its state machine, and this object.</para>
/// </remarks>
internal sealed class PumpedReadStream(Stream upstream, CancellationToken ct) : Stream, IValueTaskSource<int>, IValueTaskSource
{
    /// <summary>The copy's buffer, held for the whole answer: an event of the usual size (200–300 bytes) in one write;
    /// a larger one in several, each copied on to the reader.</summary>
    public const int CopyBufferBytes = 256;

    // The reader's read: completed by the copy's next write, or its end. Reset only by the reader.
    private ManualResetValueTaskSourceCore<int> _read;
    // The copy's write: completed when the reader asks for more bytes. Reset only by the copy.
    private ManualResetValueTaskSourceCore<bool> _write;
    private Task? _copy;
    private Memory<byte> _into;
    private ReadOnlyMemory<byte> _offered;
    private bool _ended;
    private Exception? _failure;
    private bool _disposed;

    public override bool CanRead => !_disposed;
    public override bool CanWrite => !_disposed;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Reads what the copy wrote; a zero-byte read waits until there is something to read (or the end).</summary>
    /// <remarks>Not thread-safe, as a stream's reads are not: one read at a time.</remarks>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_offered.IsEmpty) return ValueTask.FromResult(Take(buffer.Span));
        if (_ended) return _failure is null ? ValueTask.FromResult(0) : ValueTask.FromException<int>(_failure);
        _read.Reset();
        _into = buffer;
        // Everything the copy may read is set before it runs: it may write (or end) on this thread, before this returns.
        if (_copy is null) StartCopy();
        else _write.SetResult(true);
        return new ValueTask<int>(this, _read.Version);
    }

    /// <summary>The copy's side: hands the bytes to the waiting read, and returns once the reader asks for more.</summary>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty) return ValueTask.CompletedTask;
        _write.Reset();
        var version = _write.Version;
        // A zero-byte read takes nothing: the bytes wait in the copy's buffer for the read that follows it.
        var taken = Math.Min(_into.Length, buffer.Length);
        buffer.Span[..taken].CopyTo(_into.Span);
        _into = default;
        _offered = buffer[taken..];
        // The reader may go on here, on this thread, and ask for more (completing this write) before this returns.
        _read.SetResult(taken);
        return new ValueTask(this, version);
    }

    private void StartCopy()
    {
        _copy = upstream.CopyToAsync(this, CopyBufferBytes, ct);
        if (_copy.IsCompleted) CopyEnded();
        else _copy.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(CopyEnded);
    }

    /// <summary>The upstream ended (or failed): the waiting read returns 0 (or throws what the copy threw).</summary>
    private void CopyEnded()
    {
        try
        {
            _copy!.GetAwaiter().GetResult();
        }
#pragma warning disable CA1031 // whatever the copy threw is the read's to throw
        catch (Exception e)
#pragma warning restore CA1031
        {
            _failure = e;
        }
        _ended = true;
        _offered = default;
        _into = default;
        if (_failure is null) _read.SetResult(0);
        else _read.SetException(_failure);
    }

    private int Take(Span<byte> into)
    {
        var taken = Math.Min(into.Length, _offered.Length);
        _offered.Span[..taken].CopyTo(into);
        _offered = _offered[taken..];
        return taken;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _offered = default;
            upstream.Dispose();
        }
        base.Dispose(disposing);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Only asynchronous reads: the copy runs on its own.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    int IValueTaskSource<int>.GetResult(short token) => _read.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);
    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => _write.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _write.GetStatus(token);
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _write.OnCompleted(continuation, state, token, flags);
}
