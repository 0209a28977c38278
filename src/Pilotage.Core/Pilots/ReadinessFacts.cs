using System.Text.Json.Serialization;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

/// <summary>Whether the spec's owner is a person the system knows and who can still act.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OwnerStatus>))]
public enum OwnerStatus
{
    /// <summary>Not checked, or not a known user: an e-mail in a spec is not yet an accountable person.</summary>
    Unknown,
    Active,
    /// <summary>A known user who was disabled or left.</summary>
    Inactive,
}

/// <summary>A person's answer to a readiness question the system cannot answer from its own state.</summary>
public sealed record PersonAnswer(string Text, string By, DateTimeOffset At);

/// <summary>Incidents and complaints over the evidence period, and how many still await review.</summary>
/// <param name="Incidents">All incidents reported.</param>
/// <param name="HighOrCritical">Of those, severity high or critical.</param>
/// <param name="Unreviewed">Incidents not yet reviewed.</param>
/// <param name="UnreviewedHighOrCritical">High or critical incidents not yet reviewed.</param>
/// <param name="Complaints">Complaints filed.</param>
/// <param name="UnreviewedComplaints">Complaints not yet reviewed.</param>
public sealed record IncidentFacts(
    long Incidents = 0,
    long HighOrCritical = 0,
    long Unreviewed = 0,
    long UnreviewedHighOrCritical = 0,
    long Complaints = 0,
    long UnreviewedComplaints = 0);

/// <summary>An expansion someone asked for (or is about to ask for), with the evidence that should allow it.</summary>
/// <param name="Into">Where the system would go: a stage name, or "production".</param>
/// <param name="Gate">The gate of the stage being left; null when leaving the pilot for the first stage, where
/// the pilot's recommendation is what must allow it.</param>
public sealed record ExpansionRequest(string Into, GateEvaluation? Gate);

/// <summary>
/// Everything the readiness assessment and the mistake detector look at, gathered by the server from
/// the spec, the user store and the evidence. Start from <see cref="FromSpec"/> and add the rest with
/// <c>with</c>. Defaults are the "nothing known" values, so a missing fact shows as a gap, never as
/// reassurance.
/// </summary>
public sealed record ReadinessFacts
{
    public string? Owner { get; init; }
    public OwnerStatus OwnerStatus { get; init; } = OwnerStatus.Unknown;
    /// <summary>Active admins: they can pause any system.</summary>
    public int AdminCount { get; init; }
    public RiskTier Risk { get; init; } = RiskTier.Medium;
    /// <summary>The mode the system serves in now (the pilot's mode during the pilot).</summary>
    public ServingMode Mode { get; init; } = ServingMode.Draft;
    public IReadOnlyList<PilotQuestion> PilotQuestions { get; init; } = [];
    public IReadOnlyList<CriterionSpec> PilotCriteria { get; init; } = [];
    /// <summary>The pilot criteria evaluated against the current evidence; null when not evaluated.</summary>
    public CriteriaEvaluation? Criteria { get; init; }
    public TrainingSpec Training { get; init; } = new();
    public ReviewSpec Review { get; init; } = new();
    /// <summary>The review backlog forecast (<see cref="ReviewCapacity.Forecast"/>); null when not computed.</summary>
    public ReviewForecast? ReviewForecast { get; init; }
    public IReadOnlyList<PauseRuleSpec> PauseRules { get; init; } = [];
    public IReadOnlyList<RolloutStageSpec> Rollout { get; init; } = [];
    public IReadOnlyList<string> SideEffectingTools { get; init; } = [];
    public IReadOnlyList<string> DataBoundaryBlocks { get; init; } = [];
    /// <summary>Evaluation test cases per category (<c>normal</c>, <c>edge</c>, <c>unclear</c>, <c>missing_data</c>, <c>policy_boundary</c>).</summary>
    public IReadOnlyDictionary<string, long> TestCasesByCategory { get; init; } = new Dictionary<string, long>();
    /// <summary>Real interactions served through the gateway in the evidence period.</summary>
    public long RealInteractions { get; init; }
    /// <summary>Catalogue figures over the evidence period (<see cref="MetricCalculator.Compute"/>).</summary>
    public IReadOnlyDictionary<string, MetricValue> Metrics { get; init; } = new Dictionary<string, MetricValue>();
    public IncidentFacts Incidents { get; init; } = new();
    /// <summary>Support requests recorded; null when nobody counts them (then a person must answer).</summary>
    public long? SupportRequests { get; init; }
    /// <summary>An expansion being asked for, if any (for the "expanding too quickly" mistake).</summary>
    public ExpansionRequest? Expansion { get; init; }
    /// <summary>People's answers by question id (<see cref="ReadinessQuestions"/>).</summary>
    public IReadOnlyDictionary<string, PersonAnswer> PersonAnswers { get; init; } = new Dictionary<string, PersonAnswer>();

    /// <summary>The facts a spec states; the server adds the owner's status, evidence and answers.</summary>
    public static ReadinessFacts FromSpec(SystemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ReadinessFacts
        {
            Owner = string.IsNullOrWhiteSpace(spec.Owner) ? null : spec.Owner,
            Risk = spec.Risk,
            Mode = spec.Pilot?.Mode ?? (spec.Rollout.Count > 0 ? spec.Rollout[0].Mode : ServingMode.Full),
            PilotQuestions = spec.Pilot?.Questions ?? [],
            PilotCriteria = spec.Pilot?.Criteria ?? [],
            Training = spec.Training,
            Review = spec.Review,
            PauseRules = spec.PauseRules,
            Rollout = spec.Rollout,
            SideEffectingTools = spec.Tools.SideEffecting,
            DataBoundaryBlocks = spec.DataBoundary.Block,
        };
    }
}
