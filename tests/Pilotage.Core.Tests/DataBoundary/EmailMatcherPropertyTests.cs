using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The e-mail detector reads addresses by hand around each '@' (<see cref="EmailDetector.Find"/>); its pattern
/// (<see cref="EmailDetector.FindWithoutShortcuts"/>) says what an address is, and the two must give the same matches
/// at the same spans. Generated texts crowd '@', dots and dashes together with letters, marks, digits and number
/// signs of other scripts, surrogate pairs, long top-level domains, backslash escapes left as they were written, and
/// addresses that touch each other or the ends of the text.
/// </summary>
public class EmailMatcherPropertyTests
{
    private static readonly EmailDetector Detector = new();

    private static readonly DataBoundaryPolicy Mixed = TestPolicies.Mixed;

    private static readonly string[] Pieces =
    [
        "@", "@", "@", ".", ".", "..", "-", "_", "%", "+", "'", " ", ",", ";", "<", ">", "\"", "\\", "\\u0040", "\\.", "/", ":", "\n", "!",
        "a", "dana", "dana.lee", "x", "co", "org", "example", "example.org", "b.c", "com", "c0m", "1", "42", "a1", "-x", "x-",
        "é", "e\u0301", "\u0301", "ß", "münchen", "пример", "рф", "例え", "テスト", "中国", "ελ", "\u0663", "\u00b2", "\u2163", "\u216b", "\u0e51",
        "\U0001F600", "\U0001D400\U0001D401", "\ud835", "\u00a0", "\u200b", "\uff20", "ǅ", "ʰ", "\u20dd",
        new string('a', 62), new string('a', 63), new string('a', 64), new string('é', 63),
        "dana.lee@example.org", "x@y.co", "a@b.c", "a@b.cc-", "a@b.cc1", "a@b.c\u0301c", "user+tag@sub.example.co.uk", "o'brien@example.ie",
    ];

    private static readonly Gen<string> Text =
        Gen.Int[0, Pieces.Length - 1].Array[1, 24].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    [Fact]
    public void Reading_addresses_by_hand_finds_what_the_pattern_finds() =>
        Text.Sample(text => Hits(text, whole: true).SequenceEqual(Hits(text, whole: false)), iter: 30000);

    /// <summary>Told where the text's first '@' is by the profile the normalisation learns, the detector finds the same.</summary>
    [Fact]
    public void Starting_from_the_profiles_first_at_sign_finds_what_the_pattern_finds() =>
        Text.Sample(text =>
        {
            using var normal = Normalized.Of(text);
            List<Finding>? sink = null;
            Detector.FindInProfiledText(normal.Text, 0, ref sink, normal.Profile);
            return normal.Profile.FirstAt == normal.Text.IndexOf('@') && new TextProfile(normal.Text).FirstAt == normal.Text.IndexOf('@')
                && Hits(normal.Text.ToString(), whole: true).SequenceEqual(sink ?? []);
        }, iter: 10000);

    [Fact]
    public void The_whole_scan_finds_the_same_addresses_with_and_without_shortcuts() =>
        Text.Sample(text =>
        {
            var fast = Mixed.Scan(text, null);
            var full = Mixed.ScanWithoutShortcuts(text);
            return fast.Kept.SequenceEqual(full.Kept);
        }, iter: 5000);

    [Fact]
    public void The_generated_texts_hold_addresses_for_the_comparison_to_mean_something()
    {
        var withAddress = GeneratedTexts.CountHolding(Text, text => Hits(text, whole: true).Count > 0);
        var withTwo = GeneratedTexts.CountHolding(Text, text => Hits(text, whole: true).Count > 1);
        Assert.True(withAddress > 400, $"{withAddress} of 1000 generated texts hold an address");
        Assert.True(withTwo > 50, $"{withTwo} of 1000 generated texts hold two");
    }

    [Theory]
    [InlineData("dana.lee@example.org")]
    [InlineData("write to dana.lee@example.org")]
    [InlineData("dana.lee@example.org, thanks")]
    [InlineData("a@b.cc@d.ee")]
    [InlineData("a@b.cc.d@e.ff")]
    [InlineData("x@y.co.uk.")]
    [InlineData("x@y.c")]
    [InlineData("x@y.cc-z.org")]
    [InlineData("x@y.cc1.org")]
    [InlineData("x@y.c\u0301c")]
    [InlineData("x@y.cc\u0301")]
    [InlineData("\u00fc@m\u00fcnchen.de")]
    [InlineData("\u043f@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444")]
    [InlineData("x@y.\U0001D400\U0001D401")]
    [InlineData("@example.org")]
    [InlineData("x@.org")]
    [InlineData("x@y..org")]
    [InlineData("dana\\u0040example.org")]
    public void Known_texts_give_the_same_matches_both_ways(string text) =>
        Assert.Equal(Hits(text, whole: true), Hits(text, whole: false));

    [Theory]
    [InlineData("x@y." + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true)]
    [InlineData("x@y." + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void A_top_level_domain_has_at_most_63_letters(string text, bool found) =>
        Assert.Equal(found, Hits(text, whole: false).Count > 0);

    private static List<Finding> Hits(string text, bool whole) => DetectorChecks.Hits(Detector, text, whole);
}
