using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Systems;

/// <param name="Outcome">pilot, proceed, narrow, redesign, repilot, stop, expand, restrict, retire, or extend (a pilot's end date): a <see cref="DecisionOutcome"/>.</param>
/// <param name="Override">Decide against the recommendation (the reason must say why); recorded as such.</param>
public sealed record DecisionRequest(string? Outcome, string? Reason, DateOnly? NewEndDate, bool Override = false);
public sealed record ReasonRequest(string? Reason);
public sealed record DecisionView(long Id, string System, string Outcome, string Reason, string DecidedBy, DateTimeOffset DecidedAt,
    string FromPhase, int FromStage, string ToPhase, int ToStage, DateOnly? NewEndDate, bool Override = false, string? EvidenceHash = null);
public sealed record LifecycleView(string System, string Phase, int Stage, string? PausedBy, DateTimeOffset? PausedAt, string? PauseReason);

/// <summary>The lifecycle routes: each binds the request and calls <see cref="LifecycleCommands"/> or <see cref="SystemQueries"/>.</summary>
public static class LifecycleEndpoints
{
    public static void MapLifecycle(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Lifecycle");
        systems.MapPost("/{slug}/decisions", DecideAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Record a decision that moves the lifecycle (pilot, proceed, narrow, redesign, repilot, stop, expand, restrict, retire, extend)");
        systems.MapGet("/{slug}/decisions", ListAsync).RequirePermission(Permission.SystemsRead).WithSummary("The decisions recorded for a system");
        systems.MapPost("/{slug}/pause", PauseAsync).RequirePermission(Permission.SystemsOperate).WithSummary("Pause a system: the gateway refuses its next request");
        systems.MapPost("/{slug}/resume", ResumeAsync).RequirePermission(Permission.SystemsOperate).WithSummary("Resume a paused or restricted system (a reason is required)");
    }

    private static Task<IReadOnlyList<DecisionView>> ListAsync(string slug, SystemQueries systems, CancellationToken ct) => systems.DecisionsAsync(slug, ct);

    private static Task<DecisionView> DecideAsync(string slug, DecisionRequest? request, HttpContext http, LifecycleCommands lifecycle, CancellationToken ct) =>
        lifecycle.DecideAsync(slug, request, Actor.From(http.User), ct);

    private static Task<LifecycleView> PauseAsync(string slug, ReasonRequest? request, HttpContext http, LifecycleCommands lifecycle, CancellationToken ct) =>
        lifecycle.PauseAsync(slug, request?.Reason, Actor.From(http.User), ct);

    private static Task<LifecycleView> ResumeAsync(string slug, ReasonRequest? request, HttpContext http, LifecycleCommands lifecycle, CancellationToken ct) =>
        lifecycle.ResumeAsync(slug, request?.Reason, Actor.From(http.User), ct);
}
