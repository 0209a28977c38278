using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The phone detector does not run its pattern over a stretch whose only digits are one date (<see cref="PhoneDetector.IsLoneDate"/>):
/// the pattern would find nothing there. The attack is a phone hidden next to a date, glued to it or written like
/// one: every such text must give the hits the pattern gives over the whole text, and the phones must be redacted.
/// </summary>
public class PhoneDateShortcutTests
{
    private static readonly PhoneDetector Detector = new();

    private static readonly DataBoundaryPolicy Phones = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["phone"] });

    private static readonly DataBoundaryPolicy Mixed = TestPolicies.Mixed;

    /// <summary>Dates of every shape <see cref="PhoneDetector"/> reads as one, and near misses (month 13, day 32, mixed or doubled separators, five digits).</summary>
    private static readonly string[] Dates =
    [
        "2026-11-18", "2026.11.18", "2026/11/18", "2026-1-8", "18.11.2026", "18/11/2026", "11/18/2026", "1-2-2026", "31.12.1999",
        "2026-13-18", "2026-11-32", "32.01.2026", "13.13.2026", "2026-11.18", "2026--11-18", "2026_11_18", "2026 11 18",
        "20261-11-18", "2026-111-18", "0000-01-01", "2026-00-10", "18.11.20261", "1.1.2026",
    ];

    /// <summary>What is put around a date: phones and numbers (glued on or apart), '+', '(', separators, letters, reference words.</summary>
    private static readonly string[] Around =
    [
        " ", "  ", ", ", ". ", "-", ".", "/", "_", "+", "+44", "+1 ", "(", ")", "(0)", "(555) ", "#", "x", "on ", "order ", "ref ", "\n",
        "020 7946 0958", "0207946095", "7946 0958", "5551234567", "123-4567", "12", "7", "0", "2026", "55213",
        "DE89 ", "AB12-", "\u00a0", "\u2013", "\u200b",
    ];

    private static readonly Gen<string> Text =
        Gen.Select(Gen.Int[0, Around.Length - 1].Array[0, 4], Gen.Int[0, Dates.Length - 1], Gen.Int[0, Around.Length - 1].Array[0, 4],
            Gen.Int[0, Dates.Length - 1].Array[0, 2], (before, date, after, more) =>
                string.Concat(before.Select(p => Around[p])) + Dates[date] + string.Concat(after.Select(p => Around[p]))
                + string.Concat(more.Select(d => " then " + Dates[d])));

    [Fact]
    public void Skipping_a_lone_date_loses_no_phone() =>
        Text.Sample(text =>
        {
            using var normal = Normalized.Of(text);
            var whole = Hits(normal.Text, whole: true);
            return whole.SequenceEqual(Hits(normal.Text, whole: false)) && whole.SequenceEqual(Profiled(normal.Text, normal.Profile))
                && Same(Phones, text) && Same(Mixed, text);
        }, iter: 20000);

    [Fact]
    public void The_generated_texts_hold_lone_dates_and_phones_for_the_comparison_to_mean_something()
    {
        // Both kinds must be common: stretches the shortcut skips, and texts where a phone sits next to a date.
        var loneDates = GeneratedTexts.CountHolding(Text, text => Stretches(text).Any(stretch => PhoneDetector.IsLoneDate(stretch)));
        var phones = GeneratedTexts.CountHolding(Text, text => Hits(text, whole: true).Count > 0);
        Assert.True(loneDates > 200, $"{loneDates} of 1000 generated texts hold a lone date");
        Assert.True(phones > 200, $"{phones} of 1000 generated texts hold a phone");
    }

    [Theory]
    [InlineData("2026-11-18", true)]
    [InlineData(" 2026-11-18. ", true)]
    [InlineData("18.11.2026", true)]
    [InlineData("11/18/2026 ", true)]
    [InlineData(") 2026-11-18", true)]
    [InlineData("+2026-11-18", false)]
    [InlineData("(2026-11-18", false)]
    [InlineData("2026-11-18 7", false)]
    [InlineData("7 2026-11-18", false)]
    [InlineData("2026-11.18", false)]
    [InlineData("2026-13-18", false)]
    [InlineData("2026 11 18", false)]
    [InlineData("2026-11-18-1", false)]
    public void A_lone_date_is_a_date_and_nothing_else(string stretch, bool lone) =>
        Assert.Equal(lone, PhoneDetector.IsLoneDate(stretch));

    [Theory]
    // A phone right after or before a date, joined by a space or a separator, or glued on with a '+'.
    [InlineData("placed on 2026-11-18 020 7946 0958 today", "020 7946 0958")]
    [InlineData("placed on 2026-11-18, 020 7946 0958 today", "020 7946 0958")]
    [InlineData("call 020 7946 0958 2026-11-18", "020 7946 0958")]
    [InlineData("on 2026-11-18+44 20 7946 0958", "20 7946 0958")]
    [InlineData("on 18.11.2026 (555) 123-4567", "(555) 123-4567")]
    [InlineData("on 18/11/2026/0207946095", "0207946095")]
    [InlineData("on 2026-11-18 0207946095", "0207946095")]
    // Written like a date, but a phone: a country code in front, or a date's shape with a phone's digits.
    [InlineData("call +2026-11-18 now", "+2026-11-18")]
    [InlineData("call 2026-1118-7946 now", "2026-1118-7946")]
    [InlineData("call 20-2611-1879 now", "20-2611-1879")]
    public void A_phone_next_to_a_date_or_dressed_as_one_is_redacted(string text, string phone)
    {
        var result = Phones.Apply(text);
        Assert.Contains(result.Hits, h => text.Substring(h.Start, h.Length).Contains(phone, StringComparison.Ordinal));
        Assert.DoesNotContain(phone, result.Text, StringComparison.Ordinal);
        Assert.True(Same(Phones, text) && Same(Mixed, text), "the scan with its shortcuts differs from the full one");
    }

    [Theory]
    [InlineData("placed on 2026-11-18. The parcel")]
    [InlineData("due 18.11.2026 and 19/11/2026")]
    public void A_date_alone_is_not_a_phone(string text) =>
        Assert.Empty(Phones.Apply(text).Hits);

    /// <summary>The maximal runs of the characters the phone pattern consumes: the stretches the detector reads one by one.</summary>
    private static IEnumerable<string> Stretches(string text) =>
        System.Text.RegularExpressions.Regex.Matches(text, @"[0-9 .\-/_()+]+").Select(m => m.Value);

    private static bool Same(DataBoundaryPolicy policy, string text)
    {
        var fast = policy.Scan(text, null);
        var full = policy.ScanWithoutShortcuts(text);
        return fast.Kept.SequenceEqual(full.Kept);
    }

    private static List<Finding> Profiled(ReadOnlySpan<char> text, in TextProfile profile)
    {
        List<Finding>? sink = null;
        Detector.FindInProfiledText(text, 0, ref sink, profile);
        return sink ?? [];
    }

    private static List<Finding> Hits(ReadOnlySpan<char> text, bool whole) => DetectorChecks.Hits(Detector, text, whole);
}
