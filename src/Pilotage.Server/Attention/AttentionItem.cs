using System.Text.Json.Serialization;

namespace Pilotage.Server.Attention;

/// <summary>What needs a person's attention about a system (docs/dashboard.md, "Attention items").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttentionKind>))]
public enum AttentionKind
{
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("pause_rule")] PauseRule,
    [JsonStringEnumMemberName("review_backlog")] ReviewBacklog,
    [JsonStringEnumMemberName("upstream_errors")] UpstreamErrors,
    [JsonStringEnumMemberName("refusals")] Refusals,
    [JsonStringEnumMemberName("stale_pilot")] StalePilot,
    [JsonStringEnumMemberName("pilot_expired")] PilotExpired,
    [JsonStringEnumMemberName("pilot_ending")] PilotEnding,
}

/// <summary>How urgent: <c>bad</c> (act now), <c>warn</c> (look soon), <c>good</c> (in bounds, shown for context).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<AttentionLevel>))]
public enum AttentionLevel
{
    [JsonStringEnumMemberName("good")] Good,
    [JsonStringEnumMemberName("warn")] Warn,
    [JsonStringEnumMemberName("bad")] Bad,
}

/// <summary>One thing that needs attention, with its figure and where to act on it.</summary>
/// <param name="Text">One sentence with the figure: "6 of 6 upstream calls failed in the last 24 h (100 %)".</param>
/// <param name="Figure">The figure the item is about (a share, hours, days, a count), in <paramref name="Unit"/>; null when there is none.</param>
/// <param name="Unit">The figure's unit: <c>ratio</c>, <c>hours</c>, <c>days</c>, <c>count</c>, or a metric catalogue unit.</param>
/// <param name="Link">The dashboard page where a person acts on it (a path on this server).</param>
public sealed record AttentionItem(string System, AttentionKind Kind, AttentionLevel Level, string Text, double? Figure, string? Unit, string Link)
{
    /// <summary>The level as pages name it (CSS class): good, warn or bad.</summary>
    [JsonIgnore]
    public string LevelName => Level.ToString().ToLowerInvariant();

    /// <summary>True for warn and bad: what "nothing needs attention" is about.</summary>
    [JsonIgnore]
    public bool NeedsAction => Level != AttentionLevel.Good;

    /// <summary>What the link opens, in words.</summary>
    [JsonIgnore]
    public string LinkText => Kind switch
    {
        AttentionKind.Paused => "emergency control",
        AttentionKind.PauseRule => "metrics",
        AttentionKind.ReviewBacklog => "review queue",
        AttentionKind.UpstreamErrors => "failures by reason",
        AttentionKind.Refusals => "refusals by reason",
        AttentionKind.StalePilot => "adoption",
        _ => "decide",
    };
}
