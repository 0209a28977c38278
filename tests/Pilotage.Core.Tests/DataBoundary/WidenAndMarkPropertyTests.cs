using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The request walk reads a long plain ASCII string in one pass over its UTF-8 that also marks its digits
/// (<see cref="AsciiDigits.TryWidenAndMark"/>), and the normalisation then starts from those marks
/// (<see cref="Normalized.Of(ReadOnlySpan{char}, ReadOnlySpan{ulong}, AsciiMarks)"/>). Each is held here to what it
/// replaces: the plainness test, the widening and a character by character reading; and the normal form, map and profile
/// of <see cref="Normalized.Of(ReadOnlySpan{char})"/>. The texts are shifted by up to two words of filler, so that every
/// digit, separator, '@', escape and byte outside ASCII lands on every lane of the 32- and 64-byte blocks and on their edges.
/// </summary>
public class WidenAndMarkPropertyTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "  ", "-", ".", "/", "_", " - ", "..", "--", "__", " / ", "0", "7", "12", "55213", "2026-11-18", "129.90", "4111 1111 1111 1111",
        "4111  1111", "12 - 34", "ab  12", "12  ab", "@", "x@y.co", "DE89 3704 0044 0532 0130 00", "AB 12 34 56 C", "+44 20 7946 0958", "(555) 123-4567",
        "order ", "The customer wrote ", "\n", "\0", "\\", "\\u0040", "\"", "\u00e9", "\u00a0", "\u2013", "\uff14", "\ud83d\ude00", "~", "AKIA", "eyJ", "\u007f",
    ];

    /// <summary>UTF-8 content of a JSON string, as the walk is given it: mostly plain, sometimes a backslash or a byte outside ASCII anywhere.</summary>
    private static readonly Gen<byte[]> Contents = Gen.Select(
        Gen.Int[0, 130],
        Gen.Frequency((6, Gen.Int[0, 33]), (1, Gen.Int[0, Pieces.Length - 1])).Array[0, 90],
        (shift, picks) => Encoding.UTF8.GetBytes(new string('x', shift) + string.Concat(picks.Select(p => Pieces[p]))));

    [Fact]
    public void One_pass_reads_and_marks_a_plain_string_as_the_separate_passes_do() =>
        Contents.Sample(utf8 =>
        {
            var chars = new char[utf8.Length];
            var scalarChars = new char[utf8.Length];
            var digits = new ulong[AsciiDigits.WordsFor(utf8.Length)];
            var scalarDigits = new ulong[digits.Length];
            var plain = AsciiDigits.TryWidenAndMarkVector(utf8, chars, digits, out var marks);
            var scalarPlain = AsciiDigits.TryWidenAndMarkScalar(utf8, scalarChars, scalarDigits, out var scalarMarks);
            var expectedPlain = RequestScrubber.IsPlain(utf8);
            if (plain != expectedPlain || scalarPlain != expectedPlain)
            {
                return false;
            }
            if (!plain)
            {
                return true;
            }
            var text = RequestScrubber.Widen(utf8, new char[utf8.Length], out _).ToString();
            var expectedDigits = new ulong[digits.Length];
            AsciiDigits.MarkScalar(System.Runtime.InteropServices.MemoryMarshal.Cast<char, ushort>(text.AsSpan()), expectedDigits);
            var expected = new AsciiMarks(MayFold(text), new TextProfile(text));
            return new string(chars) == text && new string(scalarChars) == text && digits.SequenceEqual(expectedDigits)
                && scalarDigits.SequenceEqual(expectedDigits) && marks == expected && scalarMarks == expected;
        }, iter: 20000);

    [Fact]
    public void The_normal_form_from_the_marks_is_the_one_from_the_text() =>
        Contents.Sample(utf8 =>
        {
            var chars = new char[utf8.Length];
            var digits = new ulong[AsciiDigits.WordsFor(utf8.Length)];
            if (!AsciiDigits.TryWidenAndMark(utf8, chars, digits, out var marks))
            {
                return true;
            }
            using var marked = Normalized.Of(chars, digits, marks);
            using var own = Normalized.Of(chars);
            if (!marked.Text.SequenceEqual(own.Text) || marked.IsIdentity != own.IsIdentity || !marked.Edits.SequenceEqual(own.Edits)
                || !DetectorChecks.NormalFormIsTheFullOne(new string(chars)))
            {
                return false;
            }
            var (a, b) = (marked.Profile, own.Profile);
            return (a.Digits, a.LongestDigitRun, a.HasIbanStart, a.HasCapitalBeforeDigit, a.FirstAt, a.Length, a.LongRunsStart, a.LongRunsEnd)
                == (b.Digits, b.LongestDigitRun, b.HasIbanStart, b.HasCapitalBeforeDigit, b.FirstAt, b.Length, b.LongRunsStart, b.LongRunsEnd);
        }, iter: 10000);

    [Fact]
    public void Marking_until_a_character_outside_ascii_tells_ascii_as_the_whole_marking_does() =>
        Contents.Select(utf8 => Encoding.UTF8.GetString(utf8)).Sample(text =>
        {
            var digits = new ulong[AsciiDigits.WordsFor(text.Length)];
            var whole = new ulong[digits.Length];
            var marks = AsciiDigits.Mark(text, digits, untilNonAscii: true);
            var wholeMarks = AsciiDigits.Mark(text, whole);
            return marks.NonAscii == wholeMarks.NonAscii && (marks.NonAscii || (marks == wholeMarks && digits.SequenceEqual(whole)));
        }, iter: 10000);

    [Fact]
    public void The_generated_contents_are_plain_and_not_and_fold_and_not_across_the_blocks_edges()
    {
        // A property over contents that never put a run that folds past the first block would not test the carries; one
        // that never had a long plain text with digits and nothing to fold would not test the walk that skips the folding.
        var plainFolding = CountHolding(utf8 => RequestScrubber.IsPlain(utf8) && MayFold(Encoding.ASCII.GetString(utf8))
            && !MayFold(Encoding.ASCII.GetString(utf8.AsSpan(0, Math.Min(60, utf8.Length)))));
        var plainNotFolding = CountHolding(utf8 => RequestScrubber.IsPlain(utf8) && utf8.Length > 64 && !MayFold(Encoding.ASCII.GetString(utf8)) && utf8.AsSpan().IndexOfAnyInRange((byte)'0', (byte)'9') >= 0);
        var lateNotPlain = CountHolding(utf8 => !RequestScrubber.IsPlain(utf8) && RequestScrubber.IsPlain(utf8.AsSpan(0, Math.Min(64, utf8.Length))));
        Assert.True(plainFolding >= 50, $"{plainFolding} plain contents with a foldable run past the first block");
        Assert.True(plainNotFolding >= 20, $"{plainNotFolding} long plain contents with digits and nothing to fold");
        Assert.True(lateNotPlain >= 50, $"{lateNotPlain} contents not plain only after their first block");
    }

    private static int CountHolding(Func<byte[], bool> holds)
    {
        var count = 0;
        Contents.Sample(utf8 =>
        {
            if (holds(utf8))
            {
                count++;
            }
        }, iter: 2000);
        return count;
    }

    /// <summary>The definition: the full normalisation of a plain ASCII text folds a run (which always shortens it).</summary>
    private static bool MayFold(string text)
    {
        using var full = Normalized.Full(text);
        return full.Text.Length != text.Length;
    }
}
