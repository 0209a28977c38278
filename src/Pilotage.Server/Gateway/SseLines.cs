using System.Buffers;
using System.Runtime.CompilerServices;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway;

/// <summary>
/// An upstream's event stream read line by line as bytes (server-sent events: a line ends with LF, CRLF or CR), for
/// the stream relay. While it waits for the model's next words it holds no buffer: it waits with a zero-byte read,
/// then rents one from the shared pool, and returns it as soon as the lines that came are taken. With thousands of
/// answers open, each waiting most of its time, a buffer (and a text decoder) per answer was a large part of the
/// gateway's memory per open stream. Over HTTP/2 the relay gives it the response through <see cref="PumpedReadStream"/>,
/// whose zero-byte reads wait the same way without an allocation per wait.
/// </summary>
/// <remarks>
/// Bounded twice: the whole stream by <paramref name="limit"/> (<see cref="InvalidDataException"/> beyond it, as a
/// model that streams without end would otherwise be read until the total time-out), and a line that does not end
/// (a hostile or broken upstream) by the server-wide <see cref="BufferBudget"/>: its bytes beyond
/// <see cref="UnbudgetedLineBytes"/> are reserved there, so many such lines at once are refused
/// (<see cref="BufferExhaustedException"/>) before the memory grows.
/// </remarks>
internal sealed class SseLines(Stream stream, long limit, string what, BufferBudget budget, GatewayAdmission admission) : IDisposable
{
    /// <summary>The buffer rented when data comes: most events of a stream are far smaller.</summary>
    private const int FirstBufferBytes = 4096;

    /// <summary>What a line may hold before its bytes count against the server-wide budget.</summary>
    public const int UnbudgetedLineBytes = 64 * 1024;

    private byte[]? _buffer;
    private int _start;
    private int _scanned;
    private int _end;
    private long _read;
    private long _budgeted = UnbudgetedLineBytes;
    private bool _ended;
    private bool _afterCarriageReturn;
    private bool _firstLine = true;

    /// <summary>The line last read, without its end; valid until the next <see cref="ReadLineAsync"/>.</summary>
    public ReadOnlyMemory<byte> Line { get; private set; }

    /// <summary>Reads the next line into <see cref="Line"/>; false once the stream has ended and every line was read.</summary>
    public ValueTask<bool> ReadLineAsync(CancellationToken ct) => TryTakeLine() ? ValueTask.FromResult(true) : FillAsync(ct);

    /// <summary>Reads until a line is complete (or the stream ends). Pooled: it awaits the upstream once per event, and
    /// a fresh state machine for each would be an allocation per chunk relayed.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(CancellationToken ct)
    {
        while (true)
        {
            if (_ended) return TakeLastLine();
            if (_start == _end) Release();
            if (_buffer is null)
            {
                // Waits for the model without a buffer; a stream that cannot wait this way returns 0 at once, and the
                // read below waits instead.
#pragma warning disable CA2022 // a zero-byte read returns nothing by design: it only waits until data is there
                await stream.ReadAsync(Memory<byte>.Empty, ct);
#pragma warning restore CA2022
                _buffer = ArrayPool<byte>.Shared.Rent(FirstBufferBytes);
                _start = _scanned = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                MakeRoom();
            }
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
            if (read == 0)
            {
                _ended = true;
                continue;
            }
            _read += read;
            if (_read > limit) throw new InvalidDataException($"{what} is larger than {limit / 1024 / 1024} MB");
            _end += read;
            if (TryTakeLine()) return true;
        }
    }

    private bool TryTakeLine()
    {
        if (_buffer is null) return false;
        if (_afterCarriageReturn && _start < _end)
        {
            // CRLF split across two reads: the LF ends no second line.
            _afterCarriageReturn = false;
            if (_buffer[_start] == (byte)'\n') _scanned = ++_start;
        }
        var at = _buffer.AsSpan(_scanned, _end - _scanned).IndexOfAny((byte)'\r', (byte)'\n');
        if (at < 0)
        {
            // Only new bytes are searched next time: a line that never ends costs one pass, not one per read.
            _scanned = _end;
            return false;
        }
        at += _scanned;
        SetLine(_start, at - _start);
        var next = at + 1;
        if (_buffer[at] == (byte)'\r')
        {
            if (next < _end) { if (_buffer[next] == (byte)'\n') next++; }
            else _afterCarriageReturn = true;
        }
        _start = _scanned = next;
        return true;
    }

    /// <summary>What came after the last line end, as a last line (a stream may end without one).</summary>
    private bool TakeLastLine()
    {
        if (_buffer is null || _start == _end) return false;
        SetLine(_start, _end - _start);
        _start = _scanned = _end;
        return true;
    }

    private void SetLine(int start, int length)
    {
        var line = _buffer.AsMemory(start, length);
        // A UTF-8 byte order mark may open the stream (a text reader skipped it too).
        if (_firstLine && line.Span.StartsWith("\uFEFF"u8)) line = line[3..];
        _firstLine = false;
        Line = line;
    }

    /// <summary>The buffer is full: moves the unfinished line to its start, or takes a buffer twice as large.</summary>
    private void MakeRoom()
    {
        var pending = _end - _start;
        if (_start > 0 && pending <= _buffer!.Length / 2)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        else
        {
            // One byte past the stream's cap is enough: the read that fills it fails the stream.
            var size = (int)Math.Min(Math.Min((long)_buffer!.Length * 2, limit + 1), Array.MaxLength);
            if (size > _budgeted)
            {
                if (!budget.TryReserve(admission, (size - _budgeted) * BufferBudget.CostPerByte))
                {
                    throw new BufferExhaustedException(budget.Exhausted($"a line of {what} ({pending / 1024} KB so far, without an end)", sentToModel: true));
                }
                _budgeted = size;
            }
            var larger = ArrayPool<byte>.Shared.Rent(size);
            _buffer.AsSpan(_start, pending).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
        _scanned -= _start;
        _start = 0;
        _end = pending;
    }

    private void Release()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _start = _scanned = _end = 0;
    }

    public void Dispose() => Release();
}

/// <summary>The server-wide buffer budget is spent: the stream ends with this refusal (503 <c>server_busy</c>).</summary>
internal sealed class BufferExhaustedException(GatewayRefusal refusal) : IOException(refusal.Message)
{
    public GatewayRefusal Refusal { get; } = refusal;
}
