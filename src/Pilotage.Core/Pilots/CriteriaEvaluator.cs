using System.Collections.Frozen;
using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

/// <summary>
/// Evaluates pilot criteria and rollout gates against catalogue figures (design.md, steps 2 and 5).
/// Pure: the caller supplies the figures (<see cref="MetricCalculator.Compute"/>) and the time in stage.
/// </summary>
/// <remarks>
/// The sample a figure rests on is its own <see cref="MetricValue.N"/>, with two exceptions:
/// <list type="bullet">
/// <item>Counts (<c>incidents_*</c>, <c>complaints</c>, <c>review_backlog</c>, <c>review_backlog_hours</c>):
/// their N is the count itself, so "0 high incidents" would never have enough samples. What makes a
/// zero count meaningful is how much traffic it was observed over, so they rest on the <c>samples</c>
/// figure of the same evidence.</item>
/// <item><c>pass_rate*</c>: its N counts evaluation test cases, which people write by the dozen, not
/// interactions by the hundred; holding a 40-case edge set to a 200-interaction minimum would keep it
/// "insufficient" forever. It needs <c>minTestCases</c> cases (default 1: a figure at all); use
/// <c>confidence: lower</c> to make a small set prove itself.</item>
/// </list>
/// </remarks>
public static class CriteriaEvaluator
{
    private static readonly FrozenSet<string> CountMetrics = FrozenSet.Create(StringComparer.Ordinal,
        "incidents_low", "incidents_medium", "incidents_high", "incidents_critical", "complaints", "review_backlog", "review_backlog_hours", "samples");

    /// <summary>Evaluates a pilot's criteria with its <c>minSamples</c> and recommends an outcome.</summary>
    public static CriteriaEvaluation EvaluatePilot(PilotSpec pilot, IReadOnlyDictionary<string, MetricValue> metrics, long minTestCases = 1)
    {
        ArgumentNullException.ThrowIfNull(pilot);
        return Evaluate(pilot.Criteria, metrics, pilot.MinSamples, minTestCases);
    }

    /// <summary>Evaluates every criterion and recommends an outcome.</summary>
    /// <param name="criteria">The criteria, in spec order (verdicts keep that order).</param>
    /// <param name="metrics">Catalogue figures by name; a missing name is "no figure".</param>
    /// <param name="minSamples">Interactions needed before a figure counts.</param>
    /// <param name="minTestCases">Test cases needed before a <c>pass_rate*</c> figure counts.</param>
    public static CriteriaEvaluation Evaluate(IReadOnlyList<CriterionSpec> criteria, IReadOnlyDictionary<string, MetricValue> metrics, long minSamples, long minTestCases = 1)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        var verdicts = criteria.Select(c => EvaluateCriterion(c, metrics, minSamples, minTestCases)).ToArray();
        return new CriteriaEvaluation(verdicts, Recommend(verdicts));
    }

    /// <summary>The verdict on one criterion.</summary>
    public static CriterionVerdict EvaluateCriterion(CriterionSpec criterion, IReadOnlyDictionary<string, MetricValue> metrics, long minSamples, long minTestCases = 1)
    {
        ArgumentNullException.ThrowIfNull(criterion);
        ArgumentNullException.ThrowIfNull(metrics);
        var metric = criterion.Metric;
        var confidence = ParseConfidence(criterion.Confidence);
        var testCases = metric.StartsWith("pass_rate", StringComparison.Ordinal);
        var need = Math.Max(0, testCases ? minTestCases : minSamples);
        var unit = testCases ? "test cases" : "samples";
        var figure = metrics.GetValueOrDefault(metric);
        var n = SampleBasis(metric, figure, metrics);

        CriterionVerdict Make(Verdict verdict, double? tested, long? needed, string explanation) =>
            new(metric, criterion.Min, criterion.Max, confidence, figure?.Value, tested, n, need, testCases, verdict, criterion.Else, needed, explanation);

        if (figure?.Value is not { } value)
        {
            long? needed = n < need ? need - n : null;
            var why = figure is null
                ? $"{metric} was not measured"
                : $"{metric} has no figure yet (n={Figures.Int(n)}{Errored(figure)})";
            var more = needed is { } k ? $": {Figures.Int(need)} {unit} needed, {Figures.Int(k)} more" : "";
            return Make(Verdict.InsufficientEvidence, null, needed, $"{why}{more} → keep collecting");
        }

        var (tested, hasBound) = TestedFigure(value, figure, confidence);
        if (n < need)
        {
            return Make(Verdict.InsufficientEvidence, tested, need - n,
                $"{Shown(metric, value, n, confidence, tested, hasBound, null, figure)} rests on too few {unit}: {Figures.Int(need)} needed, {Figures.Int(need - n)} more → keep collecting");
        }

        // The tested figure is compared with both thresholds: `lower` on a `min` asks the lower bound to
        // clear it (conservative), `upper` on a `max` asks the upper bound to stay under it (conservative);
        // the other pairings give the benefit of the doubt, as the spec author chose.
        if (criterion.Min is { } min && tested < min)
        {
            return Make(Verdict.Fail, tested, null,
                $"{Shown(metric, value, n, confidence, tested, hasBound, min, figure)} is below {Figures.Num(min)}{Consequence(criterion)}");
        }
        if (criterion.Max is { } max && tested > max)
        {
            return Make(Verdict.Fail, tested, null,
                $"{Shown(metric, value, n, confidence, tested, hasBound, max, figure)} is above {Figures.Num(max)}{Consequence(criterion)}");
        }
        return Make(Verdict.Pass, tested, null,
            $"{Shown(metric, value, n, confidence, tested, hasBound, criterion.Min ?? criterion.Max, figure)} {Threshold(criterion)}");
    }

    /// <summary>
    /// The most severe failing outcome (stop &gt; redesign &gt; repilot &gt; narrow &gt; proceed); all pass →
    /// proceed; no failure but something pending → insufficient evidence.
    /// </summary>
    public static Recommendation Recommend(IReadOnlyList<CriterionVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(verdicts);
        var failing = verdicts.Where(v => v.Verdict == Verdict.Fail).ToArray();
        var pending = verdicts.Where(v => v.Verdict == Verdict.InsufficientEvidence).ToArray();
        var moreSamples = MaxNeed(pending.Where(v => !v.CountsTestCases));
        var moreCases = MaxNeed(pending.Where(v => v.CountsTestCases));

        if (failing.Length > 0)
        {
            var worst = failing.Max(FailOutcome);
            var because = failing.Where(v => FailOutcome(v) == worst).ToArray();
            var kind = ToKind(worst);
            var others = failing.Length - because.Length;
            var summary = $"{SpecEnum.ToName(worst)}: {string.Join("; ", because.Select(v => v.Explanation))}"
                          + (others > 0 ? $" (and {Figures.Plural(others, "less severe failure", "less severe failures")})" : "")
                          + (pending.Length > 0 ? $"; {Figures.Plural(pending.Length, "criterion still lacks", "criteria still lack")} evidence and could ask for more" : "");
            return new Recommendation(kind, because, pending, moreSamples, moreCases, summary);
        }
        if (pending.Length > 0)
        {
            var unknowable = pending.Any(v => v.SamplesNeeded is null);
            var needs = new List<string>();
            if (moreSamples is { } s) needs.Add($"{(unknowable ? "at least " : "")}{Figures.Plural(s, "more sample", "more samples")}");
            if (moreCases is { } c) needs.Add($"{Figures.Plural(c, "more test case", "more test cases")}");
            var howMany = needs.Count > 0 ? $" — {string.Join(" and ", needs)} needed" : "";
            var summary = $"insufficient evidence: {Figures.Int(pending.Length)} of {Figures.Plural(verdicts.Count, "criterion lacks", "criteria lack")} evidence; keep collecting{howMany}"
                          + $" ({string.Join("; ", pending.Select(v => v.Explanation))})";
            return new Recommendation(RecommendationKind.InsufficientEvidence, pending, pending, moreSamples, moreCases, summary);
        }
        return new Recommendation(RecommendationKind.Proceed, [], [], null, null,
            verdicts.Count == 0
                ? "proceed: no criteria are defined, so nothing argues against it; set decision criteria before relying on this (seed, step 2)"
                : $"proceed: all {Figures.Plural(verdicts.Count, "criterion passes", "criteria pass")}");
    }

    /// <summary>
    /// Whether a stage may expand: every gate criterion passes (criteria, not outcomes: <c>else</c> is
    /// unused in a gate), the stage's <c>minDays</c> have passed and its <c>minSamples</c> are reached.
    /// The stage's <c>minSamples</c> is also each gate criterion's minimum sample.
    /// </summary>
    /// <param name="stage">The stage the system is in.</param>
    /// <param name="metrics">Figures over the stage's own evidence.</param>
    /// <param name="timeInStage">How long the system has been in the stage (the server's clock, not ours).</param>
    public static GateEvaluation EvaluateGate(RolloutStageSpec stage, IReadOnlyDictionary<string, MetricValue> metrics, TimeSpan timeInStage)
    {
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(metrics);
        var minSamples = stage.MinSamples ?? 0;
        // A gate criterion's outcome is "stay in the stage"; an `else` left on it must not leak into the text.
        var verdicts = stage.Gate
            .Select(c => EvaluateCriterion(c with { Else = null }, metrics, minSamples))
            .ToArray();
        var days = Math.Max(0, timeInStage.TotalDays);
        var samples = metrics.GetValueOrDefault("samples") is { } s ? s.N : 0;

        var reasons = new List<string>();
        if (stage.MinDays is { } minDays && days < minDays)
        {
            reasons.Add($"{Figures.Plural(minDays, "day", "days")} minimum, {Figures.Days(days)} {(Figures.Days(days) == "1" ? "day" : "days")} so far");
        }
        if (stage.MinSamples is { } minS && samples < minS)
        {
            reasons.Add($"{Figures.Plural(minS, "sample", "samples")} minimum, {Figures.Int(samples)} so far");
        }
        reasons.AddRange(verdicts.Where(v => v.Verdict != Verdict.Pass).Select(v => v.Explanation));
        return new GateEvaluation(stage.Name, reasons.Count == 0, verdicts, reasons, days, stage.MinDays, samples, stage.MinSamples);
    }

    private static long SampleBasis(string metric, MetricValue? figure, IReadOnlyDictionary<string, MetricValue> metrics)
    {
        if (CountMetrics.Contains(metric))
        {
            return metrics.GetValueOrDefault("samples") is { } samples ? samples.N : 0;
        }
        return figure?.N ?? 0;
    }

    private static (double Tested, bool HasBound) TestedFigure(double value, MetricValue figure, ConfidenceBound confidence) => confidence switch
    {
        ConfidenceBound.Lower when figure.Low is { } low => (low, true),
        ConfidenceBound.Upper when figure.High is { } high => (high, true),
        _ => (value, false),
    };

    /// <summary>
    /// "acceptance_rate 0.84 (n=212, lower bound 0.79)". The figure compared with the threshold gets
    /// enough decimals to differ from it in print.
    /// </summary>
    private static string Shown(string metric, double value, long n, ConfidenceBound confidence, double tested, bool hasBound, double? threshold, MetricValue figure)
    {
        // The unit follows the figure ("2.5 min", "0.84 per day"); rates stay in the 0–1 scale their thresholds are written in.
        var unit = MetricCatalogue.UnitOf(metric) is { } u ? MetricUnits.Suffix(u) : "";
        string Apart(double x) => (threshold is { } t ? Figures.NumApart(x, t) : Figures.Num(x)) + unit;
        var samples = $"n={Figures.Int(n)}{Errored(figure)}";
        return (confidence, hasBound) switch
        {
            (ConfidenceBound.Point, _) => $"{metric} {Apart(value)} ({samples})",
            (_, true) => $"{metric} {Figures.Num(value)}{unit} ({samples}, {(confidence == ConfidenceBound.Upper ? "upper" : "lower")} bound {Apart(tested)})",
            // Only rates have an interval; saying so keeps a person from believing a bound was tested.
            _ => $"{metric} {Apart(value)} ({samples}, no interval: point value tested)",
        };
    }

    /// <summary>"; 3 errored, not counted": evaluation cases that ran to no verdict are shown, never judged.</summary>
    private static string Errored(MetricValue figure) =>
        figure.Errors is > 0 and { } errors ? $"; {Figures.Int(errors)} errored, not counted: rerun them" : "";

    private static string Threshold(CriterionSpec criterion)
    {
        var unit = MetricCatalogue.UnitOf(criterion.Metric) is { } u ? MetricUnits.Suffix(u) : "";
        return (criterion.Min, criterion.Max) switch
        {
            ({ } min, { } max) => $"is within {Figures.Num(min)}–{Figures.Num(max)}{unit}",
            ({ } min, null) => $"meets min {Figures.Num(min)}{unit}",
            (null, { } max) => $"meets max {Figures.Num(max)}{unit}",
            _ => "has no threshold",
        };
    }

    private static string Consequence(CriterionSpec criterion) =>
        criterion.Else is { } outcome ? $" → {SpecEnum.ToName(outcome)}" : "";

    /// <summary>
    /// A failing criterion that names no outcome (only possible outside a validated pilot spec) cannot be
    /// read as permission to go on, so it counts as the most severe outcome.
    /// </summary>
    private static PilotOutcome FailOutcome(CriterionVerdict verdict) => verdict.Else ?? PilotOutcome.Stop;

    private static RecommendationKind ToKind(PilotOutcome outcome) => outcome switch
    {
        PilotOutcome.Proceed => RecommendationKind.Proceed,
        PilotOutcome.Narrow => RecommendationKind.Narrow,
        PilotOutcome.Repilot => RecommendationKind.Repilot,
        PilotOutcome.Redesign => RecommendationKind.Redesign,
        _ => RecommendationKind.Stop,
    };

    private static long? MaxNeed(IEnumerable<CriterionVerdict> pending)
    {
        long? max = null;
        foreach (var v in pending)
        {
            if (v.SamplesNeeded is { } k && (max is null || k > max)) max = k;
        }
        return max;
    }

    private static ConfidenceBound ParseConfidence(string? text)
    {
        if (text is null) return ConfidenceBound.Point;
        // The spec reader refuses any other spelling, so one here is a programming error, not user input.
        return SpecEnum.TryParse<ConfidenceBound>(text, out var bound)
            ? bound
            : throw new ArgumentException($"invalid confidence '{text}': allowed values are point, lower, upper", nameof(text));
    }
}
