using System.Globalization;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;

namespace Pilotage.Core.PauseRules;

/// <summary>What a pause rule's window counts: which evidence its metric is computed from.</summary>
public enum RuleSampleKind
{
    /// <summary>Requests through the gateway (error_rate, blocked_rate, cost_per_task, cost_per_day).</summary>
    Interaction,
    /// <summary>Reviews of AI answers (acceptance/edit/rejection/escalation/out_of_scope rates, rework, review minutes).</summary>
    Review,
    /// <summary>Incidents filed (incidents_low|medium|high|critical).</summary>
    Incident,
    /// <summary>Complaints filed (incidents of kind <c>complaint</c>).</summary>
    Complaint,
}

/// <summary>
/// One piece of evidence offered to a rule window: an interaction outcome, a review outcome or an
/// incident filing, already reduced to the additive totals it contributes.
/// </summary>
/// <param name="Key">Identifies a review (its interaction id): a newer review of the same interaction replaces the older one in the window.</param>
/// <param name="Severity">For an incident: low, medium, high or critical.</param>
/// <param name="Replaces">A correction of an earlier review: it only replaces that review, and is ignored once the original left the window.</param>
/// <param name="LatencyBucket">For an answered interaction (served or held): its latency bucket (<see cref="LatencyHistogram"/>), as the roll-ups count it.</param>
public sealed record RuleEvent(RuleSampleKind Kind, DateTimeOffset At, EvidenceTotals Totals, string? Key = null, string? Severity = null, bool Replaces = false, int? LatencyBucket = null)
{
    public static RuleEvent Interaction(DateTimeOffset at, string outcome, string? refusalCode, int tokensIn, int tokensOut, decimal cost, double totalMs) =>
        new(RuleSampleKind.Interaction, at, EvidenceTotals.ForInteraction(outcome, refusalCode, redacted: false, tokensIn, tokensOut, cost, totalMs),
            LatencyBucket: InteractionOutcomes.IsAnswered(outcome) ? LatencyHistogram.BucketOf(totalMs) : null);

    public static RuleEvent Complaint(DateTimeOffset at) => new(RuleSampleKind.Complaint, at, new EvidenceTotals());

    public static RuleEvent Review(DateTimeOffset at, string key, ReviewOutcome outcome, IReadOnlyCollection<string> tags,
        double seconds = 0, double? rework = null, double reworkSeconds = 0, bool replaces = false) =>
        new(RuleSampleKind.Review, at, EvidenceTotals.ForReview(outcome, seconds, rework, reworkSeconds, tags.Contains(ReviewOutcomes.OutOfScopeTag)), key, Replaces: replaces);

    public static RuleEvent Incident(DateTimeOffset at, string severity) =>
        new(RuleSampleKind.Incident, at, new EvidenceTotals(), Severity: severity.ToLowerInvariant());
}

/// <summary>Which metrics a pause rule can watch incrementally, and what they count.</summary>
public static class RuleMetrics
{
    /// <summary>Rates need at least this many samples in a time window before they may fire.</summary>
    public const int MinimumTimeWindowSamples = 10;

    /// <summary>A rule without <c>over</c> or <c>window</c> watches the last day.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(1);

    private static readonly string[] ReviewMetrics =
        ["acceptance_rate", "edit_rate", "rejection_rate", "escalation_rate", "out_of_scope_rate", "rework", "review_minutes_per_task"];

    private static readonly string[] InteractionMetrics = ["error_rate", "blocked_rate", "cost_per_task", "cost_per_day", "latency_p50", "latency_p95"];

    /// <summary>The evidence a metric is computed from; null when pause rules cannot watch it (see <see cref="Metrics.MetricCatalogue.WhyNotInPauseRules"/>).</summary>
    public static RuleSampleKind? KindOf(string metric)
    {
        if (ReviewMetrics.Contains(metric)) return RuleSampleKind.Review;
        if (InteractionMetrics.Contains(metric)) return RuleSampleKind.Interaction;
        if (metric is "incidents_low" or "incidents_medium" or "incidents_high" or "incidents_critical") return RuleSampleKind.Incident;
        if (metric == "complaints") return RuleSampleKind.Complaint;
        return null;
    }

    /// <summary>Latency percentiles count answered requests (served or held), the way the roll-ups' latency buckets do.</summary>
    public static bool IsLatency(string metric) => metric is "latency_p50" or "latency_p95";

    /// <summary>Metrics whose figure is a count of what arrived, which need no minimum sample in a time window.</summary>
    public static bool IsCounted(string metric) => KindOf(metric) is RuleSampleKind.Incident or RuleSampleKind.Complaint || metric == "cost_per_day";

    public static bool IsSupported(PauseRuleSpec rule) => Unsupported(rule) is null;

    /// <summary>
    /// Why a rule is never evaluated, or null when it is. The spec reader refuses such rules at apply;
    /// a spec stored before that check may still hold one, which the engine then reports once.
    /// </summary>
    public static string? Unsupported(PauseRuleSpec rule) =>
        KindOf(rule.Metric) is null ? Metrics.MetricCatalogue.WhyNotInPauseRules(rule.Metric) ?? $"pause rules cannot watch {rule.Metric}"
        : rule.Metric == "cost_per_day" && rule.Over is not null ? CostPerDayNeedsTime
        : null;

    /// <summary>The one combination of a watchable metric and a window that has no meaning.</summary>
    public const string CostPerDayNeedsTime = "cost_per_day needs a time window (window: 1h|1d), not a count (over)";

    /// <summary>The span of a time-window rule (<c>30m</c>, <c>1h</c>, <c>1d</c>); the default day when it has neither over nor window.</summary>
    public static TimeSpan SpanOf(PauseRuleSpec rule)
    {
        if (rule.Window is not { Length: >= 2 } window) return DefaultWindow;
        var amount = int.Parse(window[..^1], NumberStyles.None, CultureInfo.InvariantCulture);
        return window[^1] switch
        {
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => throw new FormatException($"invalid window '{window}'"),
        };
    }

    /// <summary>What a rule's samples are called in a sentence: latency counts answers, not every request.</summary>
    public static string NounOf(string metric) =>
        IsLatency(metric) ? "answers" : KindOf(metric) is { } kind ? Noun(kind) : "samples";

    /// <summary>What the samples are called in a sentence.</summary>
    public static string Noun(RuleSampleKind kind) => kind switch
    {
        RuleSampleKind.Review => "reviews",
        RuleSampleKind.Interaction => "requests",
        RuleSampleKind.Complaint => "complaints",
        _ => "incidents",
    };
}
