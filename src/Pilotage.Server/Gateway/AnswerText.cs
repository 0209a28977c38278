using System.Buffers;

namespace Pilotage.Server.Gateway;

/// <summary>
/// The text of a streamed answer read so far, for its evidence record: appended chunk by chunk, in characters rented
/// from the shared pool and given back when the answer ends. A string builder grew by new arrays for the length of the
/// answer, each one new when the garbage collector came, so that every collection copied the text of every answer open
/// (docs/scaling.md, "Memory"); a rented array is an old one, which a collection of the young objects does not copy.
/// </summary>
internal sealed class AnswerText : IDisposable
{
    /// <summary>The first array rented: a few sentences; longer answers take arrays twice as large.</summary>
    private const int FirstChars = 512;

    private char[]? _chars;
    private int _length;

    /// <summary>The characters appended so far; set it lower to take back what was appended after that point.</summary>
    public int Length
    {
        get => _length;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, _length);
            _length = value;
        }
    }

    public void Append(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty) return;
        Reserve(text.Length);
        text.CopyTo(_chars.AsSpan(_length));
        _length += text.Length;
    }

    public void Append(string? text) => Append(text.AsSpan());

    /// <summary>The characters appended after the first <paramref name="start"/>; valid until the next change.</summary>
    public ReadOnlySpan<char> Since(int start) => _chars is null ? [] : _chars.AsSpan(start, _length - start);

    public override string ToString() => _chars is null ? "" : new string(_chars, 0, _length);

    /// <summary>
    /// The text as UTF-8, exactly what encoding <see cref="ToString"/> gives; null when it holds half of a surrogate pair,
    /// which UTF-8 cannot spell (an encoder would write U+FFFD for it, and the text would no longer be the answer's).
    /// </summary>
    public byte[]? ToUtf8()
    {
        var text = _chars.AsSpan(0, _length);
        var bytes = new byte[System.Text.Encoding.UTF8.GetByteCount(text)];
        return System.Text.Unicode.Utf8.FromUtf16(text, bytes, out _, out _, replaceInvalidSequences: false) == OperationStatus.Done ? bytes : null;
    }

    private void Reserve(int more)
    {
        var needed = checked(_length + more);
        if (_chars is not null && needed <= _chars.Length) return;
        var size = Math.Max(needed, _chars is null ? FirstChars : (int)Math.Min((long)_chars.Length * 2, Array.MaxLength));
        var larger = ArrayPool<char>.Shared.Rent(size);
        if (_chars is not null)
        {
            _chars.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<char>.Shared.Return(_chars);
        }
        _chars = larger;
    }

    /// <summary>Gives the characters back to the pool; the text reads as empty afterwards.</summary>
    public void Dispose()
    {
        if (_chars is null) return;
        ArrayPool<char>.Shared.Return(_chars);
        _chars = null;
        _length = 0;
    }
}
