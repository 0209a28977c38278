using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Changes;

/// <summary>The change request routes: each binds the request and calls <see cref="ChangeRequestCommands"/> or <see cref="ChangeRequestQueries"/>.</summary>
public static class ChangeRequestEndpoints
{
    public static void MapChangeRequests(this IEndpointRouteBuilder api)
    {
        var changes = api.MapGroup("/changes").WithTags("Change control");
        changes.MapGet("/", (string? system, string? status, HttpContext http, SystemScope scope, ChangeRequestQueries queries, CancellationToken ct) =>
                queries.ListAsync(system, status, scope.Restriction(Actor.From(http.User).Person), ct))
            .RequirePermission(Permission.SystemsRead)
            .WithSummary("Change requests of the systems you may see, newest first; ?system= and ?status= (open, approved, rejected, applied, withdrawn) narrow the list");
        changes.MapGet("/{id:long}", (long id, HttpContext http, ChangeRequestQueries queries, CancellationToken ct) => queries.GetAsync(id, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsRead)
            .WithSummary("One change request with its diff and the last regression gate check");
        changes.MapPost("/{id:long}/approve", (long id, ChangeDecisionRequest? request, HttpContext http, ChangeRequestCommands commands, CancellationToken ct) =>
                commands.ApproveAsync(id, request?.Reason, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Approve a change request (owner or admin); for a high-risk system the approver must not be the requester");
        changes.MapPost("/{id:long}/reject", (long id, ChangeDecisionRequest? request, HttpContext http, ChangeRequestCommands commands, CancellationToken ct) =>
                commands.RejectAsync(id, request?.Reason, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Reject a change request (owner or admin); a reason is required");
        changes.MapPost("/{id:long}/withdraw", (long id, ChangeDecisionRequest? request, HttpContext http, ChangeRequestCommands commands, CancellationToken ct) =>
                commands.WithdrawAsync(id, request?.Reason, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Withdraw an open or approved change request (its requester, the owner or an admin)");
        changes.MapPost("/{id:long}/apply", ApplyAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Put an approved change request in force as a new config version, if the regression gate passes");
        api.MapGet("/systems/{slug}/changes", (string slug, string? status, ChangeRequestQueries queries, CancellationToken ct) => queries.ListAsync(slug, status, null, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Change control")
            .WithSummary("Change requests of one system, newest first");
        api.MapGet("/systems/{slug}/metrics/versions", (string slug, ChangeRequestQueries queries, CancellationToken ct) => queries.ByVersionAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Change control")
            .WithSummary("Key metrics per config version, side by side (evidence is kept per version)");
    }

    private static async Task<IResult> ApplyAsync(long id, ChangeDecisionRequest? request, HttpContext http, ChangeRequestCommands commands, CancellationToken ct)
    {
        var (view, refused) = await commands.ApplyAsync(id, request?.Reason, Actor.From(http.User), ct);
        if (!refused) return Results.Ok(view);
        var gateResult = view.Gate!;
        return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "Regression gate refused",
            detail: ChangeRequestCommands.GateRefusal(id, gateResult), extensions: new Dictionary<string, object?> { ["gate"] = gateResult });
    }
}
