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
    /// <summary>Evaluation results by category ("" for all): passed and total cases.</summary>
    public IReadOnlyDictionary<string, (long Passed, long Total)> PassRates { get; init; } = new Dictionary<string, (long, long)>();
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
        var all = c.PassRates.GetValueOrDefault("");
        figures["pass_rate"] = MetricValue.Rate(all.Passed, all.Total);
        foreach (var category in MetricCatalogue.Categories)
        {
            var (passed, total) = c.PassRates.GetValueOrDefault(category);
            figures[$"pass_rate.{category}"] = MetricValue.Rate(passed, total);
        }
        foreach (var name in figures.Keys.ToList())
        {
            if (MetricCatalogue.UnitOf(name) is { } unit) figures[name] = figures[name] with { Unit = MetricUnits.Name(unit) };
        }
        return figures;
    }
}
