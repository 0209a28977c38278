using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Reviews;

public sealed record ApprovalView(string InteractionId, string System, string State, DateTimeOffset HeldAt, string? DecidedBy, DateTimeOffset? DecidedAt, string? Reason)
{
    internal static ApprovalView Of(ApprovalRow a) => new(a.InteractionId, a.System, a.State, a.HeldAt, a.DecidedBy, a.DecidedAt, a.Reason);
}

/// <summary>The body of a release or a rejection: why (required to reject).</summary>
public sealed record ReasonBody(string? Reason);

/// <summary>
/// Answers held in approval mode: a reviewer of the system (a member of one of its review groups),
/// its owner or an admin releases or rejects each; the app then fetches it from the gateway.
/// The decisions go through <see cref="ReviewService"/>, the list through <see cref="ApprovalQueries"/>.
/// </summary>
public static class ApprovalEndpoints
{
    public static void MapApprovals(this IEndpointRouteBuilder api)
    {
        var approvals = api.MapGroup("/approvals").WithTags("Reviews");
        approvals.MapGet("/", (string? system, string? state, HttpContext http, ApprovalQueries queries, CancellationToken ct) =>
                queries.ListAsync(system, state, Actor.From(http.User), ct))
            .RequirePermission(Permission.Review).WithSummary("Held answers of the systems you review, oldest first (filter by system and state)");
        approvals.MapPost("/{id}/release", (string id, ReasonBody? body, HttpContext http, ReviewService reviews, CancellationToken ct) => DecideAsync(id, ApprovalState.Released, body?.Reason, http, reviews, ct))
            .RequirePermission(Permission.Review).WithSummary("Release a held answer to the app that asked (never by the person who asked: four eyes)");
        approvals.MapPost("/{id}/reject", (string id, ReasonBody? body, HttpContext http, ReviewService reviews, CancellationToken ct) => DecideAsync(id, ApprovalState.Rejected, body?.Reason, http, reviews, ct))
            .RequirePermission(Permission.Review).WithSummary("Reject a held answer (a reason is required)");
    }

    // One path for every decision on a held answer: the review service records it as a review too
    // (when the interaction is on record), so the queue, the roll-ups and the audit trail agree.
    private static Task<ApprovalView> DecideAsync(string id, ApprovalState state, string? reason, HttpContext http, ReviewService reviews, CancellationToken ct) =>
        reviews.DecideApprovalAsync(id, state, reason, EvidencePoster.From(Actor.From(http.User)), ct);
}

/// <summary>What reviewers read of the held answers.</summary>
public sealed class ApprovalQueries(PilotageStore store, PolicyCache policy)
{
    /// <summary>The held answers (pending unless <paramref name="state"/> says otherwise) of the systems the person reviews; admins see all.</summary>
    public async Task<IReadOnlyList<ApprovalView>> ListAsync(string? system, string? state, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.Approvals.AsNoTracking().AsQueryable();
        if (!string.IsNullOrEmpty(system)) query = query.Where(a => a.System == system);
        var who = actor.Person;
        if (who.Role != Role.Admin)
        {
            // The held answers of the systems the caller reviews, as in the review queue.
            var mine = policy.Current.Systems.Values.Where(s => SystemAccess.MayReview(who, s.State.Spec)).Select(s => s.State.Slug).ToList();
            query = query.Where(a => mine.Contains(a.System));
        }
        query = query.Where(a => a.State == (state ?? ApprovalStates.Pending));
        var rows = await query.OrderBy(a => a.InteractionId).Take(500).ToListAsync(ct);
        return rows.Select(ApprovalView.Of).ToList();
    }
}
