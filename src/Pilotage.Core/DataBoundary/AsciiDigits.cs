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
        if (whole < chars.Length)
        {
            // The last, partial word, from a copy padded with NULs (no digit, no '@', ASCII).
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
