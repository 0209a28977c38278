using Pilotage.Core.Metrics;

namespace Pilotage.Core.Evidence;

/// <summary>What the catalogue needs beyond the additive totals.</summary>
public sealed record MetricContext
{
    /// <summary>Minutes the task takes without AI: measured on manual work when there is some, else the spec's baseline.</summary>
    public double? BaselineMinutesPerTask { get; init; }
    public decimal? ReviewHourlyRate { get; init; }
    /// <summary>The span the totals cover, in days (for cost per day); at least one hour.</summary>
    public double Days { get; init; } = 1;
    public long ActiveUsers { get; init; }
    public long EligibleUsers { get; init; }
    public IReadOnlyDictionary<string, long> IncidentsBySeverity { get; init; } = new Dictionary<string, long>();
    public long Complaints { get; init; }
    public long BacklogCount { get; init; }
    public double BacklogOldestHours { get; init; }
    public double? ReviewUtilisation { get; init; }
    /// <summary>Evaluation results by category ("" for all): passed, judged and errored cases.</summary>
    public IReadOnlyDictionary<string, CaseCounts> PassRates { get; init; } = new Dictionary<string, CaseCounts>();
    public IReadOnlyList<long> LatencyBuckets { get; init; } = [];
}

/// <summary>
/// The metric catalogue of design.md, one definition each, used by reports, criteria, gates and
/// pause rules alike. Every figure carries its sample count; rates carry Wilson bounds.
/// </summary>
public static class MetricCalculator
{
    public static IReadOnlyDictionary<string, MetricValue> Compute(EvidenceTotals t, MetricContext c)
    {
        var tasks = t.Served + t.Held;
        var reviewMinutes = t.ReviewSeconds / 60;
        var reworkMinutes = t.ReworkSeconds / 60;
        var labour = c.ReviewHourlyRate is { } rate ? (decimal)((t.ReviewSeconds + t.ReworkSeconds) / 3600) * rate : 0m;
        var upstreamCalls = t.Requests - t.Refused;
        var figures = new Dictionary<string, MetricValue>(StringComparer.Ordinal)
        {
            ["acceptance_rate"] = MetricValue.Rate(t.Accepted, t.Reviewed),
            ["edit_rate"] = MetricValue.Rate(t.Edited, t.Reviewed),
            ["rejection_rate"] = MetricValue.Rate(t.Rejected, t.Reviewed),
            ["escalation_rate"] = MetricValue.Rate(t.Escalated, t.Reviewed),
            ["rework"] = MetricValue.Mean(t.ReworkSum, t.Edited),
            ["review_minutes_per_task"] = MetricValue.Mean(reviewMinutes, t.Reviewed),
            ["net_minutes_saved_per_task"] = c.BaselineMinutesPerTask is { } baseline && t.Reviewed > 0
                ? new MetricValue(baseline - (reviewMinutes + reworkMinutes) / t.Reviewed - (t.TaskCount > 0 ? t.TaskMinutes / t.TaskCount : 0), t.Reviewed)
                : MetricValue.None(t.Reviewed),
            ["cost_per_task"] = tasks > 0 ? new MetricValue((double)((t.Cost + labour) / tasks), tasks) : MetricValue.None(),
            ["cost_per_day"] = t.Requests > 0 ? new MetricValue((double)(t.Cost + labour) / Math.Max(c.Days, 1.0 / 24), t.Requests) : MetricValue.None(),
            ["adoption"] = MetricValue.Rate(Math.Min(c.ActiveUsers, c.EligibleUsers), c.EligibleUsers),
            ["feedback_mean"] = MetricValue.Mean(t.FeedbackSum, t.FeedbackCount),
            ["out_of_scope_rate"] = MetricValue.Rate(t.OutOfScope, t.Reviewed),
            ["blocked_rate"] = MetricValue.Rate(t.Blocked, t.Requests),
            ["error_rate"] = MetricValue.Rate(t.Failed, upstreamCalls),
            ["latency_p50"] = new MetricValue(LatencyHistogram.Percentile(c.LatencyBuckets, 0.50), c.LatencyBuckets.Sum()),
            ["latency_p95"] = new MetricValue(LatencyHistogram.Percentile(c.LatencyBuckets, 0.95), c.LatencyBuckets.Sum()),
            ["complaints"] = MetricValue.Count(c.Complaints),
            ["review_backlog"] = MetricValue.Count(c.BacklogCount),
            ["review_backlog_hours"] = new MetricValue(c.BacklogOldestHours, c.BacklogCount),
            ["review_capacity_utilisation"] = new MetricValue(c.ReviewUtilisation, t.Reviewed),
            ["samples"] = MetricValue.Count(t.Served + t.Held + t.Shadowed),
        };
        foreach (var severity in new[] { "low", "medium", "high", "critical" })
        {
            figures[$"incidents_{severity}"] = MetricValue.Count(c.IncidentsBySeverity.GetValueOrDefault(severity));
        }
        figures["pass_rate"] = PassRate(c.PassRates.GetValueOrDefault("") ?? CaseCounts.None);
        foreach (var category in MetricCatalogue.Categories)
        {
            figures[$"pass_rate.{category}"] = PassRate(c.PassRates.GetValueOrDefault(category) ?? CaseCounts.None);
        }
        foreach (var name in figures.Keys.ToList())
        {
            if (MetricCatalogue.UnitOf(name) is { } unit) figures[name] = figures[name] with { Unit = MetricUnits.Name(unit) };
        }
        return figures;
    }

    /// <summary>Passed over judged cases; errored cases are counted apart, never as failures.</summary>
    private static MetricValue PassRate(CaseCounts counts) =>
        MetricValue.Rate(counts.Passed, counts.Judged) with { Errors = counts.Errors > 0 ? counts.Errors : null };
}

/// <summary>
/// Evaluation cases of one run (all, or one category): <paramref name="Judged"/> ran to a verdict
/// (pass or fail, or graded by a person), <paramref name="Passed"/> of them passed, and
/// <paramref name="Errors"/> ran to none (upstream failure, timeout, refusal by a control) and count in
/// no pass rate.
/// </summary>
public sealed record CaseCounts(long Passed, long Judged, long Errors)
{
    public static CaseCounts None { get; } = new(0, 0, 0);

    public CaseCounts Add(bool? passed) => passed switch
    {
        true => this with { Passed = Passed + 1, Judged = Judged + 1 },
        false => this with { Judged = Judged + 1 },
        null => this with { Errors = Errors + 1 },
    };
}
