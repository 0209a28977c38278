using System.Runtime.InteropServices;
using System.Text;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The normalisation's walk finds runs of digits from one vector pass's bits (<see cref="AsciiDigits.Mark"/>), and the
/// request walk widens a plain ASCII string's UTF-8 rather than reading it as JSON. Each is held here to the character
/// by character reading it replaces, on generated texts of every length around the 64-character words (digits of other
/// scripts, '@', characters outside ASCII, surrogates, NULs), and the normal form and profile of long texts, many words
/// long, to the full normalisation's and the profile's own walk.
/// </summary>
public class DigitMarkPropertyTests
{
    private static readonly string[] Pieces =
    [
        "a", "Z", " ", "  ", "-", ".", "/", "_", " - ", "..", "0", "7", "12", "55213", "2026-11-18", "129.90", "4111 1111 1111 1111", "@", "x@y.co",
        "DE89 3704 0044 0532 0130 00", "AB 12 34 56 C", "+44 20 7946 0958", "(555) 123-4567", "order ", "The customer wrote ", "\n", "\0",
        "\u00e9", "\u00a0", "\u2013", "\u200b", "\uff14", "\u0664", "\ud835", "\udfcf", "\U0001d7cf", "\uff20", "\u0130", "\u0660\u0661", "\u0039\u0301",
    ];

    /// <summary>Texts from none to several hundred characters: every length around a word's edge comes up.</summary>
    private static readonly Gen<string> Texts =
        Gen.Int[0, Pieces.Length - 1].Array[0, 120].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    /// <summary>Texts of ASCII pieces only, as long: the normalisation's fast path.</summary>
    private static readonly Gen<string> AsciiTexts =
        Gen.Int[0, 25].Array[0, 160].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    [Fact]
    public void The_marks_are_each_characters_own_reading() =>
        Gen.OneOf(Texts, AsciiTexts, Gen.String[Gen.Char, 0, 300]).Sample(text =>
        {
            var digits = new ulong[AsciiDigits.WordsFor(text.Length)];
            var scalar = new ulong[digits.Length];
            var marks = AsciiDigits.Mark(text, digits);
            var scalarMarks = AsciiDigits.MarkScalar(MemoryMarshal.Cast<char, ushort>(text.AsSpan()), scalar);
            var expected = new ulong[digits.Length];
            for (var i = 0; i < text.Length; i++)
            {
                expected[i / 64] |= char.IsAsciiDigit(text[i]) ? 1UL << (i % 64) : 0;
            }
            var truth = new TextMarks(!Ascii.IsValid(text), text.Contains('@', StringComparison.Ordinal));
            return digits.SequenceEqual(expected) && scalar.SequenceEqual(expected) && marks == truth && scalarMarks == truth;
        }, iter: 5000);

    /// <summary>Texts shifted by up to two words of ASCII filler: the first character outside ASCII lands on every lane of every word.</summary>
    private static readonly Gen<string> ShiftedTexts = Gen.Select(Gen.Int[0, 130], Texts, (shift, text) => new string('x', shift) + text);

    [Fact]
    public void Marking_until_a_character_outside_ascii_tells_ascii_as_the_whole_marking_does() =>
        Gen.OneOf(ShiftedTexts, AsciiTexts).Sample(text =>
        {
            var digits = new ulong[AsciiDigits.WordsFor(text.Length)];
            var whole = new ulong[digits.Length];
            var marks = AsciiDigits.Mark(text, digits, untilNonAscii: true);
            var wholeMarks = AsciiDigits.Mark(text, whole);
            return marks.NonAscii == wholeMarks.NonAscii && (marks.NonAscii || (marks == wholeMarks && digits.SequenceEqual(whole)));
        }, iter: 10000);

    [Fact]
    public void The_separator_sets_tested_by_bits_are_the_sets_spelled_out()
    {
        for (var c = char.MinValue; ; c++)
        {
            Assert.Equal(c is ' ' or '-' or '.' or '/' or '_', Separators.IsFolding(c));
            Assert.Equal(c is ' ' or '-' or '.' or '/' or '_' or '(' or ')' or '+', Separators.IsJoining(c));
            if (c == char.MaxValue)
            {
                break;
            }
        }
    }

    [Fact]
    public void The_next_digit_and_the_end_of_its_run_are_found_as_a_character_walk_finds_them() =>
        Gen.Select(Gen.OneOf(Texts, AsciiTexts), Gen.Int[0, 1000]).Sample((text, pick) =>
        {
            var digits = new ulong[AsciiDigits.WordsFor(text.Length)];
            AsciiDigits.Mark(text, digits);
            var from = pick % (text.Length + 1);
            var next = from;
            while (next < text.Length && !char.IsAsciiDigit(text[next]))
            {
                next++;
            }
            var end = from;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }
            return AsciiDigits.Next(digits, from) == (next < text.Length ? next : -1) && AsciiDigits.RunEnd(digits, from) == end;
        }, iter: 10000);

    [Fact]
    public void The_normal_form_of_long_texts_is_the_full_one_and_maps_back_the_same() =>
        Gen.OneOf(Texts, AsciiTexts).Sample(DetectorChecks.NormalFormIsTheFullOne, iter: 3000);

    [Fact]
    public void The_profile_of_long_texts_learnt_while_normalising_is_the_one_computed_over_the_normal_text() =>
        Gen.OneOf(Texts, AsciiTexts).Sample(text =>
        {
            using var normal = Normalized.Of(text);
            var learnt = normal.Profile;
            var computed = new TextProfile(normal.Text);
            return (learnt.Digits, learnt.LongestDigitRun, learnt.HasIbanStart, learnt.HasCapitalBeforeDigit, learnt.HasAt, learnt.Length, learnt.LongRunsStart, learnt.LongRunsEnd)
                == (computed.Digits, computed.LongestDigitRun, computed.HasIbanStart, computed.HasCapitalBeforeDigit, computed.HasAt, computed.Length, computed.LongRunsStart, computed.LongRunsEnd);
        }, iter: 5000);

    [Fact]
    public void The_generated_texts_hold_runs_of_digits_across_the_words_edges()
    {
        // A property over texts that never put a run of digits across two words would not test the bits' carry.
        var across = GeneratedTexts.CountHolding(AsciiTexts, text => text.Length > 64 && char.IsAsciiDigit(text[63]) && char.IsAsciiDigit(text[64]), 3000);
        Assert.True(across >= 20, $"only {across} texts have a run of digits across their first word's edge");
    }

    [Fact]
    public void A_plain_ascii_string_widened_from_its_utf8_is_the_string_the_json_reader_reads() =>
        Gen.String[Gen.Char[' ', '~'], 0, 600].Select(s => s.Replace('"', '\'').Replace('\\', '/')).Sample(text =>
        {
            var raw = Encoding.UTF8.GetBytes("\"" + text + "\"");
            var read = RequestScrubber.Read(JsonValueOf(raw), new char[RequestScrubber.StackChars], out _).ToString();
            var widened = RequestScrubber.Widen(raw.AsSpan(1, raw.Length - 2), new char[Math.Min(text.Length, RequestScrubber.StackChars)], out _).ToString();
            return read == text && widened == text;
        }, iter: 3000);

    private static System.Text.Json.Nodes.JsonValue JsonValueOf(byte[] raw) =>
        System.Text.Json.Nodes.JsonNode.Parse("[" + Encoding.UTF8.GetString(raw) + "]")!.AsArray()[0]!.AsValue();
}
