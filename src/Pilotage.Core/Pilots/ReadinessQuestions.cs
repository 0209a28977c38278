using System.Text.Json.Serialization;

namespace Pilotage.Core.Pilots;

/// <summary>The four groups of the seed's readiness questions.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ReadinessGroup>))]
public enum ReadinessGroup { PilotEvidence, ProductionReadiness, RolloutDesign, ValueAndCost }

/// <summary>One of the seed's twenty pilot-to-production readiness questions.</summary>
/// <param name="Id">Stable id (<c>group.topic</c>): person answers, reports and links refer to it; never renamed.</param>
/// <param name="Group">The seed's group.</param>
/// <param name="Text">The question exactly as the seed words it.</param>
/// <param name="Automatic">True when the system answers it from its own state (a person may still add a note);
/// false when only a person can answer.</param>
/// <param name="BlocksProceed">True when a <see cref="ReadinessStatus.Blocking"/> answer stops a proceed or expand
/// decision. See <see cref="ReadinessQuestions"/> for why these six.</param>
public sealed record ReadinessQuestion(string Id, ReadinessGroup Group, string Text, bool Automatic, bool BlocksProceed);

/// <summary>
/// The seed's twenty readiness questions (pilot evidence; production readiness; rollout design; value
/// and cost), in the seed's order.
/// </summary>
/// <remarks>
/// Six questions block a proceed decision when their answer is <see cref="ReadinessStatus.Blocking"/>:
/// <list type="bullet">
/// <item><c>production.owner</c>: no accountable owner means nobody to monitor, change, handle incidents or
/// retire (seed: "Skipping ownership"); design.md makes it a rule that is code.</item>
/// <item><c>production.monitoring</c>: without pause rules a failing system does not stop itself (seed:
/// "Missing pause rules"); the lifecycle already refuses expansion without them.</item>
/// <item><c>production.incidents</c>: an unreviewed high or critical incident is a known harm nobody has
/// looked at; widening use before it is understood spreads it.</item>
/// <item><c>production.who_can_pause</c>: a pause that nobody may press is not a control.</item>
/// <item><c>rollout.expansion_conditions</c>: without any gate, expansion would rest on enthusiasm, which is
/// the failure the seed warns about (seed: "Expanding too quickly").</item>
/// <item><c>value.continue</c>: design.md allows no promotion without evidence that meets the criteria, so a
/// recommendation other than proceed (including "keep collecting") blocks.</item>
/// </list>
/// The others warn: they are judgement calls (training, draft-first, scope, cost…) that a person may
/// reasonably decide differently and record in the decision's reason.
/// </remarks>
public static class ReadinessQuestions
{
    public const string WhatTested = "pilot.what_tested";
    public const string ExamplesRealistic = "pilot.examples_realistic";
    public const string QualityIssues = "pilot.quality_issues";
    public const string ReviewRequired = "pilot.review_required";
    public const string WithinScope = "pilot.within_scope";
    public const string Owner = "production.owner";
    public const string Training = "production.training";
    public const string Monitoring = "production.monitoring";
    public const string Incidents = "production.incidents";
    public const string WhoCanPause = "production.who_can_pause";
    public const string OneTeamFirst = "rollout.one_team_first";
    public const string DraftFirst = "rollout.draft_first";
    public const string ReadOnlyFirst = "rollout.read_only_first";
    public const string RiskyTasks = "rollout.risky_tasks";
    public const string ExpansionConditions = "rollout.expansion_conditions";
    public const string TimeSaved = "value.time_saved";
    public const string QualityOrSpeed = "value.quality_or_speed";
    public const string SupportBurden = "value.support_burden";
    public const string HiddenCosts = "value.hidden_costs";
    public const string Continue = "value.continue";

    /// <summary>All twenty, in the seed's order.</summary>
    public static IReadOnlyList<ReadinessQuestion> All { get; } =
    [
        new(WhatTested, ReadinessGroup.PilotEvidence, "What did the pilot actually test?", true, false),
        new(ExamplesRealistic, ReadinessGroup.PilotEvidence, "Were examples realistic or selected?", true, false),
        new(QualityIssues, ReadinessGroup.PilotEvidence, "What quality issues appeared?", true, false),
        new(ReviewRequired, ReadinessGroup.PilotEvidence, "How much human review was required?", true, false),
        new(WithinScope, ReadinessGroup.PilotEvidence, "Did users apply AI only within the approved scope?", true, false),
        new(Owner, ReadinessGroup.ProductionReadiness, "Who owns the AI system after rollout?", true, true),
        new(Training, ReadinessGroup.ProductionReadiness, "What training will broader users receive?", true, false),
        new(Monitoring, ReadinessGroup.ProductionReadiness, "What monitoring will continue after launch?", true, true),
        new(Incidents, ReadinessGroup.ProductionReadiness, "How are incidents and complaints reviewed?", true, true),
        new(WhoCanPause, ReadinessGroup.ProductionReadiness, "Who can pause or restrict the deployment?", true, true),
        new(OneTeamFirst, ReadinessGroup.RolloutDesign, "Should rollout be limited to one team first?", true, false),
        new(DraftFirst, ReadinessGroup.RolloutDesign, "Should AI remain draft-only at first?", true, false),
        new(ReadOnlyFirst, ReadinessGroup.RolloutDesign, "Should access be read-only before write access?", true, false),
        new(RiskyTasks, ReadinessGroup.RolloutDesign, "Which tasks are too risky for early rollout?", false, false),
        new(ExpansionConditions, ReadinessGroup.RolloutDesign, "What must be true before expansion?", true, true),
        new(TimeSaved, ReadinessGroup.ValueAndCost, "Did AI save time after review and rework?", true, false),
        new(QualityOrSpeed, ReadinessGroup.ValueAndCost, "Did it improve quality or only speed?", true, false),
        new(SupportBurden, ReadinessGroup.ValueAndCost, "What support burden appeared?", true, false),
        new(HiddenCosts, ReadinessGroup.ValueAndCost, "What hidden costs did the pilot reveal?", true, false),
        new(Continue, ReadinessGroup.ValueAndCost, "Should the deployment continue at all?", true, true),
    ];

    /// <summary>The seed's heading for a group.</summary>
    public static string Title(ReadinessGroup group) => group switch
    {
        ReadinessGroup.PilotEvidence => "Pilot evidence questions",
        ReadinessGroup.ProductionReadiness => "Production readiness questions",
        ReadinessGroup.RolloutDesign => "Rollout design questions",
        _ => "Value and cost questions",
    };

    /// <summary>The question with this id, or null.</summary>
    public static ReadinessQuestion? Find(string id) => All.FirstOrDefault(q => q.Id == id);
}
