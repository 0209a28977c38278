using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Digit searches for the normalisation and the detectors, in one place. The range helpers are kept over a
/// <c>SearchValues</c> set: once the JIT has optimised their callers they scan 4 KB of clean ASCII prose in about
/// 7 µs against 13–14 µs (Pilotage.Bench.Boundary, side by side, 2026-12-05), because prose calls them many times on
/// short spans. They run over the text as <c>ushort</c>: the runtime ships that instantiation precompiled, while the
/// <c>char</c> one starts unoptimised and boxes its bounds (about 200 bytes a call, 22 KB per request of the gateway's
/// realistic prompt) until the JIT gets to it, which in a busy server took thousands of requests.
/// </summary>
internal static class AsciiDigits
{
    /// <summary>The index of the first ASCII digit, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<char> span) => MemoryMarshal.Cast<char, ushort>(span).IndexOfAnyInRange((ushort)'0', (ushort)'9');

    /// <summary>True when every character is an ASCII digit (and for an empty span).</summary>
    public static bool All(ReadOnlySpan<char> span) => !MemoryMarshal.Cast<char, ushort>(span).ContainsAnyExceptInRange((ushort)'0', (ushort)'9');

    /// <summary>How many 64-bit words <see cref="Mark"/> needs for a text of <paramref name="length"/> characters.</summary>
    public static int WordsFor(int length) => (length + 63) >> 6;

    /// <summary>
    /// One pass over <paramref name="span"/>: bit <c>i % 64</c> of <c>digits[i / 64]</c> set when character <c>i</c> is an
    /// ASCII digit (every other bit clear, those past the end too), and whether any character is outside ASCII or an
    /// '@'. The normalisation's walk then goes from run to run of digits by bit counts: prose with a number every few
    /// words called a vector search and a character loop per run, most of the normalisation's time (2026-12-05).
    /// </summary>
    /// <param name="digits"><see cref="WordsFor"/> words; all are written, unless <paramref name="untilNonAscii"/>.</param>
    /// <param name="untilNonAscii">
    /// Stop at the first word that holds a character outside ASCII, the digits and '@' of the rest unread: for a caller that
    /// then reads the text otherwise (prose in another script shows it in its first word, and is spared the pass).
    /// </param>
    public static TextMarks Mark(ReadOnlySpan<char> span, Span<ulong> digits, bool untilNonAscii = false)
    {
        var chars = MemoryMarshal.Cast<char, ushort>(span);
        if (!Vector256.IsHardwareAccelerated)
        {
            return MarkScalar(chars, digits);
        }
        var whole = chars.Length & ~63;
        var (any, ats) = MarkWords(chars[..whole], digits, untilNonAscii);
        if (untilNonAscii && (any & Vector256.Create((ushort)0xFF80)) != Vector256<ushort>.Zero)
        {
            return new TextMarks(true, ats != Vector256<ushort>.Zero);
        }
        if (whole < chars.Length && whole > 0)
        {
            // The last, partial word, as the last 64 characters (see TryWidenAndMark): those of the word before it are
            // read again, which changes nothing OR-ed, and the partial word's bits are the top ones.
            var (lastAny, lastAts) = MarkWords(chars[^64..], digits.Slice(whole >> 6, 1), untilNonAscii: false);
            digits[whole >> 6] >>= 64 - (chars.Length - whole);
            any |= lastAny;
            ats |= lastAts;
        }
        else if (whole < chars.Length)
        {
            // A text shorter than a word, from a copy padded with NULs (no digit, no '@', ASCII).
            Span<ushort> last = stackalloc ushort[64];
            chars[whole..].CopyTo(last);
            var (lastAny, lastAts) = MarkWords(last, digits[(whole >> 6)..], untilNonAscii: false);
            any |= lastAny;
            ats |= lastAts;
        }
        return new TextMarks((any & Vector256.Create((ushort)0xFF80)) != Vector256<ushort>.Zero, ats != Vector256<ushort>.Zero);
    }

    /// <summary>
    /// The digit bits of whole words of 64 characters; all their characters OR-ed together, and their '@' lanes, for the
    /// caller to test once.
    /// </summary>
    private static (Vector256<ushort> Any, Vector256<ushort> Ats) MarkWords(ReadOnlySpan<ushort> chars, Span<ulong> digits, bool untilNonAscii)
    {
        ref var start = ref MemoryMarshal.GetReference(chars);
        var zero = Vector256.Create((ushort)'0');
        var nine = Vector256.Create((ushort)9);
        var atSign = Vector256.Create((ushort)'@');
        var any = Vector256<ushort>.Zero;
        var ats = Vector256<ushort>.Zero;
        for (var i = 0; i + 64 <= chars.Length; i += 64)
        {
            ulong word = 0;
            for (var k = 0; k < 64; k += 32)
            {
                var a = Vector256.LoadUnsafe(ref start, (nuint)(i + k));
                var b = Vector256.LoadUnsafe(ref start, (nuint)(i + k + 16));
                any |= a | b;
                ats |= Vector256.Equals(a, atSign) | Vector256.Equals(b, atSign);
                // Each lane of a comparison is all ones or all zeros: narrowed to bytes it stays so, one bit a character.
                var isDigit = Vector256.Narrow(Vector256.LessThanOrEqual(a - zero, nine), Vector256.LessThanOrEqual(b - zero, nine));
                word |= (ulong)isDigit.ExtractMostSignificantBits() << k;
            }
            digits[i >> 6] = word;
            if (untilNonAscii && (any & Vector256.Create((ushort)0xFF80)) != Vector256<ushort>.Zero)
            {
                break;
            }
        }
        return (any, ats);
    }

    /// <summary>
    /// The request walk's one pass over a JSON string's UTF-8 content (quotes excluded), in place of three (the plainness
    /// test, the widening, <see cref="Mark"/>) and the search for the first '@': whether it is plain (ASCII with no escape,
    /// each byte its own character), its characters widened into <paramref name="chars"/>, its digit bits, and where its
    /// first '@' is (-1 for none). False, with <paramref name="chars"/> and <paramref name="digits"/> partly written, as
    /// soon as a byte is not plain: the caller then reads the string with the JSON reader. Written by hand because the
    /// platform has no call that widens and classifies in one pass; 64 bytes at a time are one 512-bit vector where the
    /// machine has them, and each comparison one 64-bit mask: a word of digit bits as it is.
    /// </summary>
    /// <remarks>
    /// It pays for no more than that: a version that also read letters, capitals, spaces and separators into bits, and
    /// computed the whole <see cref="TextProfile"/> and the folding test from them, was slower than the walk from run to
    /// run of digits it replaced (side by side in one process, 2026-12-05).
    /// </remarks>
    /// <param name="chars">At least as long as <paramref name="utf8"/>.</param>
    /// <param name="digits"><see cref="WordsFor"/> words of <paramref name="utf8"/>'s length; all are written.</param>
    public static bool TryWidenAndMark(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out int firstAt) =>
        Vector512.IsHardwareAccelerated ? TryWidenAndMark(utf8, chars, digits, out firstAt, wide: true)
        : Vector256.IsHardwareAccelerated ? TryWidenAndMark(utf8, chars, digits, out firstAt, wide: false)
        : TryWidenAndMarkScalar(utf8, chars, digits, out firstAt);

    /// <summary>The vector pass, in 512-bit vectors (<paramref name="wide"/>) or 256-bit ones: tests run both.</summary>
    internal static bool TryWidenAndMark(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out int firstAt, bool wide)
    {
        firstAt = -1;
        var whole = utf8.Length & ~63;
        ref var bytes = ref MemoryMarshal.GetReference(utf8);
        ref var widened = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(chars));
        for (var i = 0; i < whole; i += 64)
        {
            if (!WidenWord(ref Unsafe.Add(ref bytes, i), ref Unsafe.Add(ref widened, i), wide, out var digit, out var ats))
            {
                return false;
            }
            digits[i >> 6] = digit;
            if ((ats != 0) & (firstAt < 0))
            {
                firstAt = i + BitOperations.TrailingZeroCount(ats);
            }
        }
        if (whole < utf8.Length && whole > 0)
        {
            // The last, partial word, as the last 64 bytes: those of the word before it are read again (plain, as they were
            // found) and their characters written again as they are, and the partial word's bits are the top ones. A copy
            // padded with NULs cost about as much as three words (2026-12-05).
            var tail = utf8.Length - whole;
            if (!WidenWord(ref Unsafe.Add(ref bytes, utf8.Length - 64), ref Unsafe.Add(ref widened, utf8.Length - 64), wide, out var digit, out var ats))
            {
                return false;
            }
            digits[whole >> 6] = digit >> (64 - tail);
            ats >>= 64 - tail;
            if ((ats != 0) & (firstAt < 0))
            {
                firstAt = whole + BitOperations.TrailingZeroCount(ats);
            }
        }
        else if (whole < utf8.Length)
        {
            // A text shorter than a word, from a copy padded with NULs (plain, no digit, no '@').
            Span<byte> last = stackalloc byte[64];
            Span<ushort> lastWidened = stackalloc ushort[64];
            utf8[whole..].CopyTo(last);
            if (!WidenWord(ref MemoryMarshal.GetReference(last), ref MemoryMarshal.GetReference(lastWidened), wide, out var digit, out var ats))
            {
                return false;
            }
            lastWidened[..(utf8.Length - whole)].CopyTo(MemoryMarshal.Cast<char, ushort>(chars[whole..]));
            digits[whole >> 6] = digit;
            if ((ats != 0) & (firstAt < 0))
            {
                firstAt = whole + BitOperations.TrailingZeroCount(ats);
            }
        }
        return true;
    }

    /// <summary>64 bytes: false when one is not plain; else their characters written to <paramref name="widened"/>, a bit each for the digits and the '@'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool WidenWord(ref byte bytes, ref ushort widened, bool wide, out ulong digit, out ulong ats)
    {
        if (wide)
        {
            var v = Vector512.LoadUnsafe(ref bytes);
            // A byte outside ASCII has its top bit set, and so has a comparison's lane where a byte is a backslash.
            if (((v | Vector512.Equals(v, Vector512.Create((byte)'\\'))) & Vector512.Create((byte)0x80)) != Vector512<byte>.Zero)
            {
                digit = ats = 0;
                return false;
            }
            var (low, high) = Vector512.Widen(v);
            low.StoreUnsafe(ref widened);
            high.StoreUnsafe(ref widened, 32);
            digit = Vector512.LessThanOrEqual(v - Vector512.Create((byte)'0'), Vector512.Create((byte)9)).ExtractMostSignificantBits();
            ats = Vector512.Equals(v, Vector512.Create((byte)'@')).ExtractMostSignificantBits();
            return true;
        }
        var a = Vector256.LoadUnsafe(ref bytes);
        var b = Vector256.LoadUnsafe(ref bytes, 32);
        var backslash = Vector256.Create((byte)'\\');
        if (((a | b | Vector256.Equals(a, backslash) | Vector256.Equals(b, backslash)) & Vector256.Create((byte)0x80)) != Vector256<byte>.Zero)
        {
            digit = ats = 0;
            return false;
        }
        var (a0, a1) = Vector256.Widen(a);
        var (b0, b1) = Vector256.Widen(b);
        a0.StoreUnsafe(ref widened);
        a1.StoreUnsafe(ref widened, 16);
        b0.StoreUnsafe(ref widened, 32);
        b1.StoreUnsafe(ref widened, 48);
        var zero = Vector256.Create((byte)'0');
        var nine = Vector256.Create((byte)9);
        var atSign = Vector256.Create((byte)'@');
        digit = Vector256.LessThanOrEqual(a - zero, nine).ExtractMostSignificantBits() | ((ulong)Vector256.LessThanOrEqual(b - zero, nine).ExtractMostSignificantBits() << 32);
        ats = Vector256.Equals(a, atSign).ExtractMostSignificantBits() | ((ulong)Vector256.Equals(b, atSign).ExtractMostSignificantBits() << 32);
        return true;
    }

    /// <summary>As <see cref="TryWidenAndMark(ReadOnlySpan{byte}, Span{char}, Span{ulong}, out int)"/>, a byte at a time: where vectors are not accelerated, and for tests to compare with.</summary>
    internal static bool TryWidenAndMarkScalar(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out int firstAt)
    {
        digits.Clear();
        firstAt = -1;
        for (var i = 0; i < utf8.Length; i++)
        {
            var c = (char)utf8[i];
            if (c > 0x7F || c == '\\')
            {
                return false;
            }
            chars[i] = c;
            digits[i >> 6] |= (ulong)(char.IsAsciiDigit(c) ? 1 : 0) << i;
            firstAt = firstAt < 0 && c == '@' ? i : firstAt;
        }
        return true;
    }

    /// <summary>As <see cref="Mark"/>, a character at a time: where vectors are not accelerated, and for tests to compare with.</summary>
    internal static TextMarks MarkScalar(ReadOnlySpan<ushort> chars, Span<ulong> digits)
    {
        digits.Clear();
        var nonAscii = false;
        var at = false;
        for (var i = 0; i < chars.Length; i++)
        {
            var c = chars[i];
            nonAscii |= c > 0x7F;
            at |= c == '@';
            digits[i >> 6] |= (ulong)((uint)(c - '0') <= 9 ? 1 : 0) << i;
        }
        return new TextMarks(nonAscii, at);
    }

    /// <summary>The first index at or after <paramref name="from"/> whose bit is set in <paramref name="digits"/> (see <see cref="Mark"/>), or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Next(ReadOnlySpan<ulong> digits, int from)
    {
        var w = from >> 6;
        if (w >= digits.Length)
        {
            return -1;
        }
        var word = digits[w] & (ulong.MaxValue << (from & 63));
        while (word == 0)
        {
            if (++w == digits.Length)
            {
                return -1;
            }
            word = digits[w];
        }
        return (w << 6) + BitOperations.TrailingZeroCount(word);
    }

    /// <summary>
    /// The first index at or after <paramref name="from"/> whose bit is clear: the end of the run of digits it is in. Bits
    /// past the text's end are clear, so it is at most the text's length.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RunEnd(ReadOnlySpan<ulong> digits, int from)
    {
        var w = from >> 6;
        if (w >= digits.Length)
        {
            return from;
        }
        var word = ~digits[w] & (ulong.MaxValue << (from & 63));
        while (word == 0)
        {
            if (++w == digits.Length)
            {
                return w << 6;
            }
            word = ~digits[w];
        }
        return (w << 6) + BitOperations.TrailingZeroCount(word);
    }
}

/// <summary>What <see cref="AsciiDigits.Mark"/> learnt besides the digits: a character outside ASCII, an '@'.</summary>
internal readonly record struct TextMarks(bool NonAscii, bool HasAt);

/// <summary>
/// The separator sets the normalisation's walk and the text profile test at every run of digits, as one shift and mask
/// each: every member lies in 0x20–0x5F, so a 64-bit set relative to the space holds them. A chain of comparisons
/// branches on each, and prose gives those branches no pattern to learn.
/// </summary>
internal static class Separators
{
    /// <summary>' ', '-', '.', '/', '_': what the normalisation folds between digit groups, and a VAT or NI number's separator.</summary>
    private const ulong Folding = (1UL << (' ' - 0x20)) | (1UL << ('-' - 0x20)) | (1UL << ('.' - 0x20)) | (1UL << ('/' - 0x20)) | (1UL << ('_' - 0x20));

    /// <summary>The folding ones and '(', ')', '+': what may stand between the digit groups of one number in a text's profile.</summary>
    private const ulong Joining = Folding | (1UL << ('(' - 0x20)) | (1UL << (')' - 0x20)) | (1UL << ('+' - 0x20));

    /// <summary>' ', '-', '.', '/' or '_'.</summary>
    public static bool IsFolding(char c) => In(Folding, c);

    /// <summary>' ', '-', '.', '/', '_', '(', ')' or '+'.</summary>
    public static bool IsJoining(char c) => In(Joining, c);

    // The shift takes its count modulo 64: outside the range the bit read is any, and the range test is false.
    private static bool In(ulong set, char c) => ((uint)(c - 0x20) < 64) & (((set >> (c - 0x20)) & 1) != 0);
}
