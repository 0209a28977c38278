using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;

namespace Pilotage.Server.Import;

/// <summary>
/// One <c>COPY … FROM STDIN (FORMAT BINARY)</c> whose rows are encoded here, in PostgreSQL's binary COPY format, into
/// one buffer sent in large writes. Npgsql's importer binds every value through a parameter object with its type
/// resolved and its size measured first, which made the COPY of an import the largest cost of our process on
/// PostgreSQL; encoding the few types an import writes directly costs a fraction of that. Values are encoded as
/// Npgsql encodes them for the same types (a test reads the rows back). Synchronous: it runs on an import's writer.
/// </summary>
internal sealed class PostgresCopyWriter : IDisposable
{
    private const int BufferBytes = 64 * 1024;

    // Microseconds of PostgreSQL's epoch (2000-01-01 UTC) in .NET ticks.
    private static readonly long PostgresEpochTicks = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    private readonly NpgsqlRawCopyStream _stream;
    private readonly byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
    private int _at;
    private bool _completed;

    private PostgresCopyWriter(NpgsqlRawCopyStream stream)
    {
        _stream = stream;
        // The header: the signature, no flags, no extension area.
        Bytes("PGCOPY\n"u8);
        Bytes([0xFF, (byte)'\r', (byte)'\n', 0]);
        Int32(0);
        Int32(0);
    }

    /// <param name="copy">The COPY statement, <c>FROM STDIN (FORMAT BINARY)</c>.</param>
    public static PostgresCopyWriter Begin(NpgsqlConnection connection, string copy) => new(connection.BeginRawBinaryCopy(copy));

    /// <summary>Starts a row of <paramref name="fields"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Row(short fields)
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at), fields);
        _at += 2;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Null() => Int32(-1);

    /// <summary>text or varchar: UTF-8; a null reference is NULL.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Text(string? value)
    {
        if (value is null)
        {
            Null();
            return;
        }
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max + 4 <= BufferBytes)
        {
            Ensure(max + 4);
            var length = Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_at + 4));
            BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), length);
            _at += 4 + length;
            return;
        }
        // A value larger than the buffer is encoded on its own and written through.
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = Encoding.UTF8.GetBytes(value, rented);
            Int32(length);
            Flush();
            _stream.Write(rented, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>text or varchar already in UTF-8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Utf8(ReadOnlySpan<byte> value)
    {
        if (value.Length + 4 <= BufferBytes)
        {
            Int32(value.Length);
            Bytes(value);
            return;
        }
        // A value larger than the buffer is written through.
        Int32(value.Length);
        Flush();
        _stream.Write(value);
    }

    /// <summary>text or varchar: <paramref name="bytes"/> as lowercase hex, encoded straight into the buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Hex(ReadOnlySpan<byte> bytes)
    {
        var length = 2 * bytes.Length;
        Ensure(4 + length);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), length);
        Import.Hex.Write(bytes, _buffer.AsSpan(_at + 4, length));
        _at += 4 + length;
    }

    /// <summary>integer (int4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Integer(int value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at + 4), value);
        _at += 8;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Integer(int? value)
    {
        if (value is { } v) Integer(v);
        else Null();
    }

    /// <summary>bigint (int8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Bigint(long value)
    {
        Ensure(12);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_at + 4), value);
        _at += 12;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Bigint(long? value)
    {
        if (value is { } v) Bigint(v);
        else Null();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Boolean(bool value)
    {
        Ensure(5);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 1);
        _buffer[_at + 4] = value ? (byte)1 : (byte)0;
        _at += 5;
    }

    /// <summary>double precision (float8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Double(double value)
    {
        Ensure(12);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 8);
        BinaryPrimitives.WriteDoubleBigEndian(_buffer.AsSpan(_at + 4), value);
        _at += 12;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Double(double? value)
    {
        if (value is { } v) Double(v);
        else Null();
    }

    /// <summary>timestamptz: microseconds since 2000-01-01 UTC (sub-microsecond ticks dropped, as Npgsql drops them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void TimestampTz(DateTimeOffset value)
    {
        Ensure(12);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), 8);
        BinaryPrimitives.WriteInt64BigEndian(_buffer.AsSpan(_at + 4), (value.UtcTicks - PostgresEpochTicks) / 10);
        _at += 12;
    }

    /// <summary>
    /// numeric: base-10000 digits around the decimal point, most significant first, with the weight of the first
    /// (in groups of four decimal digits), the sign and the display scale (the decimal's own scale).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Numeric(decimal value)
    {
        var scale = value.Scale;
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var magnitude = ((UInt128)(uint)bits[2] << 64) | ((UInt128)(uint)bits[1] << 32) | (uint)bits[0];
        // The fraction padded to whole groups of four digits.
        var fractionGroups = (scale + 3) / 4;
        for (var i = scale; i < fractionGroups * 4; i++) magnitude *= 10;
        Span<short> groups = stackalloc short[16];
        var count = 0;
        while (magnitude != 0)
        {
            groups[count++] = (short)(ushort)(magnitude % 10_000);
            magnitude /= 10_000;
        }
        // groups[0] is the least significant; zeros at either end carry no digits.
        var low = 0;
        while (low < count && groups[low] == 0) low++;
        var digits = count - low;
        var weight = digits == 0 ? 0 : count - fractionGroups - 1;
        Ensure(4 + 8 + 2 * digits);
        var span = _buffer.AsSpan(_at);
        BinaryPrimitives.WriteInt32BigEndian(span, 8 + 2 * digits);
        BinaryPrimitives.WriteInt16BigEndian(span[4..], (short)digits);
        BinaryPrimitives.WriteInt16BigEndian(span[6..], (short)weight);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], value < 0 && digits > 0 ? (ushort)0x4000 : (ushort)0);
        BinaryPrimitives.WriteInt16BigEndian(span[10..], (short)scale);
        for (var d = 0; d < digits; d++) BinaryPrimitives.WriteInt16BigEndian(span[(12 + 2 * d)..], groups[count - 1 - d]);
        _at += 12 + 2 * digits;
    }

    /// <summary>Ends the COPY: the trailer, the last bytes, and the server's confirmation.</summary>
    public void Complete()
    {
        Ensure(2);
        BinaryPrimitives.WriteInt16BigEndian(_buffer.AsSpan(_at), -1);
        _at += 2;
        Flush();
        _completed = true;
        _stream.Dispose();
    }

    /// <summary>Without <see cref="Complete"/>, the COPY is cancelled: none of its rows is stored.</summary>
    public void Dispose()
    {
        if (!_completed)
        {
            try
            {
                _stream.Cancel();
            }
            finally
            {
                _stream.Dispose();
            }
        }
        ArrayPool<byte>.Shared.Return(_buffer);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Int32(int value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32BigEndian(_buffer.AsSpan(_at), value);
        _at += 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Bytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_at));
        _at += bytes.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Ensure(int bytes)
    {
        if (_at + bytes > BufferBytes) Flush();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Flush()
    {
        if (_at == 0) return;
        _stream.Write(_buffer, 0, _at);
        _at = 0;
    }
}
