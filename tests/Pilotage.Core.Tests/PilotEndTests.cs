using System.Text.RegularExpressions;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary><c>ends: +90d</c>: an end relative to the day of apply, and the refusal of an end that has passed.</summary>
public partial class PilotEndTests
{
    private static readonly DateOnly Today = new(2026, 12, 4);

    private static SpecReadResult Read(string ends, SpecReadOptions? options = null) =>
        SpecReader.Read(SpecYaml.With($"  pilot: {{ group: g, ends: {ends} }}"), "spec.yaml", options ?? new SpecReadOptions { Today = Today });

    private static PilotSpec Pilot(string ends, SpecReadOptions? options = null)
    {
        var result = Read(ends, options);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return Assert.Single(result.Specs).Pilot!;
    }

    [Theory]
    [InlineData("+90d", 2027, 3, 4)]
    [InlineData("+1d", 2026, 12, 5)]
    [InlineData("+12w", 2027, 2, 26)]
    [InlineData("+3m", 2027, 3, 4)]
    [InlineData("+1y", 2027, 12, 4)]
    [InlineData("'+90d'", 2027, 3, 4)]
    public void A_relative_end_resolves_from_the_day_of_apply_and_keeps_what_was_written(string ends, int year, int month, int day)
    {
        var pilot = Pilot(ends);

        Assert.Equal(new DateOnly(year, month, day), pilot.Ends);
        Assert.Equal(ends.Trim('\''), pilot.EndsRelative);
        var json = SpecCanonicalJson.Serialize(Assert.Single(Read(ends).Specs));
        Assert.Contains($"\"ends\":\"{year:0000}-{month:00}-{day:00}\"", json, StringComparison.Ordinal);
        Assert.Equal(json, SpecCanonicalJson.Serialize(SpecCanonicalJson.Deserialize(json)));
    }

    [Fact]
    public void A_written_date_has_no_relative_form_and_hashes_as_before()
    {
        var pilot = Pilot("2027-06-30");

        Assert.Null(pilot.EndsRelative);
        Assert.DoesNotContain("endsRelative", SpecCanonicalJson.Serialize(Assert.Single(Read("2027-06-30").Specs)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+90")]
    [InlineData("+0d")]
    [InlineData("+90days")]
    [InlineData("+-3d")]
    [InlineData("+99999d")]
    [InlineData("+9999y")]
    public void An_invalid_offset_is_a_located_error_that_shows_the_forms(string ends)
    {
        var error = Assert.Single(Read(ends).Errors);

        Assert.Equal("spec.pilot.ends", error.Path);
        Assert.Equal((11, 28), (error.Line, error.Column));
        Assert.Contains($"invalid relative end '{ends}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("+90d, +12w, +3m or +1y", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Applying_the_same_offset_again_keeps_the_stored_date_so_nothing_changes()
    {
        var first = Assert.Single(Read("+90d").Specs);
        var stored = new Dictionary<string, PilotSpec>(StringComparer.Ordinal) { ["demo-system"] = first.Pilot! };

        // A month later the same file is applied again: the pilot still ends on the day it was given.
        var later = new SpecReadOptions { Today = Today.AddDays(30), StoredPilots = stored };
        var again = Assert.Single(Read("+90d", later).Specs);

        Assert.Equal(first.Pilot!.Ends, again.Pilot!.Ends);
        Assert.Equal(SpecCanonicalJson.Serialize(first), SpecCanonicalJson.Serialize(again));
        Assert.Empty(SpecDiff.Compare(first, again));
    }

    [Fact]
    public void A_changed_offset_resolves_again_and_the_diff_shows_one_field()
    {
        var first = Assert.Single(Read("+90d").Specs);
        var later = new SpecReadOptions { Today = Today.AddDays(30), StoredPilots = new Dictionary<string, PilotSpec>(StringComparer.Ordinal) { ["demo-system"] = first.Pilot! } };

        var longer = Assert.Single(Read("+120d", later).Specs);

        Assert.Equal(Today.AddDays(150), longer.Pilot!.Ends);
        var change = Assert.Single(SpecDiff.Compare(first, longer));
        Assert.Equal(new SpecChange("spec.pilot.ends", "2027-03-04 (+90d)", "2027-05-03 (+120d)"), change);
    }

    [Fact]
    public void An_end_that_has_passed_is_refused_with_the_field_and_the_date()
    {
        var options = new SpecReadOptions { Today = Today, RefusePastEnds = true };

        var error = Assert.Single(Read("2026-11-30", options).Errors);

        Assert.Equal("spec.pilot.ends", error.Path);
        Assert.Equal((11, 28), (error.Line, error.Column));
        Assert.Contains("ends on 2026-11-30, which has already passed (today is 2026-12-04 UTC)", error.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-past", error.Message, StringComparison.Ordinal);
        // The last day itself still serves.
        Assert.True(Read("2026-12-04", options).Ok);
    }

    [Fact]
    public void An_end_that_passed_since_it_was_stored_is_not_refused_again()
    {
        var stored = new Dictionary<string, PilotSpec>(StringComparer.Ordinal) { ["demo-system"] = new PilotSpec { Group = "g", Ends = new DateOnly(2026, 11, 30) } };

        Assert.True(Read("2026-11-30", new SpecReadOptions { Today = Today, RefusePastEnds = true, StoredPilots = stored }).Ok);
        Assert.False(Read("2026-11-29", new SpecReadOptions { Today = Today, RefusePastEnds = true, StoredPilots = stored }).Ok);
    }

    [Fact]
    public void Without_the_apply_check_a_past_date_reads_as_written()
    {
        Assert.Equal(new DateOnly(2020, 1, 31), Pilot("2020-01-31").Ends);
    }

    [GeneratedRegex(@"\b(\d{4})-(\d{2})-(\d{2})\b")]
    private static partial Regex IsoDate();

    /// <summary>
    /// People copy the examples and the README path applies them: nothing in an example spec may expire
    /// within a year. Pilots are written relative to the day of apply (they never expire before they are
    /// used); any date written out must be at least a year ahead.
    /// </summary>
    [Fact]
    public void No_example_spec_holds_a_date_that_expires_within_a_year()
    {
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var files = Directory.GetFiles(Path.Combine(RepoPaths.Root(), "examples"), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            foreach (var line in File.ReadAllLines(file).Where(l => !l.TrimStart().StartsWith('#')))
            {
                foreach (Match m in IsoDate().Matches(line))
                {
                    var date = new DateOnly(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value));
                    Assert.True(date >= today.AddYears(1), $"{Path.GetFileName(file)}: '{line.Trim()}' holds {date:yyyy-MM-dd}, within a year of today; write a relative end such as +90d");
                }
            }
            var spec = Assert.Single(SpecReader.ReadFile(file, new SpecReadOptions { Today = today, RefusePastEnds = true }).Specs);
            var pilot = Assert.IsType<PilotSpec>(spec.Pilot);
            Assert.True(pilot.EndsRelative is not null || pilot.Ends >= today.AddYears(1),
                $"{Path.GetFileName(file)}: the pilot ends on {pilot.Ends:yyyy-MM-dd}; write a relative end such as +90d");
            Assert.True(pilot.Ends > today, $"{Path.GetFileName(file)}: applied today, the pilot would already have ended");
        }
    }
}
