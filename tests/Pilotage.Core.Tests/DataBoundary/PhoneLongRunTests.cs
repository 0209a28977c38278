using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// A phone written right after a long run of small numbers is one candidate of many digit groups. The detector once
/// dropped a candidate of more than 24 groups whole, so a run of numbers in front hid the phone: these are the attacks.
/// </summary>
public class PhoneLongRunTests
{
    private static readonly DataBoundaryPolicy Phones = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["phone"] });

    private static string[] Found(string text) =>
        Phones.Apply(text).Hits.Select(h => text.Substring(h.Start, h.Length)).ToArray();

    [Theory]
    [InlineData('/', 22)]
    [InlineData('/', 30)]
    [InlineData('-', 40)]
    [InlineData('.', 100)]
    [InlineData('_', 1_000)]
    public void A_phone_after_a_long_run_of_numbers_is_still_found(char separator, int numbers)
    {
        var run = string.Join(separator, Enumerable.Range(1, numbers));
        var text = $"{run} 020 7946 0958";

        Assert.Equal(["020 7946 0958"], Found(text));
        Assert.DoesNotContain("7946", Phones.Apply(text).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_phone_inside_a_long_run_of_space_separated_numbers_is_redacted()
    {
        // Thirty numbers, the phone, thirty more: one candidate of well over 24 groups.
        var text = string.Join(' ', Enumerable.Repeat("1/2", 30)) + " +44 20 7946 0958 " + string.Join(' ', Enumerable.Repeat("3/4", 30));

        // Numbers joined to a phone by a space may be taken with it ("+44 20 7946 0958 3/4" is 14 digits): the phone is in one hit.
        Assert.Contains(Found(text), hit => hit.Contains("+44 20 7946 0958", StringComparison.Ordinal));
        Assert.DoesNotContain("7946", Phones.Apply(text).Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_scans_agree_on_long_runs()
    {
        var detector = new PhoneDetector();
        foreach (var numbers in new[] { 20, 24, 25, 26, 50, 300 })
        {
            var text = string.Join('/', Enumerable.Range(1, numbers)) + " 020 7946 0958 and " + string.Join(' ', Enumerable.Range(1, numbers)) + " (555) 123-4567";
            List<Finding>? scanned = null, whole = null;
            detector.Find(text, 0, ref scanned);
            detector.FindWithoutShortcuts(text, 0, ref whole);
            Assert.NotNull(scanned);
            Assert.Equal(whole, scanned);
            Assert.Contains(scanned, f => text.Substring(f.Start, f.Length) == "020 7946 0958");
        }
    }

    [Fact]
    public void A_run_of_twenty_thousand_numbers_is_read_in_one_pass()
    {
        // Linear in the run's length: the longest prefix tried is capped at 15 groups (no phone has more digits).
        var text = string.Join('/', Enumerable.Range(1, 20_000)) + " 020 7946 0958";

        Assert.Equal(["020 7946 0958"], Found(text));
    }
}
