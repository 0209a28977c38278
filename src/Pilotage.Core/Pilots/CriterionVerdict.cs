using System.Text.Json.Serialization;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

/// <summary>What one criterion says about the evidence.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    Pass,
    Fail,
    /// <summary>
    /// Too few samples, or no figure at all. Its own verdict, never a pass: a criterion that has not
    /// been tested has not been met, and it has not failed either.
    /// </summary>
    InsufficientEvidence,
}

/// <summary>Which figure of a rate's 95 % Wilson interval a criterion tests (spec: <c>confidence</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ConfidenceBound>))]
public enum ConfidenceBound { Point, Lower, Upper }

/// <summary>The verdict on one criterion, with the figures that decided it.</summary>
/// <param name="Metric">The catalogue name tested.</param>
/// <param name="Min">Threshold: passes when the tested figure is ≥ this.</param>
/// <param name="Max">Threshold: passes when the tested figure is ≤ this.</param>
/// <param name="Confidence">Which figure was asked for.</param>
/// <param name="Value">The point value of the metric; null when there is none.</param>
/// <param name="Tested">The figure compared with the thresholds: the point value, or the Wilson bound named by
/// <paramref name="Confidence"/> (the point value when the metric has no interval).</param>
/// <param name="N">The sample the figure rests on (for counts such as incidents: all samples, see
/// <see cref="CriteriaEvaluator"/>).</param>
/// <param name="MinSamples">The sample needed before the figure counts.</param>
/// <param name="CountsTestCases">True when <paramref name="N"/> counts evaluation test cases (<c>pass_rate*</c>), not interactions.</param>
/// <param name="Verdict">Pass, fail or insufficient evidence.</param>
/// <param name="Else">The outcome the criterion names when it fails (pilot criteria); null in a gate.</param>
/// <param name="SamplesNeeded">For insufficient evidence: how many more samples (or test cases) are needed, when knowable.</param>
/// <param name="Explanation">One line a person can read, e.g.
/// "acceptance_rate 0.84 (n=212, lower bound 0.79) is below 0.8 → redesign".</param>
public sealed record CriterionVerdict(
    string Metric,
    double? Min,
    double? Max,
    ConfidenceBound Confidence,
    double? Value,
    double? Tested,
    long N,
    long MinSamples,
    bool CountsTestCases,
    Verdict Verdict,
    PilotOutcome? Else,
    long? SamplesNeeded,
    string Explanation);

/// <summary>What the criteria recommend, in increasing severity, plus "keep collecting".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecommendationKind>))]
public enum RecommendationKind { Proceed, Narrow, Repilot, Redesign, Stop, InsufficientEvidence }

/// <summary>
/// The recommendation drawn from a pilot's verdicts: the most severe failing outcome
/// (stop &gt; redesign &gt; repilot &gt; narrow &gt; proceed); all pass → proceed; no failure but some
/// criteria without enough evidence → <see cref="RecommendationKind.InsufficientEvidence"/>.
/// A recommendation is evidence for a person's decision, not the decision.
/// </summary>
/// <param name="Kind">The recommendation.</param>
/// <param name="Because">The verdicts that decided it: the failures naming the most severe outcome, or the
/// criteria still lacking evidence.</param>
/// <param name="Pending">Criteria still lacking evidence, also when a failure already decides the recommendation
/// (a pending criterion might yet ask for something more severe).</param>
/// <param name="MoreSamplesNeeded">How many more interactions the pending criteria need, when knowable (the largest
/// need, since samples accumulate for all criteria at once).</param>
/// <param name="MoreTestCasesNeeded">Likewise for evaluation test cases (<c>pass_rate*</c> criteria).</param>
/// <param name="Summary">One line a person can read.</param>
public sealed record Recommendation(
    RecommendationKind Kind,
    IReadOnlyList<CriterionVerdict> Because,
    IReadOnlyList<CriterionVerdict> Pending,
    long? MoreSamplesNeeded,
    long? MoreTestCasesNeeded,
    string Summary)
{
    /// <summary>The pilot outcome recommended; null while evidence is insufficient.</summary>
    public PilotOutcome? Outcome => Kind switch
    {
        RecommendationKind.Proceed => PilotOutcome.Proceed,
        RecommendationKind.Narrow => PilotOutcome.Narrow,
        RecommendationKind.Repilot => PilotOutcome.Repilot,
        RecommendationKind.Redesign => PilotOutcome.Redesign,
        RecommendationKind.Stop => PilotOutcome.Stop,
        _ => null,
    };
}

/// <summary>A pilot's criteria verdicts and the recommendation drawn from them.</summary>
public sealed record CriteriaEvaluation(IReadOnlyList<CriterionVerdict> Verdicts, Recommendation Recommendation);

/// <summary>
/// Whether a rollout stage may be expanded: its gate criteria, its minimum time and minimum sample.
/// </summary>
/// <param name="Stage">The stage name.</param>
/// <param name="Open">True only when every gate criterion passes and the minimum time and sample are reached.</param>
/// <param name="Criteria">One verdict per gate criterion.</param>
/// <param name="ClosedReasons">Every reason the gate is closed, with figures ("14 days minimum, 9 days so far").
/// Empty when open.</param>
/// <param name="DaysInStage">Time spent in the stage so far, in days.</param>
/// <param name="MinDays">The stage's minimum duration, if any.</param>
/// <param name="Samples">Interactions in the stage so far.</param>
/// <param name="MinSamples">The stage's minimum sample, if any.</param>
public sealed record GateEvaluation(
    string Stage,
    bool Open,
    IReadOnlyList<CriterionVerdict> Criteria,
    IReadOnlyList<string> ClosedReasons,
    double DaysInStage,
    int? MinDays,
    long Samples,
    int? MinSamples)
{
    /// <summary>One line a person can read.</summary>
    public string Summary => Open
        ? $"stage '{Stage}' may expand: {(Criteria.Count == 0 ? "no gate criteria" : $"all {Criteria.Count} gate criteria pass")}"
          + (MinDays is { } d ? $"; {Figures.Days(DaysInStage)} days in stage ({d} minimum)" : "")
          + (MinSamples is { } s ? $"; {Figures.Int(Samples)} samples ({s} minimum)" : "")
        : $"stage '{Stage}' may not expand yet: {string.Join("; ", ClosedReasons)}";
}
