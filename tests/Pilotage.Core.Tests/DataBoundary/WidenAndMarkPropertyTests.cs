using System.Runtime.InteropServices;
using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The request walk reads a long plain ASCII string in one pass over its UTF-8 that also marks its digits and finds its
/// first '@' (<see cref="AsciiDigits.TryWidenAndMark(ReadOnlySpan{byte}, Span{char}, Span{ulong}, out int)"/>), and the
/// normalisation then starts from those marks (<see cref="Normalized.Of(ReadOnlySpan{char}, ReadOnlySpan{ulong}, int)"/>).
/// Each is held here to what it replaces: the plainness test, the widening and a character by character reading, in
/// 512-bit vectors, 256-bit ones and a byte at a time; and the normal form, map and profile of
/// <see cref="Normalized.Of(ReadOnlySpan{char})"/>. The texts are shifted by up to two words of filler, so that every digit,
/// '@', escape and byte outside ASCII lands on every lane of the vectors and on the edges of the 64-byte words.
/// </summary>
public class WidenAndMarkPropertyTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "  ", "-", ".", "/", "_", " - ", "..", "0", "7", "12", "55213", "2026-11-18", "129.90", "4111 1111 1111 1111",
        "4111  1111", "12 - 34", "ab  12", "12  ab", "@", "x@y.co", "DE89 3704 0044 0532 0130 00", "AB 12 34 56 C", "+44 20 7946 0958",
        "(555) 123-4567", "order ", "The customer wrote ", "\n", "\0", "\\", "\\u0040", "\"", "\u00e9", "\u00a0", "\u2013", "\uff14",
        "\ud83d\ude00", "~", "\u007f", "/", "9", "[", "`", "{", "?", ":",
    ];

    /// <summary>UTF-8 content of a JSON string, as the walk is given it: mostly plain, sometimes a backslash or a byte outside ASCII anywhere.</summary>
    private static readonly Gen<byte[]> Contents = Gen.Select(
        Gen.Int[0, 130],
        Gen.Frequency((8, Gen.Int[0, 30]), (1, Gen.Int[0, Pieces.Length - 1])).Array[0, 90],
        (shift, picks) => Encoding.UTF8.GetBytes(new string('x', shift) + string.Concat(picks.Select(p => Pieces[p]))));

    [Fact]
    public void One_pass_reads_and_marks_a_plain_string_as_the_separate_passes_do() =>
        Contents.Sample(utf8 =>
        {
            var expectedPlain = RequestScrubber.IsPlain(utf8);
            var text = expectedPlain ? RequestScrubber.Widen(utf8, new char[utf8.Length], out _).ToString() : "";
            var expectedDigits = new ulong[AsciiDigits.WordsFor(utf8.Length)];
            AsciiDigits.MarkScalar(MemoryMarshal.Cast<char, ushort>(text.AsSpan()), expectedDigits);
            var expectedAt = text.IndexOf('@', StringComparison.Ordinal);
            foreach (var pass in new[] { "512", "256", "scalar" })
            {
                var chars = new char[utf8.Length];
                var digits = new ulong[expectedDigits.Length];
                var firstAt = 0;
                var plain = pass switch
                {
                    "512" => AsciiDigits.TryWidenAndMark(utf8, chars, digits, out firstAt, wide: true),
                    "256" => AsciiDigits.TryWidenAndMark(utf8, chars, digits, out firstAt, wide: false),
                    _ => AsciiDigits.TryWidenAndMarkScalar(utf8, chars, digits, out firstAt),
                };
                if (plain != expectedPlain || (plain && (new string(chars) != text || !digits.SequenceEqual(expectedDigits) || firstAt != expectedAt)))
                {
                    return false;
                }
            }
            return true;
        }, iter: 20000);

    [Fact]
    public void The_normal_form_from_the_marks_is_the_one_from_the_text() =>
        Contents.Sample(utf8 =>
        {
            var chars = new char[utf8.Length];
            var digits = new ulong[AsciiDigits.WordsFor(utf8.Length)];
            if (!AsciiDigits.TryWidenAndMark(utf8, chars, digits, out var firstAt))
            {
                return true;
            }
            using var marked = Normalized.Of(chars, digits, firstAt);
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
    public void The_generated_contents_put_what_is_marked_past_the_first_word()
    {
        // A property over contents that never put a digit, an '@' or a byte that is not plain past the first word, or a
        // run of digits across a word's edge, would not test the words after the first.
        var lateAt = CountHolding(utf8 => RequestScrubber.IsPlain(utf8) && utf8.AsSpan().IndexOf((byte)'@') >= 64);
        var across = CountHolding(utf8 => RequestScrubber.IsPlain(utf8) && utf8.Length > 64 && char.IsAsciiDigit((char)utf8[63]) && char.IsAsciiDigit((char)utf8[64]));
        var lateNotPlain = CountHolding(utf8 => !RequestScrubber.IsPlain(utf8) && RequestScrubber.IsPlain(utf8.AsSpan(0, Math.Min(64, utf8.Length))));
        Assert.True(lateAt >= 50, $"{lateAt} plain contents with their first '@' past the first word");
        Assert.True(across >= 10, $"{across} plain contents with a run of digits across the first word's edge");
        Assert.True(lateNotPlain >= 50, $"{lateNotPlain} contents not plain only after their first word");
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
        }, iter: 3000);
        return count;
    }
}
