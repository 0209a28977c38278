using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Reviews;

public sealed record ApprovalView(string InteractionId, string System, string State, DateTimeOffset HeldAt, string? DecidedBy, DateTimeOffset? DecidedAt, string? Reason);

/// <summary>
/// Answers held in approval mode: a reviewer of the system (a member of one of its review groups),
/// its owner or an admin releases or rejects each; the app then fetches it from the gateway.
/// </summary>
public static class ApprovalEndpoints
{
    public static void MapApprovals(this IEndpointRouteBuilder api)
    {
        var approvals = api.MapGroup("/approvals").WithTags("Reviews");
        approvals.MapGet("/", ListAsync).RequirePermission(Permission.Review).WithSummary("Held answers, oldest first (filter by system and state)");
        approvals.MapPost("/{id}/release", (string id, ReasonBody? body, HttpContext http, ControlPlane control, CancellationToken ct) => DecideAsync(id, "released", body?.Reason, http, control, ct))
            .RequirePermission(Permission.Review).WithSummary("Release a held answer to the app that asked");
        approvals.MapPost("/{id}/reject", (string id, ReasonBody? body, HttpContext http, ControlPlane control, CancellationToken ct) => DecideAsync(id, "rejected", body?.Reason, http, control, ct))
            .RequirePermission(Permission.Review).WithSummary("Reject a held answer (a reason is required)");
    }

    public sealed record ReasonBody(string? Reason);

    private static async Task<IReadOnlyList<ApprovalView>> ListAsync(string? system, string? state, PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.Approvals.AsNoTracking().AsQueryable();
        if (!string.IsNullOrEmpty(system)) query = query.Where(a => a.System == system);
        query = query.Where(a => a.State == (state ?? "pending"));
        var rows = await query.OrderBy(a => a.InteractionId).Take(500).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    private static async Task<ApprovalView> DecideAsync(string id, string state, string? reason, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        if (state == "rejected" && string.IsNullOrWhiteSpace(reason)) throw Problems.BadRequest("a rejection needs a reason: the app and the evidence report show it");
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var approval = await command.Db.Approvals.SingleOrDefaultAsync(a => a.InteractionId == id, ct)
                ?? throw Problems.NotFound($"no held answer '{id}'");
            var system = await command.Db.Systems.AsNoTracking().SingleAsync(s => s.Slug == approval.System, ct);
            var spec = SpecCanonicalJson.Deserialize(system.SpecJson);
            var allowed = actor.Role == Role.Admin
                || (actor.Role == Role.Owner && string.Equals(spec.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
                || (actor.Role == Role.Reviewer && spec.Review.Reviewers.Any(actor.Groups.Contains));
            if (!allowed)
            {
                throw Problems.Forbidden($"only reviewers of '{spec.Name}' (groups: {string.Join(", ", spec.Review.Reviewers)}), its owner or an admin may decide its held answers");
            }
            if (approval.State != "pending") throw Problems.Conflict($"'{id}' was already {approval.State} by {approval.DecidedBy}");
            approval.State = state;
            approval.DecidedBy = actor.Email;
            approval.DecidedAt = command.Now;
            approval.Reason = reason?.Trim();
            var view = ToView(approval);
            command.Audit($"approval.{state}", $"interaction:{id}", null, JsonSerializer.Serialize(view, ApiJsonContext.Default.ApprovalView));
            return view;
        }, ct);
    }

    private static ApprovalView ToView(ApprovalRow a) => new(a.InteractionId, a.System, a.State, a.HeldAt, a.DecidedBy, a.DecidedAt, a.Reason);
}
