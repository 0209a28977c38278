using System.Text.Json.Serialization;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Reports;

/// <summary>Whether the AI saves time once review and rework are counted; its JSON name is the attribute.</summary>
public enum ValueSign
{
    [JsonStringEnumMemberName("unknown")] Unknown,
    [JsonStringEnumMemberName("saves")] Saves,
    [JsonStringEnumMemberName("costs")] Costs,
    [JsonStringEnumMemberName("even")] Even,
}

/// <summary>Where the manual baseline of the value section comes from; its JSON name is the attribute.</summary>
public enum BaselineSource
{
    [JsonStringEnumMemberName("none")] None,
    [JsonStringEnumMemberName("measured")] Measured,
    [JsonStringEnumMemberName("spec")] Spec,
}

/// <summary>What a control event of the report did: a pause, a resume, a restriction, or a pause rule that fired.</summary>
public enum ControlEventKind { Pause, Resume, Restrict, Rule }

/// <summary>The one place the report's closed vocabularies turn into words.</summary>
public static class ReportVocabulary
{
    public static string Name(ValueSign sign) => SpecEnum.ToName(sign);

    public static string Name(BaselineSource source) => SpecEnum.ToName(source);

    public static string Name(ControlEventKind kind) => SpecEnum.ToName(kind);

    /// <summary>The recommendation kind a report names (snake case, as <see cref="SpecEnum"/> writes it); null for anything else.</summary>
    public static RecommendationKind? ParseRecommendation(string kind) =>
        SpecEnum.TryParse<RecommendationKind>(kind, out var parsed) ? parsed : null;

    /// <summary>The criterion verdict a report names (<c>pass</c>, <c>fail</c>, <c>insufficient_evidence</c>); null for anything else.</summary>
    public static Verdict? ParseVerdict(string verdict) => SpecEnum.TryParse<Verdict>(verdict, out var parsed) ? parsed : null;

    /// <summary>The readiness status a report names (<c>ok</c>, <c>warning</c>, <c>blocking</c>, <c>needs_answer</c>); null for anything else.</summary>
    public static ReadinessStatus? ParseReadiness(string status) => SpecEnum.TryParse<ReadinessStatus>(status, out var parsed) ? parsed : null;
}
