using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Pilotage.Core.Evidence;
using Pilotage.Core.Import;

namespace Pilotage.Server.Import;

/// <summary>
/// One imported row ready to write, as a value in its slice's pooled array: only what differs from row to row (the
/// rest of an interaction, its review and its feedback is the same for every row of an import, or follows from these).
/// A slice's rows live until it is written, so what they hold is what the garbage collector copies; the id and the
/// hashes are held as bytes and written as text straight into the database's buffer.
/// </summary>
internal struct ImportRow
{
    public ImportId Id;
    public DateTimeOffset CreatedAt;
    /// <summary>The person named by the row, held once per e-mail of the file; null when none.</summary>
    public string? UserEmail;
    public long UserId;
    public Sha256Value RequestHash;
    public Sha256Value ResponseHash;
    /// <summary>
    /// The texts in UTF-8 in the slice's <see cref="ImportBatch.Text"/>, when the system's evidence keeps content
    /// (<see cref="KeepsContent"/>): bytes in one pooled buffer, not strings kept alive until the slice is written.
    /// </summary>
    public bool KeepsContent;
    public TextRange RequestContent;
    public TextRange ResponseContent;
    public string? Category;
    public bool Reviewed;
    public ReviewOutcome Outcome;
    public double ReviewSeconds;
    public double? Rework;
    public string? FinalText;
    public int? Rating;
}

/// <summary>Where a text is in its slice's UTF-8 buffer.</summary>
internal readonly record struct TextRange(int Start, int Length);

/// <summary>A SHA-256 value as its 32 bytes; stored as 64 lowercase hex characters.</summary>
[InlineArray(Bytes)]
internal struct Sha256Value
{
    public const int Bytes = 32;

    private byte _first;

    /// <summary>The UTF-8 text of <paramref name="text"/> hashed (from a stack or pooled buffer, no array per value).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Sha256Value Of(string text)
    {
        var value = new Sha256Value();
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = max > 4096 ? ArrayPool<byte>.Shared.Rent(max) : null;
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[4096];
            var length = System.Text.Encoding.UTF8.GetBytes(text, buffer);
            // In one call to the native library, not three (append, finish, reset), each of which clears its error queue.
            System.Security.Cryptography.SHA256.HashData(buffer[..length], value);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Sha256Value Of(ReadOnlySpan<byte> utf8)
    {
        var value = new Sha256Value();
        System.Security.Cryptography.SHA256.HashData(utf8, value);
        return value;
    }
}

/// <summary>
/// An imported row's id (<see cref="EvidenceCsv.InteractionId(string, EvidenceRecord)"/>) without its text: the
/// milliseconds and the 12 bytes of hash it is written from. Ordered as the ids' text is ordered (bytewise): the
/// time's hex digits have a fixed width and lowercase hex sorts as the bytes it encodes.
/// </summary>
internal readonly struct ImportId : IEquatable<ImportId>, IComparable<ImportId>
{
    /// <summary>Characters (and UTF-8 bytes) of the id.</summary>
    public const int Length = EvidenceCsv.IdLength;

    private readonly long _millis;
    private readonly ulong _high;
    private readonly uint _low;

    /// <param name="hash">The row's SHA-256; its first <see cref="EvidenceCsv.IdHashBytes"/> bytes are kept.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ImportId(long millis, ReadOnlySpan<byte> hash)
    {
        _millis = millis;
        _high = BinaryPrimitives.ReadUInt64BigEndian(hash);
        _low = BinaryPrimitives.ReadUInt32BigEndian(hash[8..EvidenceCsv.IdHashBytes]);
    }

    /// <summary>The id's text as ASCII into <paramref name="destination"/> (<see cref="Length"/> bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<byte> Write(Span<byte> destination)
    {
        var id = destination[..Length];
        "int_"u8.CopyTo(id);
        Hex.Write(_millis, 12, id[4..]);
        Hex.Write((long)_high, 16, id[16..]);
        Hex.Write(_low, 8, id[32..]);
        return id;
    }

    /// <summary>The id as a string: for the lookup of rows already recorded, not for every row.</summary>
    public override string ToString()
    {
        Span<byte> ascii = stackalloc byte[Length];
        return System.Text.Encoding.ASCII.GetString(Write(ascii));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int CompareTo(ImportId other)
    {
        var byTime = _millis.CompareTo(other._millis);
        if (byTime != 0) return byTime;
        var byHigh = _high.CompareTo(other._high);
        return byHigh != 0 ? byHigh : _low.CompareTo(other._low);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Equals(ImportId other) => _millis == other._millis && _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is ImportId other && Equals(other);

    // The hash bytes are spread evenly already.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override int GetHashCode() => (int)_high ^ (int)(_high >> 32) ^ (int)_low;
}

/// <summary>Lowercase hex written as ASCII bytes.</summary>
internal static class Hex
{
    private static ReadOnlySpan<byte> Digits => "0123456789abcdef"u8;

    /// <summary>The low <paramref name="digits"/> nibbles of <paramref name="value"/>, most significant first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(long value, int digits, Span<byte> destination)
    {
        for (var i = digits - 1; i >= 0; i--)
        {
            destination[i] = Digits[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    /// <summary><paramref name="bytes"/> as 2 characters each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Write(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        if (!Convert.TryToHexStringLower(bytes, destination, out _)) throw new ArgumentException("the destination holds fewer than two bytes per byte", nameof(destination));
    }
}

/// <summary>
/// Rows of one slice of a file, checked and built, in a pooled array, and what was refused or repeated among them.
/// Returned to the pool when written.
/// </summary>
internal sealed class ImportBatch : IDisposable
{
    private const int TextBytes = 1 << 20;

    private ImportRow[]? _rows;
    private byte[]? _text = ArrayPool<byte>.Shared.Rent(TextBytes);
    private int _textLength;

    public ImportBatch(int capacity) => _rows = ArrayPool<ImportRow>.Shared.Rent(capacity);

    /// <summary>The UTF-8 of the texts of <paramref name="range"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ReadOnlySpan<byte> Text(TextRange range) => (_text ?? throw new ObjectDisposedException(nameof(ImportBatch))).AsSpan(range.Start, range.Length);

    /// <summary>Adds <paramref name="text"/> in UTF-8 to the slice's text buffer (grown by doubling, pooled).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public TextRange AddText(string text)
    {
        var buffer = _text ?? throw new ObjectDisposedException(nameof(ImportBatch));
        var max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        if (_textLength + max > buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(2 * buffer.Length, _textLength + max));
            buffer.AsSpan(0, _textLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            _text = buffer = larger;
        }
        var length = System.Text.Encoding.UTF8.GetBytes(text, buffer.AsSpan(_textLength));
        var range = new TextRange(_textLength, length);
        _textLength += length;
        return range;
    }

    /// <summary>Forgets the last text added (hashed only, not kept).</summary>
    public void DropText(TextRange range) => _textLength = range.Start;

    /// <summary>Rows built.</summary>
    public int Count { get; private set; }

    /// <summary>Records of the file this slice read (built, refused or repeated).</summary>
    public int Read { get; set; }

    public int Repeated { get; set; }

    public Span<ImportRow> Rows => (_rows ?? throw new ObjectDisposedException(nameof(ImportBatch))).AsSpan(0, Count);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ref ImportRow Add()
    {
        var rows = _rows ?? throw new ObjectDisposedException(nameof(ImportBatch));
        if (Count == rows.Length)
        {
            var larger = ArrayPool<ImportRow>.Shared.Rent(rows.Length * 2);
            rows.AsSpan().CopyTo(larger);
            ArrayPool<ImportRow>.Shared.Return(rows, clearArray: true);
            _rows = rows = larger;
        }
        rows[Count] = default;
        return ref rows[Count++];
    }

    /// <summary>Keeps the first <paramref name="count"/> rows (those written, moved to the front).</summary>
    public void Truncate(int count) => Count = count;

    // Cleared: a pooled array must not keep a slice's texts alive.
    public void Dispose()
    {
        if (_rows is { } rows) ArrayPool<ImportRow>.Shared.Return(rows, clearArray: true);
        _rows = null;
        if (_text is { } text) ArrayPool<byte>.Shared.Return(text);
        _text = null;
    }
}
