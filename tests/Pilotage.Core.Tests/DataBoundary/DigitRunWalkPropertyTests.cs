using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The normalisation's walk from run to run of digits (<see cref="Normalized.HasRunToFold"/>) finds each run in the digit
/// bits, reads the classes of the characters around it from a table, and tests them as packed values. It is held here to
/// what it stands for, on texts built of runs of digits and of separators of every kind: its answer to whether the
/// second pass folds anything is the full normalisation's, and the profile it learns is the one computed character by
/// character. The texts are shifted by up to two words of filler, so that runs and their neighbours land across the
/// 64-character words' edges, and hold digits of other scripts, format characters and other spaces and dashes, which
/// the first pass turns into ASCII or removes.
/// </summary>
public class DigitRunWalkPropertyTests
{
    private const string Separators = " -./_()+,:;";

    private static readonly string[] Others =
    [
        "a", "Z", "AB", "de", "GB", "x", "@", "\n", "\0", "\u00e9", "\u00a0", "\u2013", "\u200b", "\u00ad", "\u2060", "\u0664\u0665",
        "\uff14", "\u0969", "\u00b2", "\u2460", "\U0001d7cf", "\u0301", "\ud835",
    ];

    /// <summary>A run of 1 to 14 digits.</summary>
    private static readonly Gen<string> DigitRuns = Gen.Char['0', '9'].Array[1, 14].Select(d => new string(d));

    /// <summary>A run of 1 to 4 separators, of one kind or mixed.</summary>
    private static readonly Gen<string> SeparatorRuns = Gen.OneOf(
        Gen.Select(Gen.Int[0, Separators.Length - 1], Gen.Int[1, 4], (k, n) => new string(Separators[k], n)),
        Gen.Int[0, Separators.Length - 1].Array[1, 4].Select(ks => new string(ks.Select(k => Separators[k]).ToArray())));

    /// <summary>Texts of runs of digits and separators, with letters (<paramref name="ascii"/>) or anything else between them.</summary>
    private static Gen<string> Texts(bool ascii) => Gen.Select(
        Gen.Int[0, 130],
        Gen.Frequency((5, DigitRuns), (5, SeparatorRuns), (3, Gen.Int[0, ascii ? 5 : Others.Length - 1].Select(k => Others[k]))).Array[0, 60],
        Gen.Bool,
        (shift, pieces, spaces) => new string(spaces ? ' ' : 'x', shift) + string.Concat(pieces));

    [Fact]
    public void The_walk_folds_exactly_where_the_full_normalisation_does_and_learns_the_profile_of_the_text() =>
        Texts(ascii: true).Sample(text =>
        {
            var digits = new ulong[AsciiDigits.WordsFor(text.Length)];
            AsciiDigits.Mark(text, digits);
            using var full = Normalized.Full(text);
            var folds = Normalized.HasRunToFold(text, digits, out var runs);
            if (folds != !full.Text.SequenceEqual(text))
            {
                return false;
            }
            return folds || Same(runs.ToProfile(text.Length, text.IndexOf('@', StringComparison.Ordinal)), new TextProfile(text));
        }, iter: 20000);

    [Fact]
    public void The_normal_form_and_profile_of_any_text_are_the_full_normalisations() =>
        Texts(ascii: false).Sample(text =>
        {
            using var normal = Normalized.Of(text);
            return DetectorChecks.NormalFormIsTheFullOne(text) && Same(normal.Profile, new TextProfile(normal.Text));
        }, iter: 10000);

    [Fact]
    public void The_normal_form_from_the_request_walks_marks_is_the_one_from_the_text() =>
        Texts(ascii: true).Sample(text =>
        {
            var utf8 = Encoding.UTF8.GetBytes(text.Replace('\0', ' ').Replace('\n', ' '));
            var chars = new char[utf8.Length];
            var digits = new ulong[AsciiDigits.WordsFor(utf8.Length)];
            if (!AsciiDigits.TryWidenAndMark(utf8, chars, digits, out var firstAt))
            {
                return false;
            }
            using var marked = Normalized.Of(chars, digits, firstAt);
            using var own = Normalized.Of(chars);
            return marked.Text.SequenceEqual(own.Text) && marked.IsIdentity == own.IsIdentity && marked.Edits.SequenceEqual(own.Edits)
                && Same(marked.Profile, own.Profile) && Same(marked.Profile, new TextProfile(marked.Text))
                && DetectorChecks.NormalFormIsTheFullOne(new string(chars));
        }, iter: 10000);

    [Fact]
    public void The_generated_texts_hold_what_the_walk_must_get_right()
    {
        var ascii = Texts(ascii: true);
        var across = GeneratedTexts.CountHolding(ascii, text => Enumerable.Range(1, text.Length / 64).Any(w => w * 64 < text.Length
            && char.IsAsciiDigit(text[(w * 64) - 1]) && char.IsAsciiDigit(text[w * 64])), 3000);
        var folding = GeneratedTexts.CountHolding(ascii, text => !NormalizedText.Of(text).IsIdentity, 3000);
        var joined = GeneratedTexts.CountHolding(ascii, text => NormalizedText.Of(text).IsIdentity && new TextProfile(text).LongestDigitRun > 14, 3000);
        var capital = GeneratedTexts.CountHolding(ascii, text => NormalizedText.Of(text).IsIdentity && new TextProfile(text).HasCapitalBeforeDigit, 3000);
        var iban = GeneratedTexts.CountHolding(ascii, text => NormalizedText.Of(text).IsIdentity && new TextProfile(text).HasIbanStart, 3000);
        Assert.True(across >= 100, $"{across} texts with a run of digits across a word's edge");
        Assert.True(folding >= 300, $"{folding} texts that fold");
        Assert.True(joined >= 100, $"{joined} texts that do not fold with digit groups joined past one run's length");
        Assert.True(capital >= 100, $"{capital} texts that do not fold with a capital before a digit");
        Assert.True(iban >= 50, $"{iban} texts that do not fold with where an IBAN begins");
    }

    [Fact]
    public void The_class_table_is_the_predicates_it_stands_for()
    {
        for (var c = char.MinValue; ; c++)
        {
            var expected = (char.IsAsciiDigit(c) ? CharClass.Digit : 0) | (char.IsAsciiLetter(c) ? CharClass.Letter : 0)
                | (char.IsAsciiLetterUpper(c) ? CharClass.Upper : 0) | (Pilotage.Core.DataBoundary.Separators.IsFolding(c) ? CharClass.Folding : 0)
                | (Pilotage.Core.DataBoundary.Separators.IsJoining(c) ? CharClass.Joining : 0);
            Assert.Equal(expected, CharClass.Of(c));
            if (c < 0x80)
            {
                Assert.Equal(expected, CharClass.OfAscii(c));
            }
            if (c == char.MaxValue)
            {
                break;
            }
        }
    }

    private static bool Same(TextProfile a, TextProfile b) =>
        (a.Digits, a.LongestDigitRun, a.HasIbanStart, a.HasCapitalBeforeDigit, a.FirstAt, a.Length, a.LongRunsStart, a.LongRunsEnd)
        == (b.Digits, b.LongestDigitRun, b.HasIbanStart, b.HasCapitalBeforeDigit, b.FirstAt, b.Length, b.LongRunsStart, b.LongRunsEnd);
}
