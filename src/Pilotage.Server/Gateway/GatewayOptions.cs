namespace Pilotage.Server.Gateway;

/// <summary>
/// The gateway's bounds, from <c>pilotage serve</c>'s flags and environment (the host builds it from its
/// options; docs/security.md states each bound and why).
/// </summary>
public sealed record GatewayOptions
{
    /// <summary>Upstream calls in flight at once, all systems together; beyond it 503 with Retry-After.</summary>
    public int MaxUpstreamInFlight { get; init; } = 4096;

    /// <summary>Upstream calls in flight at once for one system, so one hanging model cannot take every slot; beyond it 503.</summary>
    public int MaxUpstreamInFlightPerSystem { get; init; } = 2048;

    /// <summary>Upstream calls in flight at once for one key; beyond it 429 with Retry-After.</summary>
    public int MaxUpstreamInFlightPerKey { get; init; } = 256;

    /// <summary>Bytes of request bodies, non-streamed answers and streamed lines longer than 64 KB held in memory at once, all requests together; beyond it 503.</summary>
    public long MaxBufferedBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>The time one request's custom data-boundary patterns may take together; beyond it 422 <c>boundary_budget_exceeded</c>.</summary>
    public TimeSpan DataBoundaryBudget { get; init; } = Core.DataBoundary.BoundaryBudget.DefaultLimit;
}
