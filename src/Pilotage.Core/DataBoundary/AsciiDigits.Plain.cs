using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pilotage.Core.DataBoundary;

internal static partial class AsciiDigits
{
    /// <summary>
    /// The request walk's one pass over a JSON string's UTF-8 content (quotes excluded), in place of a pass each for its
    /// plainness, its widening, its digits and its '@', and of a walk from run to run of digits for its profile and its
    /// folding: whether it is plain (ASCII with no escape, each byte its own character), its characters widened into
    /// <paramref name="chars"/>, <see cref="Mark"/>'s digit bits, whether the normalisation folds a run of separators and
    /// the text's <see cref="TextProfile"/> (see <see cref="AsciiMarks"/>). False, with <paramref name="chars"/> and
    /// <paramref name="digits"/> partly written, as soon as a byte is not plain: the caller then reads the string with
    /// the JSON reader. Written by hand because the platform has no call that widens and classifies in one pass.
    /// </summary>
    /// <param name="chars">At least as long as <paramref name="utf8"/>.</param>
    /// <param name="digits"><see cref="WordsFor"/> words of <paramref name="utf8"/>'s length; all are written.</param>
    public static bool TryWidenAndMark(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out AsciiMarks marks) =>
        Vector256.IsHardwareAccelerated
            ? TryWidenAndMarkVector(utf8, chars, digits, out marks)
            : TryWidenAndMarkScalar(utf8, chars, digits, out marks);

    internal static bool TryWidenAndMarkVector(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out AsciiMarks marks)
    {
        var profile = new BitProfile();
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
            profile.Add(word, i, digits);
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
            profile.Add(word, whole, digits);
        }
        marks = profile.End(utf8.Length, digits);
        return true;
    }

    /// <summary>One bit a character of 64: what <see cref="TryWidenAndMark"/> reads of each.</summary>
    /// <param name="Separators">The folding ones (<see cref="Separators.IsFolding"/>).</param>
    /// <param name="Joining">The joining ones (<see cref="Separators.IsJoining"/>).</param>
    private readonly record struct WordBits(ulong Digits, ulong Letters, ulong Capitals, ulong Separators, ulong Spaces, ulong Joining, ulong Ats);

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
        var (aSpaces, bSpaces) = (Is(a, ' '), Is(b, ' '));
        var (aSeparators, bSeparators) = (aSpaces | Is(a, '_') | In(a, '-', '/'), bSpaces | Is(b, '_') | In(b, '-', '/'));
        // A letter of either case: with bit 5 set, 'A'–'Z' read as 'a'–'z' (and nothing else lands there).
        var lower = Vector256.Create((byte)0x20);
        word = new WordBits(
            Bits(In(a, '0', '9'), In(b, '0', '9')),
            Bits(In(a | lower, 'a', 'z'), In(b | lower, 'a', 'z')),
            Bits(In(a, 'A', 'Z'), In(b, 'A', 'Z')),
            Bits(aSeparators, bSeparators),
            Bits(aSpaces, bSpaces),
            Bits(aSeparators | In(a, '(', ')') | Is(a, '+'), bSeparators | In(b, '(', ')') | Is(b, '+')),
            Bits(Is(a, '@'), Is(b, '@')));
        return true;

        static Vector256<byte> Is(Vector256<byte> v, char c) => Vector256.Equals(v, Vector256.Create((byte)c));

        static Vector256<byte> In(Vector256<byte> v, char low, char high) =>
            Vector256.LessThanOrEqual(v - Vector256.Create((byte)low), Vector256.Create((byte)(high - low)));

        static ulong Bits(Vector256<byte> low, Vector256<byte> high) => low.ExtractMostSignificantBits() | ((ulong)high.ExtractMostSignificantBits() << 32);
    }

    /// <summary>As <see cref="TryWidenAndMark"/>, a byte at a time: where vectors are not accelerated, and for tests to compare with.</summary>
    internal static bool TryWidenAndMarkScalar(ReadOnlySpan<byte> utf8, Span<char> chars, Span<ulong> digits, out AsciiMarks marks)
    {
        var profile = new BitProfile();
        for (var start = 0; start < utf8.Length; start += 64)
        {
            ulong digit = 0, letters = 0, capitals = 0, separators = 0, spaces = 0, joining = 0, ats = 0;
            for (var i = start; i < utf8.Length && i < start + 64; i++)
            {
                var c = (char)utf8[i];
                if (c > 0x7F || c == '\\')
                {
                    marks = default;
                    return false;
                }
                chars[i] = c;
                var bit = 1UL << i;
                digit |= char.IsAsciiDigit(c) ? bit : 0;
                letters |= char.IsAsciiLetter(c) ? bit : 0;
                capitals |= char.IsAsciiLetterUpper(c) ? bit : 0;
                separators |= Separators.IsFolding(c) ? bit : 0;
                spaces |= c == ' ' ? bit : 0;
                joining |= Separators.IsJoining(c) ? bit : 0;
                ats |= c == '@' ? bit : 0;
            }
            digits[start >> 6] = digit;
            profile.Add(new WordBits(digit, letters, capitals, separators, spaces, joining, ats), start, digits);
        }
        marks = profile.End(utf8.Length, digits);
        return true;
    }

    /// <summary>
    /// The text's <see cref="TextProfile"/> and whether the normalisation folds a run in it, from the bits of each word in
    /// turn, all runs of digits at once: what <see cref="TextProfile.Runs"/> learns run by run, and exactly the fold test
    /// of the normalisation's walk (Normalized.HasRunToFold and Bounded). Prose gives a walk from run to run branches that
    /// no predictor learns; here only the start of each group of joined runs is visited.
    /// </summary>
    /// <remarks>
    /// A run of separators is found from its start (a separator right after a digit or letter): the start added to the
    /// run's bits carries through the run and lands on the character after it, which is then tested; a landing right after
    /// its start is a run of one. Each word takes the bits of the word before it (shifts) and its carries.
    /// </remarks>
    private struct BitProfile
    {
        private ulong digitsBefore, lettersBefore, capitalsBefore, separatorsBefore;
        private ulong joinStartsBefore, separatorStartsBefore, digitSpaceStartsBefore, letterSpaceStartsBefore;
        private ulong joinCarry, separatorCarry, digitSpaceCarry, letterSpaceCarry;
        private ulong folds, ibanStarts, capitalStarts;
        private int digitCount, groupBase, longest, longRunsEnd;
        private int groupStart = -1, longRunsStart = -1, firstAt = -1;

        public BitProfile()
        {
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(WordBits word, int at, ReadOnlySpan<ulong> digits)
        {
            var d = word.Digits;
            var afterDigit = (d << 1) | (digitsBefore >> 63);
            var afterLetter = (word.Letters << 1) | (lettersBefore >> 63);

            // The folding test: two or more separators between digits, or only spaces between a digit and a letter.
            var separatorStarts = afterDigit & word.Separators;
            var digitSpaceStarts = afterDigit & word.Spaces;
            var letterSpaceStarts = afterLetter & word.Spaces;
            folds |= Landing(separatorStarts, word.Separators, ref separatorCarry) & ~After(separatorStarts, separatorStartsBefore, 1) & d;
            folds |= Landing(digitSpaceStarts, word.Spaces, ref digitSpaceCarry) & ~After(digitSpaceStarts, digitSpaceStartsBefore, 1) & word.Letters;
            folds |= Landing(letterSpaceStarts, word.Spaces, ref letterSpaceCarry) & ~After(letterSpaceStarts, letterSpaceStartsBefore, 1) & d;

            // An IBAN's start (two letters, two digits, nothing alphanumeric before), marked on its second digit; a capital
            // before a digit, directly or across one separator.
            ibanStarts |= d & afterDigit & After(word.Letters, lettersBefore, 2) & After(word.Letters, lettersBefore, 3)
                & ~After(word.Letters | d, lettersBefore | digitsBefore, 4);
            capitalStarts |= d & (After(word.Capitals, capitalsBefore, 1) | (After(word.Separators, separatorsBefore, 1) & After(word.Capitals, capitalsBefore, 2)));

            // Runs of digits joined by one to three joining separators make a group; each group's digits are counted
            // when the next group starts.
            var joinStarts = afterDigit & word.Joining;
            var joined = Landing(joinStarts, word.Joining, ref joinCarry) & d
                & (After(joinStarts, joinStartsBefore, 1) | After(joinStarts, joinStartsBefore, 2) | After(joinStarts, joinStartsBefore, 3));
            for (var groups = d & ~afterDigit & ~joined; groups != 0; groups &= groups - 1)
            {
                var position = BitOperations.TrailingZeroCount(groups);
                var before = digitCount + BitOperations.PopCount(d & ((1UL << position) - 1));
                Close(before, at + position, digits);
                (groupStart, groupBase) = (at + position, before);
            }
            digitCount += BitOperations.PopCount(d);
            firstAt = firstAt < 0 && word.Ats != 0 ? at + BitOperations.TrailingZeroCount(word.Ats) : firstAt;

            (digitsBefore, lettersBefore, capitalsBefore, separatorsBefore) = (d, word.Letters, word.Capitals, word.Separators);
            (joinStartsBefore, separatorStartsBefore, digitSpaceStartsBefore, letterSpaceStartsBefore) = (joinStarts, separatorStarts, digitSpaceStarts, letterSpaceStarts);
        }

        /// <summary>The marks, once every word is added; the bits after the text's end are clear, so a run that reaches it lands on nothing.</summary>
        public AsciiMarks End(int length, ReadOnlySpan<ulong> digits)
        {
            Close(digitCount, length, digits);
            return new AsciiMarks(folds != 0, new TextProfile(digitCount, longest, ibanStarts != 0, capitalStarts != 0, firstAt, length, longRunsStart, longRunsEnd));
        }

        /// <summary>Closes the open group, if any, before <paramref name="next"/>: it holds the digits counted from its start to <paramref name="before"/>.</summary>
        private void Close(int before, int next, ReadOnlySpan<ulong> digits)
        {
            if (groupStart < 0)
            {
                return;
            }
            var count = before - groupBase;
            longest = Math.Max(longest, count);
            if (count >= TextProfile.LongRunDigits)
            {
                longRunsStart = longRunsStart < 0 ? groupStart : longRunsStart;
                longRunsEnd = LastDigitEnd(digits, next);
            }
        }

        /// <summary>After the last digit before <paramref name="next"/>.</summary>
        private static int LastDigitEnd(ReadOnlySpan<ulong> digits, int next)
        {
            var w = (next - 1) >> 6;
            var word = digits[w] & (ulong.MaxValue >> (63 - ((next - 1) & 63)));
            while (word == 0)
            {
                word = digits[--w];
            }
            return (w << 6) + 64 - BitOperations.LeadingZeroCount(word);
        }

        /// <summary>The bits of <paramref name="bits"/> moved <paramref name="by"/> characters on, the word before's last ones first.</summary>
        private static ulong After(ulong bits, ulong before, int by) => (bits << by) | (before >> (64 - by));

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
/// and its <paramref name="Profile"/> (the text's own, which is then its normal form's).
/// </summary>
internal readonly record struct AsciiMarks(bool MayFold, TextProfile Profile);
