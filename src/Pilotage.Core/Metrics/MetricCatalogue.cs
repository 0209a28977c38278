using System.Collections.Frozen;

namespace Pilotage.Core.Metrics;

/// <summary>
/// The one list of metric names (design.md, "Metric catalogue") that criteria, gates, pause rules and
/// reports may refer to. A name outside it is a spec error, so a typo never silently disables a rule.
/// </summary>
public static class MetricCatalogue
{
    /// <summary>Test case categories: every one has its own <c>pass_rate.&lt;category&gt;</c>.</summary>
    public static IReadOnlyList<string> Categories { get; } =
        ["normal", "edge", "unclear", "missing_data", "policy_boundary"];

    /// <summary>Every known metric name, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "acceptance_rate",
        "edit_rate",
        "rejection_rate",
        "escalation_rate",
        "rework",
        "review_minutes_per_task",
        "net_minutes_saved_per_task",
        "cost_per_task",
        "cost_per_day",
        "adoption",
        "feedback_mean",
        "out_of_scope_rate",
        "blocked_rate",
        "error_rate",
        "latency_p50",
        "latency_p95",
        "incidents_low",
        "incidents_medium",
        "incidents_high",
        "incidents_critical",
        "complaints",
        "review_backlog",
        "review_backlog_hours",
        "review_capacity_utilisation",
        "pass_rate",
        "pass_rate.normal",
        "pass_rate.edge",
        "pass_rate.unclear",
        "pass_rate.missing_data",
        "pass_rate.policy_boundary",
        "samples",
    ];

    private static readonly FrozenSet<string> Known = Names.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>True for an exact (case-sensitive) catalogue name.</summary>
    public static bool IsKnown(string? name) => name is not null && Known.Contains(name);

    /// <summary>
    /// True for metrics that are proportions in [0, 1] (and so get Wilson bounds): the <c>*_rate</c>
    /// metrics, <c>adoption</c> and every <c>pass_rate</c>.
    /// </summary>
    public static bool IsRate(string? name) =>
        IsKnown(name) && (name!.EndsWith("_rate", StringComparison.Ordinal)
                          || name == "adoption"
                          || name.StartsWith("pass_rate", StringComparison.Ordinal));

    /// <summary>The closest known name when <paramref name="unknown"/> looks like a typo of one; otherwise null.</summary>
    public static string? Suggest(string? unknown) =>
        unknown is null ? null : EditDistance.Closest(unknown, Names);
}
