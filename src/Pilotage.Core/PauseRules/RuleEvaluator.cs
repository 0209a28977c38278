using System.Globalization;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;

namespace Pilotage.Core.PauseRules;

/// <summary>The verdict of one pause rule on its window.</summary>
/// <param name="Figure">The metric's value in the window; null without evidence.</param>
/// <param name="N">The samples the figure is computed from.</param>
/// <param name="Threshold">The bound that was crossed (or the one checked).</param>
/// <param name="Direction"><c>above</c> or <c>below</c>.</param>
/// <param name="Window">The window in words: <c>the last 50 reviews</c>, <c>the last 1h</c>.</param>
/// <param name="Sentence">What a person reads in the audit trail and the gateway's refusal.</param>
public sealed record RuleCheck(bool Fired, double? Figure, long N, double? Threshold, string Direction, string Window, string Sentence);

/// <summary>
/// Decides whether a pause rule fires on the evidence of its window. Pure. A count window
/// (<c>over: N</c>) never fires before it holds N samples; a time window needs at least
/// <see cref="RuleMetrics.MinimumTimeWindowSamples"/> samples for rates and means, so one failure in a
/// quiet hour does not stop a system; counts (incidents, complaints) and cost per day need no minimum.
/// <c>above</c> fires when the figure is strictly greater, <c>below</c> when strictly smaller.
/// </summary>
public static class RuleEvaluator
{
    public static RuleCheck Check(PauseRuleSpec rule, RuleWindowState window) =>
        Check(rule, window.Totals, new MetricContext
        {
            Days = window.Days,
            IncidentsBySeverity = window.IncidentsBySeverity,
            Complaints = RuleMetrics.KindOf(rule.Metric) == RuleSampleKind.Complaint ? window.Samples : 0,
            LatencyBuckets = window.LatencyBuckets,
        });

    public static RuleCheck Check(PauseRuleSpec rule, EvidenceTotals window, MetricContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(window);
        context ??= new MetricContext();
        var described = Describe(rule);
        if (RuleMetrics.Unsupported(rule) is { } why) return new RuleCheck(false, null, 0, rule.Above ?? rule.Below, rule.Above is not null ? "above" : "below", described, why);

        var kind = RuleMetrics.KindOf(rule.Metric)!.Value;
        var n = kind switch
        {
            RuleSampleKind.Review => window.Reviewed,
            RuleSampleKind.Interaction when RuleMetrics.IsLatency(rule.Metric) => context.LatencyBuckets.Sum(),
            RuleSampleKind.Interaction => window.Requests,
            RuleSampleKind.Complaint => context.Complaints,
            _ => context.IncidentsBySeverity.Values.Sum(),
        };
        double? figure;
        if (rule.Metric == "cost_per_day")
        {
            figure = n > 0 ? (double)window.Cost / Math.Max(context.Days, 1.0 / 1440) : null;
        }
        else
        {
            figure = MetricCalculator.Compute(window, context)[rule.Metric].Value;
        }

        var noun = RuleMetrics.NounOf(rule.Metric);
        if (rule.Over is { } over && n < over)
        {
            return Quiet(rule, figure, n, described, $"{rule.Metric}: the window holds {n} of its {over} {noun}; a count window does not fire before it is full");
        }
        var counted = RuleMetrics.IsCounted(rule.Metric);
        if (rule.Over is null && !counted && n < RuleMetrics.MinimumTimeWindowSamples)
        {
            return Quiet(rule, figure, n, described,
                $"{rule.Metric}: {n} {noun} in {described}; a time window needs at least {RuleMetrics.MinimumTimeWindowSamples} before it may fire");
        }
        if (figure is not { } value) return Quiet(rule, null, n, described, $"{rule.Metric}: no evidence in {described}");

        var sample = rule.Over is null ? $" ({n} {noun})" : "";
        var scaled = rule.Metric == "cost_per_day" && rule.Over is null ? " (scaled to a day)" : "";
        if (rule.Above is { } above && value > above)
        {
            return new RuleCheck(true, value, n, above, "above", described, $"{rule.Metric} {Format(value)} over {described}{sample}{scaled} is above {Format(above)}");
        }
        if (rule.Below is { } below && value < below)
        {
            return new RuleCheck(true, value, n, below, "below", described, $"{rule.Metric} {Format(value)} over {described}{sample}{scaled} is below {Format(below)}");
        }
        var bounds = string.Join(" and ", new[] { rule.Above is { } a ? $"at most {Format(a)}" : null, rule.Below is { } b ? $"at least {Format(b)}" : null }.OfType<string>());
        return Quiet(rule, value, n, described, $"{rule.Metric} {Format(value)} over {described}{sample} is within bounds ({bounds})");
    }

    /// <summary>The window in words: <c>the last 50 reviews</c>, <c>the last 1h</c>, <c>the last 1d</c> (the default).</summary>
    public static string Describe(PauseRuleSpec rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var noun = RuleMetrics.NounOf(rule.Metric);
        return rule.Over is { } over ? $"the last {over} {noun}" : $"the last {rule.Window ?? "1d"}";
    }

    public static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static RuleCheck Quiet(PauseRuleSpec rule, double? figure, long n, string described, string sentence) =>
        new(false, figure, n, rule.Above ?? rule.Below, rule.Above is not null ? "above" : "below", described, sentence);
}
