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

    /// <summary>
    /// Every metric with its unit, in catalogue order: the one place a metric's unit is declared. The API
    /// returns the unit beside each value; the CLI, the dashboard and the report format figures with it.
    /// </summary>
    private static readonly (string Name, MetricUnit Unit)[] Definitions =
    [
        ("acceptance_rate", MetricUnit.Ratio),
        ("edit_rate", MetricUnit.Ratio),
        ("rejection_rate", MetricUnit.Ratio),
        ("escalation_rate", MetricUnit.Ratio),
        // The mean normalised edit distance of edited answers: 0 untouched, 1 rewritten.
        ("rework", MetricUnit.Ratio),
        ("review_minutes_per_task", MetricUnit.Minutes),
        ("net_minutes_saved_per_task", MetricUnit.Minutes),
        ("cost_per_task", MetricUnit.Currency),
        ("cost_per_day", MetricUnit.CurrencyPerDay),
        ("adoption", MetricUnit.Ratio),
        ("feedback_mean", MetricUnit.Rating),
        ("out_of_scope_rate", MetricUnit.Ratio),
        ("blocked_rate", MetricUnit.Ratio),
        ("error_rate", MetricUnit.Ratio),
        ("latency_p50", MetricUnit.Milliseconds),
        ("latency_p95", MetricUnit.Milliseconds),
        ("incidents_low", MetricUnit.Count),
        ("incidents_medium", MetricUnit.Count),
        ("incidents_high", MetricUnit.Count),
        ("incidents_critical", MetricUnit.Count),
        ("complaints", MetricUnit.Count),
        ("review_backlog", MetricUnit.Count),
        ("review_backlog_hours", MetricUnit.Hours),
        // Review work needed over the reviewers' capacity: above 1 means they cannot keep up.
        ("review_capacity_utilisation", MetricUnit.Ratio),
        ("pass_rate", MetricUnit.Ratio),
        ("pass_rate.normal", MetricUnit.Ratio),
        ("pass_rate.edge", MetricUnit.Ratio),
        ("pass_rate.unclear", MetricUnit.Ratio),
        ("pass_rate.missing_data", MetricUnit.Ratio),
        ("pass_rate.policy_boundary", MetricUnit.Ratio),
        ("samples", MetricUnit.Count),
    ];

    /// <summary>Every known metric name, in catalogue order.</summary>
    public static IReadOnlyList<string> Names { get; } = Definitions.Select(d => d.Name).ToArray();

    private static readonly FrozenDictionary<string, MetricUnit> Units = Definitions.ToFrozenDictionary(d => d.Name, d => d.Unit, StringComparer.Ordinal);

    /// <summary>The unit of a catalogue metric; null for a name outside the catalogue.</summary>
    public static MetricUnit? UnitOf(string? name) => name is not null && Units.TryGetValue(name, out var unit) ? unit : null;

    /// <summary>A figure of <paramref name="name"/> with its unit, as people read it: "84.2 %", "3.2 min", "0.84 per day".</summary>
    public static string Format(string name, double value) => MetricUnits.Format(UnitOf(name) ?? MetricUnit.Count, value);

    /// <summary>True for an exact (case-sensitive) catalogue name.</summary>
    public static bool IsKnown(string? name) => name is not null && Units.ContainsKey(name);

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
