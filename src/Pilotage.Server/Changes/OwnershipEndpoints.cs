using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Changes;

public sealed record HandoverRequest(string? To, string? Reason);

/// <param name="Orphaned">The owner's account is deactivated.</param>
public sealed record OwnershipView(string System, string Owner, bool Orphaned, string? PendingOwner, string? RequestedBy, DateTimeOffset? RequestedAt, string? Reason);

/// <summary>The handover routes: each binds the request and calls <see cref="OwnershipCommands"/>.</summary>
public static class OwnershipEndpoints
{
    public static void MapOwnership(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Change control");
        systems.MapPost("/{slug}/handover", (string slug, HandoverRequest? request, HttpContext http, OwnershipCommands ownership, CancellationToken ct) =>
                ownership.ProposeAsync(slug, request, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Propose a new owner (the current owner or an admin); ownership moves when they accept");
        systems.MapPost("/{slug}/handover/accept", (string slug, HttpContext http, OwnershipCommands ownership, CancellationToken ct) =>
                ownership.AcceptAsync(slug, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Accept a proposed handover: only the proposed owner may");
        systems.MapDelete("/{slug}/handover", (string slug, HttpContext http, OwnershipCommands ownership, CancellationToken ct) =>
                ownership.CancelAsync(slug, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Cancel a proposed handover (the owner, an admin) or decline it (the proposed owner)");
    }
}
