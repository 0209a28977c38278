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

/// <summary>The one place the report's closed vocabularies turn into words.</summary>
public static class ReportVocabulary
{
    public static string Name(ValueSign sign) => SpecEnum.ToName(sign);

    public static string Name(BaselineSource source) => SpecEnum.ToName(source);

    /// <summary>The recommendation kind a report names (snake case, as <see cref="SpecEnum"/> writes it); null for anything else.</summary>
    public static RecommendationKind? ParseRecommendation(string kind) =>
        SpecEnum.TryParse<RecommendationKind>(kind, out var parsed) ? parsed : null;
}
