using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// Generated spellings of card numbers: any separators between any groups, any digit script, format characters
/// anywhere. Every one is caught, and the redaction covers exactly the characters of the number as written.
/// </summary>
public class SpellingPropertyTests
{
    private static readonly DataBoundaryPolicy Cards = DataBoundaryPolicy.From(new DataBoundarySpec { Block = ["credit_card"] });

    private static readonly DataBoundaryPolicy All = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] });

    /// <summary>Zero digits of scripts with Unicode decimal digits (ASCII, fullwidth, Arabic-Indic, Persian, Devanagari, Bengali, Thai, Tibetan, Myanmar, math bold and monospace).</summary>
    private static readonly int[] DigitZeros = [0x30, 0xFF10, 0x660, 0x6F0, 0x966, 0x9E6, 0xE50, 0xF20, 0x1040, 0x1D7CE, 0x1D7F6];

    private static readonly string[] Separators =
        [" ", "-", ".", "/", "_", "\u00a0", "\u2013", "\u2014", "\u2010", "\u2011", "\u2009", "\u202f", "\u3000", "\u2007", "  ", " - ", "\uff0e", "\uff0f", "\uff3f", "\u00b7"];

    private static readonly string[] FormatChars = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u202a", "\u202c", "\u2066", "\u2069"];

    /// <summary>A Luhn-valid number of 13 to 19 digits starting with a card network's digit.</summary>
    private static readonly Gen<string> CardNumber =
        Gen.Select(Gen.Int[2, 6], Gen.Int[13, 19], Gen.Int[0, 9].Array[18], (first, length, rest) =>
        {
            var digits = new int[length];
            digits[0] = first;
            for (var i = 1; i < length - 1; i++) digits[i] = rest[i];
            var sum = 0;
            for (var i = length - 2; i >= 0; i--)
            {
                var d = digits[i];
                if ((length - 2 - i) % 2 == 0) d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
                sum += d;
            }
            digits[length - 1] = (10 - (sum % 10)) % 10;
            return string.Concat(digits);
        });

    /// <summary>The number in groups of 3 to 6 digits with random separators, digits of one random script, and format characters sprinkled in.</summary>
    private static readonly Gen<string> Spelling =
        Gen.Select(CardNumber, Gen.Int[0, DigitZeros.Length - 1], Gen.Int[3, 6].Array[8], Gen.Int[0, Separators.Length - 1].Array[8], Gen.Int[0, 40].Array[4], Gen.Int[0, FormatChars.Length - 1].Array[4],
            (number, script, sizes, separators, formatAt, formatChar) =>
            {
                var text = new StringBuilder();
                var at = 0;
                for (var g = 0; at < number.Length; g++)
                {
                    if (g > 0) text.Append(Separators[separators[g % separators.Length]]);
                    var size = Math.Min(sizes[g % sizes.Length], number.Length - at);
                    // A last group of one or two digits is not a way anyone writes a card: join it to the group before.
                    if (number.Length - at - size is 1 or 2) size = number.Length - at;
                    foreach (var c in number.AsSpan(at, size)) text.Append(char.ConvertFromUtf32(DigitZeros[script] + (c - '0')));
                    at += size;
                }
                var spelled = text.ToString();
                for (var i = 0; i < formatAt.Length; i++)
                {
                    // Inside the number only (never before its first or after its last character), at a char boundary.
                    var position = 1 + (formatAt[i] % Math.Max(1, spelled.Length - 1));
                    if (char.IsLowSurrogate(spelled[position])) position--;
                    if (position <= 0) continue;
                    spelled = spelled.Insert(position, FormatChars[formatChar[i]]);
                }
                return spelled;
            });

    [Fact]
    public void Every_generated_spelling_of_a_card_number_is_caught()
    {
        Spelling.Sample(spelled =>
        {
            var text = $"pay with {spelled} today";
            var result = Cards.Apply(text);
            return result.Blocked && result.Text == "pay with [REDACTED:credit_card] today";
        }, iter: 3000);
    }

    [Fact]
    public void Redaction_spans_map_back_to_exactly_the_value_as_written()
    {
        Gen.Select(Spelling, Gen.String[Gen.Char["abcdefgh ,.;"], 0, 20], Gen.String[Gen.Char["abcdefgh ,.;"], 0, 20]).Sample((spelled, before, after) =>
        {
            var text = $"{before} {spelled} {after}";
            var hit = Assert.Single(Cards.Apply(text).Hits);
            return hit.Start == before.Length + 1 && hit.Length == spelled.Length && text.Substring(hit.Start, hit.Length) == spelled;
        }, iter: 2000);
    }

    [Fact]
    public void Normalised_spans_map_back_inside_the_original_and_in_order()
    {
        // Any text: every hit of every detector lies inside the text, hits do not overlap, and redacting them
        // leaves every character outside the hits exactly as it was.
        var noisy = Gen.String[Gen.OneOf(Gen.Char["0123456789 -./_@abcXYZ"], Gen.Char['\u0660', '\u0669'], Gen.Char['\uff10', '\uff19'], Gen.Const('\u200b'), Gen.Const('\u00a0'), Gen.Const('\u2013')), 0, 80];
        noisy.Sample(text =>
        {
            var result = All.Apply(text);
            var rebuilt = new StringBuilder();
            var from = 0;
            foreach (var hit in result.Hits)
            {
                if (hit.Start < from || hit.Start + hit.Length > text.Length) return false;
                rebuilt.Append(text, from, hit.Start - from).Append("[REDACTED:").Append(hit.Detector).Append(']');
                from = hit.Start + hit.Length;
            }
            rebuilt.Append(text, from, text.Length - from);
            return rebuilt.ToString() == result.Text;
        }, iter: 3000);
    }
}
