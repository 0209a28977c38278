using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The phone detector runs its pattern only over the stretches of a text that can hold a phone
/// (<see cref="PhoneDetector.Find"/>); over the whole text (<see cref="PhoneDetector.FindWithoutShortcuts"/>) it must
/// find exactly the same. Generated texts crowd phone-shaped numbers together: every separator, '+', parentheses and
/// "(0)", dates, reference words, '#', IBAN-shaped runs in front, numbers in front of phones, digit runs that end or start right at a letter, a
/// comma or a newline (where a stretch ends), and numbers that touch or overlap.
/// </summary>
public class PhoneStretchPropertyTests
{
    private static readonly PhoneDetector Detector = new();

    private static readonly string[] Pieces =
    [
        "0", "1", "7", "12", "555", "0958", "7946", "123456", "1234567", "55512345678", "4111", "2026", "1999", "123456789012",
        " ", "  ", "-", ".", "/", "_", " - ", ". ", "+", "+44", "+1 ", "+49 (0) ", "(", ")", "(555)", "(0)", ") (", "(30) ",
        "#", ",", ":", "\n", "a", "x", "Q", "DE89 ", "GB82 WEST ", "DE89 3704 0044 ", "AB12-", "INV-", "A/",
        "order ", "ref: ", "ISBN ", "version ", "call ", "tel. ", "2026-11-25", "25.11.2026", "192.168.10.20", "1 000 000",
        "020 7946 0958", "+44 20 7946 0958", "(555) 123-4567", "555.123.4567", "06 12 34 56 78", "+4915112345678", "4111 1111 1111 1111",
        // A number in front of a phone: every reading of the run that is a phone is redacted.
        "2025 020 7946 0958", "12 555 123 4567", "2025 2026 ", "4111 1111 1111 1112",
    ];

    private static readonly Gen<string> Text =
        Gen.Int[0, Pieces.Length - 1].Array[1, 40].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    /// <summary>Separators the normaliser folds, so that the whole scan, normalisation included, is compared too.</summary>
    private static readonly string[] Folded = ["\u00a0", "\u2009", "\u3000", "\u2013", "\u2014", "\u2212", "\u200b", "\u00ad", "\uff0e", "\uff0f", "\uff3f", "\uff14", "\u0664"];

    private static readonly Gen<string> FoldedText =
        Gen.Select(Text, Gen.Int[0, Folded.Length - 1].Array[1, 4], Gen.Int[0, 1000].Array[4],
            (text, picks, ats) => picks.Select((p, k) => (p, k)).Aggregate(text, (t, x) => t.Insert(ats[x.k] % (t.Length + 1), Folded[x.p])));

    private static readonly DataBoundaryPolicy Phones = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["phone"] });

    private static readonly DataBoundaryPolicy Mixed = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "us_ssn"],
        Redact = ["phone", "email"],
    });

    [Fact]
    public void The_stretches_give_the_hits_and_spans_of_the_whole_text() =>
        Text.Sample(SameHits, iter: 20000);

    [Fact]
    public void The_whole_scan_with_folded_separators_gives_the_hits_of_the_scan_without_shortcuts() =>
        FoldedText.Sample(text => SameScan(Phones, text) && SameScan(Mixed, text), iter: 5000);

    /// <summary>
    /// Told where the text's long runs of digit groups are (<see cref="PhoneDetector.FindInProfiledText"/>), the detector
    /// reads only the stretches that hold them, and finds what it finds over the whole text: with the profile the
    /// normalisation learns on its way and with the one computed over the normal text.
    /// </summary>
    [Fact]
    public void The_stretches_of_the_long_runs_give_the_hits_of_the_whole_text() =>
        Gen.OneOf(Text, FoldedText).Sample(text =>
        {
            using var normal = Normalized.Of(text);
            var whole = Hits(normal.Text, whole: true);
            return whole.SequenceEqual(Profiled(normal.Text, normal.Profile)) && whole.SequenceEqual(Profiled(normal.Text, new TextProfile(normal.Text)));
        }, iter: 20000);

    [Fact]
    public void The_generated_texts_hold_phones_for_the_comparison_to_mean_something()
    {
        // A comparison of two empty lists proves nothing: most generated texts must hold a phone.
        var withPhone = GeneratedTexts.CountHolding(Text, text => Hits(text, whole: true).Count > 0);
        Assert.True(withPhone > 500, $"{withPhone} of 1000 generated texts hold a phone");
    }

    [Theory]
    [InlineData("ref 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23, call +44 20 7946 0958")]
    [InlineData("x,020 7946 0958,020 7946 0959")]
    [InlineData("DE89 3704 0044 0532 0130 00 020 7946 0958")]
    [InlineData("#5551234567 and (555) 123-4567")]
    [InlineData("order 5551234567 tel 5551234567")]
    [InlineData("a+44 20 7946 0958 b")]
    public void Known_texts_give_the_same_hits_both_ways(string text) =>
        Assert.Equal(Hits(text, whole: true), Hits(text, whole: false));

    [Theory]
    // Folded separators and format characters join what a stretch of ASCII separators would have cut.
    [InlineData("call 020\u00a07946\u00a00958 today", "020\u00a07946\u00a00958")]
    [InlineData("call 020\u20137946\u20130958 today", "020\u20137946\u20130958")]
    [InlineData("call 020 79\u200b46 0958 today", "020 79\u200b46 0958")]
    [InlineData("call +44\u200b20 7946\u00ad0958 today", "+44\u200b20 7946\u00ad0958")]
    [InlineData("call \uff10\uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18 today", "\uff10\uff12\uff10 \uff17\uff19\uff14\uff16 \uff10\uff19\uff15\uff18")]
    // A phone at the far end of a long stretch of other numbers, and one right after a stretch too short to scan.
    [InlineData("2026-11-25 2026-11-26 2026-11-27 2026-11-28 2026-11-29 020 7946 0958", "020 7946 0958")]
    [InlineData("12 34, 020 7946 0958", "020 7946 0958")]
    [InlineData("12 34,020 7946 0958", "020 7946 0958")]
    public void A_phone_split_across_where_a_stretch_would_end_is_still_redacted(string text, string phone)
    {
        var result = Phones.Apply(text);
        Assert.Contains(result.Hits, h => text.Substring(h.Start, h.Length) == phone);
        Assert.DoesNotContain(phone, result.Text, StringComparison.Ordinal);
    }

    private static bool SameHits(string text) => Hits(text, whole: true).SequenceEqual(Hits(text, whole: false));

    private static List<Finding> Profiled(ReadOnlySpan<char> text, in TextProfile profile)
    {
        List<Finding>? sink = null;
        Detector.FindInProfiledText(text, 0, ref sink, profile);
        return sink ?? [];
    }

    private static List<Finding> Hits(ReadOnlySpan<char> text, bool whole) => DetectorChecks.Hits(Detector, text, whole);

    private static bool SameScan(DataBoundaryPolicy policy, string text)
    {
        var fast = policy.Scan(text, null);
        var full = policy.ScanWithoutShortcuts(text);
        return fast.Kept.SequenceEqual(full.Kept);
    }
}
