using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// A detector that times out fails closed, and the detectors after it still run: the scan holds one try around its
/// loop and resumes after the detector that threw. Custom patterns on the backtracking engine are the detectors that
/// time out here; built-in detectors have no timeout of their own, but a process-wide REGEX_DEFAULT_MATCH_TIMEOUT would
/// apply to their generated regexes too (read once per process, so a test cannot set it without changing every other
/// test's detectors), and the same try covers them: the scan treats every detector alike.
/// </summary>
public class DetectorTimeoutTests
{
    /// <summary>Exponential in a run of 'a's on the backtracking engine (the look-ahead keeps it there): it always times out.</summary>
    private static CustomDetectorSpec Evil(string name) => new() { Name = name, Pattern = "(a+)+(?=b)" };

    private static readonly string Text = new string('a', 5_000) + "! call +44 20 7946 0958 or write to dana.lee@example.org";

    [Fact]
    public void The_detectors_after_one_that_timed_out_still_run()
    {
        // Phone runs after the custom patterns, e-mail before them.
        var policy = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["evil", "phone", "email"], Detectors = [Evil("evil")] },
            TimeSpan.FromMilliseconds(20));

        var result = policy.Apply(Text);

        Assert.Equal(["evil"], result.BlockedBy);
        Assert.Contains("[REDACTED:phone]", result.Text, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:email]", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_detectors_that_time_out_are_both_named()
    {
        var policy = DataBoundaryPolicy.From(
            new DataBoundarySpec { Redact = ["evil", "worse", "phone"], Detectors = [Evil("evil"), Evil("worse")] },
            TimeSpan.FromMilliseconds(20));

        var result = policy.Apply(Text);

        Assert.Equal(["evil", "worse"], result.BlockedBy);
        Assert.Equal(2, result.Hits.Count(h => h.Note is not null && h.Note.Contains("timed out", StringComparison.Ordinal)));
        Assert.Contains("[REDACTED:phone]", result.Text, StringComparison.Ordinal);
    }
}
