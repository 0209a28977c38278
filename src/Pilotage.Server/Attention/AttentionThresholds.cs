namespace Pilotage.Server.Attention;

/// <summary>
/// When a figure becomes an attention item (docs/dashboard.md, "Attention items"). The defaults are the
/// named constants below; a server can be started with others (<c>PilotageServerOptions.Attention</c>).
/// </summary>
public sealed record AttentionThresholds
{
    /// <summary>Upstream errors and refusals are counted over the last 24 hours of roll-ups.</summary>
    public const int DefaultWindowHours = 24;

    /// <summary>A warning when at least 5 % of the upstream calls in the window failed…</summary>
    public const double DefaultUpstreamErrorWarn = 0.05;

    /// <summary>…and bad from 25 %.</summary>
    public const double DefaultUpstreamErrorBad = 0.25;

    /// <summary>Fewer upstream calls than this in the window say nothing yet.</summary>
    public const int DefaultMinUpstreamCalls = 3;

    /// <summary>A warning when at least 20 % of the real requests in the window were refused…</summary>
    public const double DefaultRefusedWarn = 0.2;

    /// <summary>…and bad from 50 %.</summary>
    public const double DefaultRefusedBad = 0.5;

    /// <summary>Fewer refusals than this in the window say nothing yet.</summary>
    public const int DefaultMinRefusals = 3;

    /// <summary>A running pilot with no real request for 3 days (since it started or since its last request) is stale.</summary>
    public const int DefaultStalePilotHours = 72;

    /// <summary>A pilot ending within 7 days is flagged, so the decision is prepared in time.</summary>
    public const int DefaultPilotEndingDays = 7;

    /// <summary>A pause rule is "near" when its figure is within 20 % of its threshold; a review backlog when its oldest item is within 20 % of the SLA.</summary>
    public const double DefaultNearShare = 0.2;

    public static AttentionThresholds Default { get; } = new();

    public int WindowHours { get; init; } = DefaultWindowHours;
    public double UpstreamErrorWarn { get; init; } = DefaultUpstreamErrorWarn;
    public double UpstreamErrorBad { get; init; } = DefaultUpstreamErrorBad;
    public int MinUpstreamCalls { get; init; } = DefaultMinUpstreamCalls;
    public double RefusedWarn { get; init; } = DefaultRefusedWarn;
    public double RefusedBad { get; init; } = DefaultRefusedBad;
    public int MinRefusals { get; init; } = DefaultMinRefusals;
    public int StalePilotHours { get; init; } = DefaultStalePilotHours;
    public int PilotEndingDays { get; init; } = DefaultPilotEndingDays;
    public double NearShare { get; init; } = DefaultNearShare;
}
