using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pilotage.Core.DataBoundary;

internal static partial class AsciiDigits
{
    /// <summary>
    /// The request walk's one pass over a JSON string's UTF-8 content (quotes excluded), in place of four: whether it is
    /// plain (ASCII with no escape, each byte its own character), its characters widened into <paramref name="chars"/>,
    /// <see cref="Mark"/>'s digit bits, where the first '@' is, and whether the normalisation folds a run of separators
    /// (<see cref="AsciiMarks.MayFold"/>). False, with <paramref name="chars"/> and <paramref name="digits"/> partly
    /// written, as soon as a byte is not plain: the caller then reads the string with the JSON reader. Written by hand
    /// because the platform has no call that widens and classifies in one pass (<c>Ascii.ToUtf16</c> widens,
    /// <c>ContainsAnyExcept</c> checks, <c>IndexOfAnyInRange</c> finds one digit: a pass each).
    /// </summary>
    /// <param name="chars">At least as long as <paramref name="utf8"/>.</param>
    /// <param name="digits"><see cref="WordsFor"/> words of <paramref name="utf8"/>'s length; all are written.</param>
    public static bool TryWidenAndMark(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out AsciiMarks marks)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            return TryWidenAndMarkScalar(utf8, chars, digits, out marks);
        }
        var folds = new FoldedRuns();
        var firstAt = -1;
        var whole = utf8.Length & ~63;
        ref var bytes = ref MemoryMarshal.GetReference(utf8);
        ref var wide = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetReference(chars));
        WordBits word;
        for (var i = 0; i < whole; i += 64)
        {
            if (!WidenWord(ref Unsafe.Add(ref bytes, i), ref Unsafe.Add(ref wide, i), out word))
            {
                marks = default;
                return false;
            }
            digits[i >> 6] = word.Digits;
            folds.Add(word);
            if (word.Ats != 0 && firstAt < 0)
            {
                firstAt = i + BitOperations.TrailingZeroCount(word.Ats);
            }
        }
        if (whole < utf8.Length)
        {
            // The last, partial word, from a copy padded with NULs (plain, and none of the characters marked).
            Span<byte> last = stackalloc byte[64];
            Span<ushort> widened = stackalloc ushort[64];
            utf8[whole..].CopyTo(last);
            if (!WidenWord(ref MemoryMarshal.GetReference(last), ref MemoryMarshal.GetReference(widened), out word))
            {
                marks = default;
                return false;
            }
            widened[..(utf8.Length - whole)].CopyTo(MemoryMarshal.Cast<char, ushort>(chars[whole..]));
            digits[whole >> 6] = word.Digits;
            folds.Add(word);
            if (word.Ats != 0 && firstAt < 0)
            {
                firstAt = whole + BitOperations.TrailingZeroCount(word.Ats);
            }
        }
        marks = new AsciiMarks(folds.End(), firstAt);
        return true;
    }

    /// <summary>One bit a character of 64: what <see cref="TryWidenAndMark"/> reads of each.</summary>
    private readonly record struct WordBits(ulong Digits, ulong Separators, ulong Spaces, ulong Letters, ulong Ats);

    /// <summary>64 bytes: false when one is not plain; else their characters written to <paramref name="wide"/>, and their bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool WidenWord(ref byte bytes, ref ushort wide, out WordBits word)
    {
        var a = Vector256.LoadUnsafe(ref bytes);
        var b = Vector256.LoadUnsafe(ref bytes, 32);
        var backslash = Vector256.Create((byte)'\\');
        // A byte outside ASCII has its top bit set, and so has a comparison's lane where a byte is a backslash.
        if (((a | b | Vector256.Equals(a, backslash) | Vector256.Equals(b, backslash)) & Vector256.Create((byte)0x80)) != Vector256<byte>.Zero)
        {
            word = default;
            return false;
        }
        var (a0, a1) = Vector256.Widen(a);
        var (b0, b1) = Vector256.Widen(b);
        a0.StoreUnsafe(ref wide);
        a1.StoreUnsafe(ref wide, 16);
        b0.StoreUnsafe(ref wide, 32);
        b1.StoreUnsafe(ref wide, 48);
        var space = Vector256.Create((byte)' ');
        var atSign = Vector256.Create((byte)'@');
        var aSpaces = Vector256.Equals(a, space);
        var bSpaces = Vector256.Equals(b, space);
        word = new WordBits(
            Bits(IsDigit(a), IsDigit(b)),
            Bits(aSpaces | IsOtherSeparator(a), bSpaces | IsOtherSeparator(b)),
            Bits(aSpaces, bSpaces),
            Bits(IsLetter(a), IsLetter(b)),
            Bits(Vector256.Equals(a, atSign), Vector256.Equals(b, atSign)));
        return true;

        static Vector256<byte> IsDigit(Vector256<byte> v) => Vector256.LessThanOrEqual(v - Vector256.Create((byte)'0'), Vector256.Create((byte)9));

        // A letter of either case: with bit 5 set, 'A'–'Z' read as 'a'–'z' (and nothing else lands there).
        static Vector256<byte> IsLetter(Vector256<byte> v) => Vector256.LessThanOrEqual((v | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)25));

        // '_', and '-', '.', '/' (0x2D–0x2F, one range): the folding separators but the space.
        static Vector256<byte> IsOtherSeparator(Vector256<byte> v) =>
            Vector256.Equals(v, Vector256.Create((byte)'_')) | Vector256.LessThanOrEqual(v - Vector256.Create((byte)'-'), Vector256.Create((byte)2));

        static ulong Bits(Vector256<byte> low, Vector256<byte> high) => low.ExtractMostSignificantBits() | ((ulong)high.ExtractMostSignificantBits() << 32);
    }

    /// <summary>As <see cref="TryWidenAndMark"/>, a byte at a time: where vectors are not accelerated, and for tests to compare with.</summary>
    internal static bool TryWidenAndMarkScalar(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out AsciiMarks marks)
    {
        digits.Clear();
        var folds = new FoldedRuns();
        var firstAt = -1;
        ulong separators = 0, spaces = 0, letters = 0;
        for (var i = 0; i < utf8.Length; i++)
        {
            var c = (char)utf8[i];
            if (c > 0x7F || c == '\\')
            {
                marks = default;
                return false;
            }
            chars[i] = c;
            digits[i >> 6] |= (ulong)(char.IsAsciiDigit(c) ? 1 : 0) << i;
            separators |= (ulong)(Separators.IsFolding(c) ? 1 : 0) << i;
            spaces |= (ulong)(c == ' ' ? 1 : 0) << i;
            letters |= (ulong)(char.IsAsciiLetter(c) ? 1 : 0) << i;
            firstAt = firstAt < 0 && c == '@' ? i : firstAt;
            if ((i & 63) == 63 || i == utf8.Length - 1)
            {
                folds.Add(new WordBits(digits[i >> 6], separators, spaces, letters, 0));
                separators = spaces = letters = 0;
            }
        }
        marks = new AsciiMarks(folds.End(), firstAt);
        return true;
    }

    /// <summary>
    /// Whether the normalisation's second pass folds a run, from the bits of each word in turn: exactly its test
    /// (Normalized.Bounded), run by run, all runs at once. A run of two or more separators folds when a digit stands on
    /// both sides of it, or a digit on one side and a letter on the other and the run is all spaces. Prose whose numbers
    /// end a sentence ("on 2026-11-18. The") has none, and is spared the walk's tests at every run of digits.
    /// </summary>
    /// <remarks>
    /// Each run's start (a separator after a digit or letter, followed by another) is added to the run's bits: the carry
    /// runs through the run and lands on the character after it, which is then tested. A word is judged when the next one
    /// has come (a run's second character, a carry, may be there); the carries go on from word to word.
    /// </remarks>
    private struct FoldedRuns
    {
        private WordBits current;
        private ulong digitBefore; // bit 63 of the digits and letters of the word before the current one
        private ulong letterBefore;
        private ulong digitsCarry;
        private ulong digitLetterCarry;
        private ulong letterDigitCarry;
        private ulong found;

        public void Add(WordBits next)
        {
            var word = current;
            var afterDigit = (word.Digits << 1) | (digitBefore >> 63);
            var afterLetter = (word.Letters << 1) | (letterBefore >> 63);
            var twoSeparators = word.Separators & ((word.Separators >> 1) | (next.Separators << 63));
            var twoSpaces = word.Spaces & ((word.Spaces >> 1) | (next.Spaces << 63));
            found |= Landing(afterDigit & twoSeparators, word.Separators, ref digitsCarry) & word.Digits;
            found |= Landing(afterDigit & twoSpaces, word.Spaces, ref digitLetterCarry) & word.Letters;
            found |= Landing(afterLetter & twoSpaces, word.Spaces, ref letterDigitCarry) & word.Digits;
            digitBefore = word.Digits;
            letterBefore = word.Letters;
            current = next;
        }

        /// <summary>True when a run folds; the bits after the text's end are clear, so a run that reaches it lands on nothing.</summary>
        public bool End()
        {
            Add(default);
            return found != 0;
        }

        /// <summary>The character after each run of <paramref name="run"/> that begins at a bit of <paramref name="starts"/> (a carry in and out).</summary>
        private static ulong Landing(ulong starts, ulong run, ref ulong carry)
        {
            var sum = starts + run;
            var total = sum + carry;
            carry = (sum < starts ? 1UL : 0) | (total < sum ? 1UL : 0);
            return total & ~run;
        }
    }
}

/// <summary>
/// What <see cref="AsciiDigits.TryWidenAndMark"/> learnt of a plain ASCII text besides its digits: whether the
/// normalisation folds a run of separators in it (<paramref name="MayFold"/>; without one the text is its own normal form),
/// and where the first '@' is (-1 for none).
/// </summary>
internal readonly record struct AsciiMarks(bool MayFold, int FirstAt);
