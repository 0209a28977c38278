using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Systems;

/// <summary>What a person decides about a system; <see cref="DecisionOutcomes.Name"/> is its one spelling (API, store, audit).</summary>
public enum DecisionOutcome { Pilot, Proceed, Narrow, Redesign, Repilot, Stop, Expand, Restrict, Retire, Extend }

public static class DecisionOutcomes
{
    /// <summary>Every outcome, in the order forms and error messages list them.</summary>
    public static IReadOnlyList<DecisionOutcome> All { get; } = Enum.GetValues<DecisionOutcome>();

    public static string Name(this DecisionOutcome outcome) => SpecEnum.ToName(outcome);

    /// <summary>The outcome a request names (trimmed, any case); null for anything else.</summary>
    public static DecisionOutcome? Parse(string? text) =>
        SpecEnum.TryParse<DecisionOutcome>(text?.Trim().ToLowerInvariant(), out var outcome) ? outcome : null;

    /// <summary>The outcomes that conclude a pilot (the ones a recommendation is about).</summary>
    public static bool ConcludesPilot(this DecisionOutcome outcome) =>
        outcome is DecisionOutcome.Proceed or DecisionOutcome.Narrow or DecisionOutcome.Redesign or DecisionOutcome.Repilot or DecisionOutcome.Stop;

    /// <summary>With insufficient evidence, only another pilot agrees: every other conclusion is a judgement call.</summary>
    public static bool Agrees(this DecisionOutcome outcome, RecommendationKind? recommendation) => recommendation switch
    {
        RecommendationKind.InsufficientEvidence => outcome == DecisionOutcome.Repilot,
        RecommendationKind.Proceed => outcome == DecisionOutcome.Proceed,
        RecommendationKind.Narrow => outcome == DecisionOutcome.Narrow,
        RecommendationKind.Repilot => outcome == DecisionOutcome.Repilot,
        RecommendationKind.Redesign => outcome == DecisionOutcome.Redesign,
        RecommendationKind.Stop => outcome == DecisionOutcome.Stop,
        _ => false,
    };
}
