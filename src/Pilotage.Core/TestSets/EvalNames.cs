using Pilotage.Core.Specs;

namespace Pilotage.Core.TestSets;

/// <summary>Where an evaluation run stands: running until its runner finishes it, completed, or interrupted (Ctrl-C; what was recorded is kept).</summary>
public enum EvalRunStatus { Running, Completed, Interrupted }

/// <summary>
/// The one spelling of the evaluation vocabularies — run statuses and case verdicts — in the API, the store and the
/// audit trail: snake case, as <see cref="SpecEnum"/> spells every enum (<c>NeedsHuman</c> ↔ <c>needs_human</c>).
/// </summary>
public static class EvalNames
{
    public static string Name(this EvalRunStatus status) => SpecEnum.ToName(status);

    public static string Name(this CaseVerdictKind verdict) => SpecEnum.ToName(verdict);

    /// <summary>The status a stored or requested name spells; null for anything else.</summary>
    public static EvalRunStatus? ParseStatus(string? name) => SpecEnum.TryParse<EvalRunStatus>(name, out var status) ? status : null;

    /// <summary>The verdict a stored or posted name spells; null for anything else.</summary>
    public static CaseVerdictKind? ParseVerdict(string? name) => SpecEnum.TryParse<CaseVerdictKind>(name, out var verdict) ? verdict : null;
}
