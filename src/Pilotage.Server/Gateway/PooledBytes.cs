using System.Buffers;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Bytes written into arrays rented from the shared pool, copied out once at the end: what the serializer writes a
/// body into (its pooled writer is internal to System.Text.Json, hence this one). A growing
/// <see cref="ArrayBufferWriter{T}"/> allocated its array, and a second one twice as large when a body outgrew it.
/// </summary>
internal sealed class PooledBytes : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private int _written;

    public PooledBytes(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>What was written, in an array of its own.</summary>
    public byte[] ToArray() => _buffer.AsSpan(0, _written).ToArray();

    private void Reserve(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed) return;
        var larger = ArrayPool<byte>.Shared.Rent(checked(Math.Max(_buffer.Length * 2, _written + needed)));
        _buffer.AsSpan(0, _written).CopyTo(larger);
        Return(_buffer, _written);
        _buffer = larger;
    }

    /// <summary>Gives the array back, cleared of what was written: it held a request.</summary>
    public void Dispose()
    {
        Return(_buffer, _written);
        _buffer = [];
        _written = 0;
    }

    private static void Return(byte[] buffer, int written)
    {
        if (buffer.Length == 0) return;
        buffer.AsSpan(0, written).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }
}
