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

    /// <summary>
    /// Metrics a pause rule can watch: each is computed from evidence as it arrives (reviews, requests,
    /// incidents and complaints), so a window of it is kept incrementally. Every catalogue metric can be
    /// used in pilot criteria and rollout gates; the others are refused in a pause rule, with
    /// <see cref="WhyNotInPauseRules"/> as the reason (docs/pause-rules.md).
    /// </summary>
    public static IReadOnlyList<string> PauseRuleMetrics { get; } =
    [
        "acceptance_rate", "edit_rate", "rejection_rate", "escalation_rate", "out_of_scope_rate", "rework", "review_minutes_per_task",
        "error_rate", "blocked_rate", "cost_per_task", "cost_per_day", "latency_p50", "latency_p95",
        "incidents_low", "incidents_medium", "incidents_high", "incidents_critical", "complaints",
    ];

    private static readonly FrozenSet<string> Watchable = PauseRuleMetrics.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>True when a pause rule may watch <paramref name="name"/>.</summary>
    public static bool IsPauseRuleMetric(string? name) => name is not null && Watchable.Contains(name);

    /// <summary>Why a known metric cannot be watched by a pause rule, and what to use instead; null when it can.</summary>
    public static string? WhyNotInPauseRules(string? name)
    {
        if (!IsKnown(name) || IsPauseRuleMetric(name)) return null;
        if (name!.StartsWith("pass_rate", StringComparison.Ordinal))
        {
            return $"{name} comes from evaluation runs, not from live evidence, so no pause rule can watch it; use it in pilot criteria, rollout gates or a changeControl.regressionGate";
        }
        return name switch
        {
            "adoption" => "adoption (active users over eligible users) is a pilot figure, not an alarm; use it in pilot criteria or rollout gates",
            "net_minutes_saved_per_task" => "net_minutes_saved_per_task rests on the baseline and every review of the period; use it in pilot criteria or rollout gates, and watch review_minutes_per_task in a pause rule",
            "feedback_mean" => "feedback_mean is not fed to pause rules as feedback arrives; use it in pilot criteria or rollout gates, and watch complaints in a pause rule",
            "review_backlog" or "review_backlog_hours" or "review_capacity_utilisation" => $"{name} is the state of the review queue, not evidence as it arrives; use it in pilot criteria or rollout gates",
            "samples" => "samples counts answers and never signals a problem; use minSamples in the pilot or a stage",
            _ => $"{name} cannot be watched by a pause rule; use it in pilot criteria or rollout gates",
        };
    }

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
