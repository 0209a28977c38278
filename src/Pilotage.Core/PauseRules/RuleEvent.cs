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
}

/// <summary>
/// One piece of evidence offered to a rule window: an interaction outcome, a review outcome or an
/// incident filing, already reduced to the additive totals it contributes.
/// </summary>
/// <param name="Key">Identifies a review (its interaction id): a newer review of the same interaction replaces the older one in the window.</param>
/// <param name="Severity">For an incident: low, medium, high or critical.</param>
/// <param name="Replaces">A correction of an earlier review: it only replaces that review, and is ignored once the original left the window.</param>
public sealed record RuleEvent(RuleSampleKind Kind, DateTimeOffset At, EvidenceTotals Totals, string? Key = null, string? Severity = null, bool Replaces = false)
{
    public static RuleEvent Interaction(DateTimeOffset at, string outcome, string? refusalCode, int tokensIn, int tokensOut, decimal cost, double totalMs) =>
        new(RuleSampleKind.Interaction, at, EvidenceTotals.ForInteraction(outcome, refusalCode, redacted: false, tokensIn, tokensOut, cost, totalMs));

    public static RuleEvent Review(DateTimeOffset at, string key, ReviewOutcome outcome, IReadOnlyCollection<string> tags,
        double seconds = 0, double? rework = null, double reworkSeconds = 0, bool replaces = false) =>
        new(RuleSampleKind.Review, at, EvidenceTotals.ForReview(outcome, seconds, rework, reworkSeconds, tags.Contains("out_of_scope")), key, Replaces: replaces);

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

    private static readonly string[] InteractionMetrics = ["error_rate", "blocked_rate", "cost_per_task", "cost_per_day"];

    /// <summary>The evidence a metric is computed from; null when pause rules cannot watch it (yet).</summary>
    public static RuleSampleKind? KindOf(string metric)
    {
        if (ReviewMetrics.Contains(metric)) return RuleSampleKind.Review;
        if (InteractionMetrics.Contains(metric)) return RuleSampleKind.Interaction;
        if (metric is "incidents_low" or "incidents_medium" or "incidents_high" or "incidents_critical") return RuleSampleKind.Incident;
        return null;
    }

    public static bool IsSupported(PauseRuleSpec rule) => KindOf(rule.Metric) is not null && !(rule.Metric == "cost_per_day" && rule.Over is not null);

    /// <summary>Why a rule is never evaluated, or null when it is.</summary>
    public static string? Unsupported(PauseRuleSpec rule) =>
        KindOf(rule.Metric) is null ? $"pause rules cannot watch {rule.Metric} yet: it is not computed from reviews, interactions or incidents as they arrive"
        : rule.Metric == "cost_per_day" && rule.Over is not null ? "cost_per_day needs a time window (window: 1h|1d), not a count (over)"
        : null;

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

    /// <summary>What the samples are called in a sentence.</summary>
    public static string Noun(RuleSampleKind kind) => kind switch
    {
        RuleSampleKind.Review => "reviews",
        RuleSampleKind.Interaction => "requests",
        _ => "incidents",
    };
}
