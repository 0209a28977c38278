using System.Globalization;
using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The one spelling every detector reads, on its own: what it folds (format characters, digits of any
/// script, separator runs between digit groups), what it leaves alone (plain text), and that every
/// character it produces maps back to exactly the original characters it came from, which is what
/// redaction relies on.
/// </summary>
public sealed class NormalizedTextTests
{
    /// <summary>Format characters: zero-width space, non-joiner, joiner, word joiner, BOM, soft hyphen, bidi marks and isolates.</summary>
    private static readonly string[] FormatChars = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u202a", "\u202c", "\u2066", "\u2069"];

    /// <summary>Zero digits of scripts with decimal digits: fullwidth, Arabic-Indic, Persian, Devanagari, Thai, math bold (astral).</summary>
    private static readonly int[] DigitZeros = [0xFF10, 0x660, 0x6F0, 0x966, 0xE50, 0x1D7CE];

    /// <summary>Letters, digits, the five separators, other spaces and dashes, fullwidth forms, a combining accent and format characters.</summary>
    private static readonly Gen<string> Mixed = Gen.OneOf(
            Gen.Char["abcXYZ0123456789"].Select(c => c.ToString()),
            Gen.OneOf(" ", "-", ".", "/", "_", "  ", " - ", "\u00a0", "\u2013", "\u3000", "\u2009"),
            Gen.OneOf("\uff21", "\uff41", "\uff15", "\u0663", "e\u0301", "\u00e9"),
            Gen.OneOf(FormatChars))
        .Array[0, 24].Select(parts => string.Concat(parts));

    /// <summary>ASCII letters and digits with single separators: the common prompt.</summary>
    private static readonly Gen<string> Plain =
        Gen.Select(Gen.String[Gen.Char["abcdefxyz0123456789"], 1, 6], Gen.Char[" -./_,:;!?"], (word, separator) => word + separator)
            .Array[0, 12].Select(parts => string.Concat(parts));

    [Fact]
    public void Plain_ascii_with_single_separators_is_used_as_it_is()
    {
        Plain.Sample(text =>
        {
            var normal = NormalizedText.Of(text);

            Assert.True(normal.IsIdentity, text);
            Assert.Same(text, normal.Text);
            Assert.Equal((3, 2), normal.ToOriginal(3, 2));
        });
    }

    [Fact]
    public void No_format_character_and_no_non_ascii_digit_survives()
    {
        Mixed.Sample(text =>
        {
            var normal = NormalizedText.Of(text).Text;

            foreach (var rune in normal.EnumerateRunes())
            {
                Assert.NotEqual(UnicodeCategory.Format, Rune.GetUnicodeCategory(rune));
                if (Rune.IsDigit(rune)) Assert.InRange(rune.Value, '0', '9');
            }
        });
    }

    [Fact]
    public void Format_characters_anywhere_change_nothing_that_detectors_read()
    {
        Gen.Select(Mixed, Gen.Int[0, 1000].Array[1, 5], Gen.Int[0, FormatChars.Length - 1].Array[5], (text, positions, which) =>
        {
            var spiked = new StringBuilder(text);
            for (var i = positions.Length - 1; i >= 0; i--)
            {
                var at = positions[i] % (spiked.Length + 1);
                // Never between the halves of a surrogate pair: that would be a different text, not a spiked one.
                if (at > 0 && at < spiked.Length && char.IsLowSurrogate(spiked[at])) at--;
                spiked.Insert(at, FormatChars[which[i]]);
            }
            return (text, spiked: spiked.ToString());
        }).Sample(t => Assert.Equal(NormalizedText.Of(t.text).Text, NormalizedText.Of(t.spiked).Text));
    }

    [Fact]
    public void Digits_of_any_script_read_as_the_same_ascii_digits()
    {
        Gen.Select(Gen.String[Gen.Char["0123456789 -ab"], 1, 30], Gen.Int[0, DigitZeros.Length - 1], (text, script) => (text, script)).Sample(t =>
        {
            var zero = DigitZeros[t.script];
            var written = new StringBuilder();
            foreach (var c in t.text) written.Append(char.IsAsciiDigit(c) ? char.ConvertFromUtf32(zero + (c - '0')) : c.ToString());

            Assert.Equal(NormalizedText.Of(t.text).Text, NormalizedText.Of(written.ToString()).Text);
        });
    }

    [Theory]
    [InlineData("4111  1111 - 1111\u00a0\u00a01111", "4111 1111-1111 1111")]
    [InlineData("IBAN DE89 3704\u20130044 0532 0130 00", "IBAN DE89 3704-0044 0532 0130 00")]
    [InlineData("call  0612   345678", "call 0612 345678")]
    [InlineData("key__abc--def", "key__abc--def")]
    [InlineData("\uff14\uff11\uff11\uff11\u200b1111", "41111111")]
    [InlineData("  12  ab  34--56..  ", "  12 ab 34-56..  ")]
    [InlineData("ab--12 cd__34 ef  56", "ab--12 cd__34 ef 56")]
    [InlineData("1 - 2 - 3\u00a0\u00a04", "1-2-3 4")]
    [InlineData("\u0416\u0416 12\u2014 \u0416 3./4 ", "\u0416\u0416 12- \u0416 3.4 ")]
    [InlineData("--12--", "--12--")]
    public void Separator_runs_fold_between_digit_groups_and_stay_inside_words(string text, string expected) =>
        Assert.Equal(expected, NormalizedText.Of(text).Text);

    [Fact]
    public void Every_character_maps_back_to_original_characters_in_order()
    {
        Mixed.Sample(text =>
        {
            var normal = NormalizedText.Of(text);
            var previous = 0;
            for (var i = 0; i < normal.Text.Length; i++)
            {
                var (start, length) = normal.ToOriginal(i, 1);
                Assert.True(start >= previous && length > 0 && start + length <= text.Length, $"character {i} of '{normal.Text}' maps to ({start}, {length}) in '{text}'");
                Assert.Equal(start, normal.OriginalOffset(i));
                previous = start;
            }
            Assert.Equal(text.Length, normal.OriginalOffset(normal.Text.Length));
        });
    }

    [Fact]
    public void The_original_span_of_a_word_or_number_normalises_back_to_it()
    {
        Mixed.Sample(text =>
        {
            var normal = NormalizedText.Of(text);
            var read = normal.Text;
            // A character folded together with others (a letter and its combining accent) is hit whole or not at all.
            bool Starts(int i) => i == 0 || normal.OriginalOffset(i - 1) != normal.OriginalOffset(i);
            bool Ends(int j) => j == read.Length || normal.OriginalOffset(j) != normal.OriginalOffset(j - 1);
            for (var i = 0; i < read.Length; i++)
            {
                for (var j = i + 1; j <= read.Length; j++)
                {
                    // What a detector hits: a run that begins and ends on a letter or digit.
                    if (!char.IsAsciiLetterOrDigit(read[i]) || !char.IsAsciiLetterOrDigit(read[j - 1]) || !Starts(i) || !Ends(j)) continue;
                    var (start, length) = normal.ToOriginal(i, j - i);

                    Assert.Equal(read[i..j], NormalizedText.Of(text.Substring(start, length)).Text);
                }
            }
        });
    }

    [Fact]
    public void Normalising_twice_changes_nothing_more()
    {
        Mixed.Sample(text =>
        {
            var once = NormalizedText.Of(text).Text;
            Assert.Equal(once, NormalizedText.Of(once).Text);
        });
    }
}
