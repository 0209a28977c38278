using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The scan's shortcuts never lose a hit: ASCII text used as its own normal form, the second pass skipped when no
/// separator run would fold, and detectors skipped when the text's profile says they cannot match. Generated texts,
/// ASCII and near-ASCII (one character that only the full normalisation reads), built from the pieces the shortcuts
/// look at, are scanned both ways: the same hits at the same spans.
/// </summary>
public class ShortcutPropertyTests
{
    private static readonly DataBoundaryPolicy AllRedact = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] });

    /// <summary>The gateway bench's mix: blocking detectors win overlaps over redacting ones.</summary>
    private static readonly DataBoundaryPolicy Mixed = TestPolicies.Mixed;

    /// <summary>Pieces of text around what the shortcuts test: digits, separators and their runs, capitals, '@', hits of every detector, secret prefixes.</summary>
    private static readonly string[] AsciiPieces =
    [
        "a", "e", "Q", "DE", "GB", "QQ", "ES", "NL", "ATU", "order ", "Version ", "The ", "ref ", " ", "  ", "-", ".", "/", "_", ". ", " - ", "..", "__", "/ ",
        "0", "1", "7", "12", "55213", "2026-11-18", "129.90", "4111", "1111", "+44", "(555)", "(0)", "#", ":", ",", ")", "\n",
        "@", "dana.lee@example.org", "x@y.co", "4111 1111 1111 1111", "4111-1111-1111-1111", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000",
        "GB82WEST12345698765432", "DE136695976", "DE 136695976", "ESX1234567L", "ATU13585627", "QQ 12 34 56 C", "AB 12 34 56 C", "AB123456C", "078-05-1120",
        "+44 20 7946 0958", "(555) 123-4567", ") (", "(0) (", "020 7946 0958", "AKIA", "AKIAIOSFODNN7EXAMPLE", "ghp_", "glpat-", "eyJ", "Q~", "AccountKey=", "-----BEGIN ",
    ];

    /// <summary>One character only the full normalisation reads: format characters, digits of other scripts, other spaces and dashes, a ligature, fullwidth '@'.</summary>
    private static readonly string[] NearAscii =
        ["\u200b", "\u00ad", "\u2060", "\ufeff", "\uff14", "\u0664", "\u0967", "\u00a0", "\u2009", "\u2013", "\u2014", "\ufb00", "\uff20", "\uff0e", "e\u0301", "\U0001d7cf"];

    private static readonly Gen<string> AsciiText =
        Gen.Int[0, AsciiPieces.Length - 1].Array[1, 24].Select(picks => string.Concat(picks.Select(p => AsciiPieces[p])));

    private static readonly Gen<string> NearAsciiText =
        Gen.Select(AsciiText, Gen.Int[0, NearAscii.Length - 1], Gen.Int[0, 1000], (text, pick, at) => text.Insert(at % (text.Length + 1), NearAscii[pick]));

    [Fact]
    public void The_scan_with_its_shortcuts_finds_what_the_full_scan_finds_in_ascii_text() =>
        AsciiText.Sample(SameBothWays, iter: 4000);

    [Fact]
    public void The_scan_with_its_shortcuts_finds_what_the_full_scan_finds_in_near_ascii_text() =>
        NearAsciiText.Sample(SameBothWays, iter: 4000);

    [Fact]
    public void The_normal_form_with_its_shortcuts_is_the_full_one_and_maps_back_the_same() =>
        Gen.OneOf(AsciiText, NearAsciiText).Sample(DetectorChecks.NormalFormIsTheFullOne, iter: 4000);

    /// <summary>More of what the normalisation changes: several characters at once, lone and paired surrogates, marks, NFKC folds, digits of other scripts.</summary>
    private static readonly string[] Unusual =
        [.. NearAscii, "\ud835", "\udfcf", "\U0001F600", "\u0301", "\u2460", "\u00b2", "\u2075", "\uff10\uff11\uff12", "\u0660\u0661\u0662\u0663", "\u2212", "\u3000", "\u2126", "\ufb01", "\u00bd", "\u0000", "\u200d", "\uff08", "\uff0b"];

    private static readonly Gen<string> UnusualText =
        Gen.Select(AsciiText, Gen.Int[0, Unusual.Length - 1].Array[1, 6], Gen.Int[0, 1000].Array[6], (text, picks, ats) =>
        {
            for (var k = 0; k < picks.Length; k++)
            {
                text = text.Insert(ats[k] % (text.Length + 1), Unusual[picks[k]]);
            }
            return text;
        });

    /// <summary>
    /// The profile the normalisation learns on its walk from run to run of digits is the one the profile's own walk
    /// computes over the normal text: the detectors it lets skip a text are the same.
    /// </summary>
    [Fact]
    public void The_profile_learnt_while_normalising_is_the_one_computed_over_the_normal_text() =>
        Gen.OneOf(AsciiText, NearAsciiText, UnusualText).Sample(text =>
        {
            using var normal = Normalized.Of(text);
            var learnt = normal.Profile;
            var computed = new TextProfile(normal.Text);
            return (learnt.Digits, learnt.LongestDigitRun, learnt.HasIbanStart, learnt.HasCapitalBeforeDigit, learnt.HasAt, learnt.Length, learnt.LongRunsStart, learnt.LongRunsEnd)
                == (computed.Digits, computed.LongestDigitRun, computed.HasIbanStart, computed.HasCapitalBeforeDigit, computed.HasAt, computed.Length, computed.LongRunsStart, computed.LongRunsEnd);
        }, iter: 20000);

    [Fact]
    public void The_scan_with_its_shortcuts_finds_what_the_full_scan_finds_in_text_with_many_unusual_characters() =>
        UnusualText.Sample(SameBothWays, iter: 3000);

    private static bool SameBothWays(string text) => Same(AllRedact, text) && Same(Mixed, text);

    private static bool Same(DataBoundaryPolicy policy, string text)
    {
        var fast = policy.Scan(text, null);
        var full = policy.ScanWithoutShortcuts(text);
        return fast.Kept.SequenceEqual(full.Kept) && (fast.TimedOut ?? []).SequenceEqual(full.TimedOut ?? []);
    }

    [Theory]
    // One character the ASCII shortcut does not read, inside a number: the text goes the full way and the number is caught.
    [InlineData("pay with 4111 1111 \u200b1111 1111 today", "credit_card")]
    [InlineData("pay with 4111 1111 1111 111\uff11 today", "credit_card")]
    [InlineData("pay with 4111\u00a01111\u00a01111\u00a01111 today", "credit_card")]
    [InlineData("pay with 4111\u20131111\u20131111\u20131111 today", "credit_card")]
    [InlineData("pay with \u0664\u0661\u0661\u0661 1111 1111 1111 today", "credit_card")]
    [InlineData("IBAN DE89 3704 0044 0532 01\u200d30 00 please", "iban")]
    [InlineData("ssn 078\u201305\u20131120 on file", "us_ssn")]
    [InlineData("NI number AB 12 34 5\uff16 C on file", "uk_nino")]
    [InlineData("VAT DE\u00a0136695976 on file", "eu_vat")]
    [InlineData("write to dana.lee\uff20example.org today", "email")]
    // ASCII the second pass folds (a run of separators), next to text it does not.
    [InlineData("card 4111 - 1111 - 1111 - 1111. Thanks", "credit_card")]
    [InlineData("card 4111  1111  1111  1111. Thanks", "credit_card")]
    // The numbers right after a capital, or a capital and a separator: the VAT and NI shortcut's edge.
    [InlineData("VAT:DE136695976.", "eu_vat")]
    [InlineData("ESX1234567L", "eu_vat")]
    [InlineData("AB123456C", "uk_nino")]
    [InlineData("(GB82WEST12345698765432)", "iban")]
    // A phone whose "(0)" and area code stand three characters apart, and no part of it seven digits long.
    [InlineData("call +4 (0) (1234) 56 now", "phone")]
    public void A_number_at_the_edge_of_a_shortcut_is_still_caught(string text, string detector)
    {
        var result = Mixed.Apply(text);
        Assert.Contains(result.Hits, h => h.Detector == detector);
        Assert.True(Same(Mixed, text), "the scan with its shortcuts differs from the full one");
    }

    [Fact]
    public void A_short_property_name_that_normalises_into_an_address_is_redacted()
    {
        // Five characters as sent, six once the ligature is read ("a@b.ff"): a name is not judged by its length alone.
        var body = JsonNode.Parse("""{"model":"m","metadata":{"a@b.\ufb00":"x"}}""")!.AsObject();
        var result = RequestScrubber.Scrub(body, Mixed);
        Assert.True(result.Redacted);
        Assert.DoesNotContain("a@b.", body.ToJsonString(), StringComparison.Ordinal);
    }
}
