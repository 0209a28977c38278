using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The scan asks no detector whether it may match a text: it tests the detector's need (<see cref="DetectorNeeds.Of"/>)
/// against what the text's profile meets (<see cref="TextProfile.Met"/>), one AND each. That test must say what each
/// detector's own <see cref="Detector.MayMatch"/> says, and a detector it rules out must indeed find nothing there.
/// </summary>
public class ProfileNeedsPropertyTests
{
    private static readonly Detector[] BuiltIns =
    [
        new CreditCardDetector(), new IbanDetector(), new EmailDetector(), new PhoneDetector(), new SecretDetector(),
        new UsSsnDetector(), new UkNinoDetector(), new EuVatDetector(),
    ];

    /// <summary>Pieces around every threshold the needs read: digit runs of 6, 7, 9 and 13 digits, capitals before digits, IBAN starts, '@', lengths.</summary>
    private static readonly string[] Pieces =
    [
        "a", "Q", "DE", "GB", "QQ", "ES", "ATU", "order ", "The ", " ", "-", ".", "/", "_", ") (", "(0)", "+44", "#", "\n", "\u00a0", "\u2013", "\u200b",
        "1", "12", "123", "1234", "12345", "123456", "1234567", "\uff11\uff12", "\u0664\u0661", "2026-11-18", "4111 1111 1111 1111", "4111 1111 1111 111",
        "@", "\uff20", "dana.lee@example.org", "x@y.co", "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE136695976", "ESX1234567L",
        "QQ 12 34 56 C", "AB123456C", "078-05-1120", "+44 20 7946 0958", "(555) 123-4567", "AKIAIOSFODNN7EXAMPLE", "ghp_", "eyJ", "-----BEGIN ",
        "abcdefghijklmnopqrst",
    ];

    private static readonly Gen<string> Texts =
        Gen.Int[0, Pieces.Length - 1].Array[0, 16].Select(picks => string.Concat(picks.Select(p => Pieces[p])));

    [Fact]
    public void A_detectors_need_against_the_profile_says_what_its_MayMatch_says_and_rules_out_only_texts_without_hits() =>
        Texts.Sample(text =>
        {
            using var normal = Normalized.Full(text);
            var profile = new TextProfile(normal.Text);
            var met = profile.Met;
            foreach (var detector in BuiltIns)
            {
                var may = (met & DetectorNeeds.Of(detector)) != 0;
                if (may != detector.MayMatch(profile))
                {
                    return false;
                }
                if (!may && DetectorChecks.Hits(detector, normal.Text, whole: true).Count > 0)
                {
                    return false;
                }
            }
            return true;
        }, iter: 6000);

    [Fact]
    public void The_generated_texts_fall_on_both_sides_of_every_detectors_need()
    {
        foreach (var detector in BuiltIns)
        {
            var need = DetectorNeeds.Of(detector);
            var met = GeneratedTexts.CountHolding(Texts, text => (MetBy(text) & need) != 0);
            Assert.InRange(met, 50, 950);
        }
    }

    private static ProfileNeeds MetBy(string text)
    {
        using var normal = Normalized.Full(text);
        return new TextProfile(normal.Text).Met;
    }

    [Fact]
    public void Every_built_in_has_a_need_of_its_own_and_a_custom_pattern_needs_nothing_any_text_lacks()
    {
        Assert.Equal(BuiltIns.Length, BuiltIns.Select(DetectorNeeds.Of).Distinct().Count());
        Assert.DoesNotContain(ProfileNeeds.Anything, BuiltIns.Select(DetectorNeeds.Of));
        var policy = DataBoundaryPolicy.From(new DataBoundarySpec
        {
            Redact = ["ticket"],
            Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "T-[a-z]" }],
        });
        // An empty profile meets "anything": the custom pattern still runs on a text with no digit, '@' or length.
        Assert.Equal(ProfileNeeds.Anything, new TextProfile("T-x").Met);
        Assert.Contains(policy.Apply("T-x").Hits, h => h.Detector == "ticket");
    }
}
