using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Reviews;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// A system the signed-in person may use now: its current scope includes one of their groups (or
/// everyone). <paramref name="Refusal"/> is what the gateway would answer them instead of serving, if
/// anything (training missing, paused, pilot expired).
/// </summary>
/// <param name="Model">What to put in the <c>model</c> field of a request: the system's name.</param>
/// <param name="Scope">Where the system stands for them: "pilot", "rollout stage 1 (team-a)", "production".</param>
/// <param name="TrainingAcknowledgedAt">When they acknowledged the current training text; null when not (or not required).</param>
public sealed record UsableSystem(
    string Model, string Title, string Purpose, string Owner, string Scope, ServingMode Mode,
    bool TrainingRequired, DateTimeOffset? TrainingAcknowledgedAt, string? Refusal)
{
    public bool Serving => Refusal is null;

    public string ModeName => SpecEnum.ToName(Mode);

    /// <summary>What the mode means for the person using it.</summary>
    public string ModeMeaning => Mode switch
    {
        ServingMode.Full => "you get the answer",
        ServingMode.Draft => "the answer is a draft: a person reviews it before it is used",
        ServingMode.Approval => "the answer is held until a reviewer releases it; fetch it later with GET /v1/interactions/{id}",
        ServingMode.ReadOnly => "tools that change things are removed from your requests",
        _ => "your request is recorded for evaluation, and you continue with the manual process",
    };
}

/// <summary>One of the person's own interactions, with the review of it if there is one.</summary>
/// <param name="Outcome">served, refused, held, failed or shadowed.</param>
/// <param name="Held">For answers held in approval mode: pending, released or rejected.</param>
public sealed record OwnInteraction(
    string Id, DateTimeOffset At, string System, string Outcome, string Mode, string? RefusalCode, string? RefusalReason,
    string? Prompt, string? Held, OwnReview? Review);

/// <param name="Outcome">accepted, edited, rejected or escalated.</param>
public sealed record OwnReview(string Outcome, string Reviewer, DateTimeOffset At, string? Reason, string? FinalText);

/// <summary>Everything "Your page" shows: only the signed-in person's own data.</summary>
public sealed record YourPageData(IReadOnlyList<string> Groups, IReadOnlyList<UsableSystem> Systems, IReadOnlyList<OwnInteraction> Interactions, int InteractionLimit);

/// <summary>
/// Reads "Your page" for the signed-in person: the systems their groups may use now (from the policy
/// snapshot, exactly as the gateway decides), and their own most recent interactions with their reviews.
/// Every query is keyed by the person's own user id; nobody else's records are read.
/// </summary>
public sealed class YourPage(PilotageStore store, PolicyCache policy, TimeProvider time)
{
    public const string Path = "/dashboard/me";

    /// <summary>How many of the person's most recent interactions the page lists.</summary>
    public const int RecentInteractions = 20;

    public async Task<YourPageData> ReadAsync(Actor me, CancellationToken ct)
    {
        var snapshot = policy.Current;
        var now = time.GetUtcNow();
        // The snapshot's person (groups as the gateway sees them now), falling back to the session's claims.
        var person = snapshot.Keys.TryGetValue(me.KeyId, out var key) ? key.User : null;
        var groups = person?.Groups ?? (IReadOnlySet<string>)me.Groups.ToHashSet(StringComparer.Ordinal);

        await using var db = store.CreateDbContext();
        var acknowledged = await db.TrainingAcknowledgements.AsNoTracking().Where(t => t.UserId == me.UserId)
            .ToDictionaryAsync(t => t.SystemId, t => t.AcknowledgedAt, ct);
        var systems = new List<UsableSystem>();
        foreach (var system in snapshot.Systems.Values.OrderBy(s => s.State.Slug, StringComparer.Ordinal))
        {
            var state = system.State;
            var scope = ServingPolicy.ScopeOf(state.Spec, state.Lifecycle);
            if (scope is null || (!scope.Everyone && !scope.Groups.Any(groups.Contains))) continue;
            var trained = snapshot.HasTraining(me.UserId, state.Id);
            var decision = ServingPolicy.Decide(state, new Caller(me.UserId, me.Email, groups, trained), now);
            var spec = state.Spec;
            systems.Add(new UsableSystem(state.Slug, string.IsNullOrWhiteSpace(spec.Title) ? state.Slug : spec.Title, spec.Purpose, spec.Owner,
                (decision.Scope ?? scope).Label, (decision.Scope ?? scope).Mode, spec.Training.Required,
                trained && acknowledged.TryGetValue(state.Id, out var at) ? at : null, decision.Refusal?.Message));
        }

        // Newest first through the (user_id, id) index: ids start with their time. On PostgreSQL that index leaves out
        // user 0 (no Pilotage user; Storage/RawSchema.cs), so the query states it never asks for user 0.
        var rows = await db.Interactions.AsNoTracking().Where(i => i.UserId == me.UserId && i.UserId != 0)
            .OrderByDescending(i => i.Id).Take(RecentInteractions)
            .Select(i => new { i.Id, i.CreatedAt, i.System, i.Outcome, i.Mode, i.RefusalCode, i.RefusalReason, i.Endpoint, i.RequestContent })
            .ToListAsync(ct);
        var ids = rows.Select(r => r.Id).ToList();
        var reviews = await db.Reviews.AsNoTracking().Where(r => ids.Contains(r.InteractionId)).ToDictionaryAsync(r => r.InteractionId, ct);
        var held = await db.Approvals.AsNoTracking().Where(a => ids.Contains(a.InteractionId)).ToDictionaryAsync(a => a.InteractionId, a => a.State, ct);
        var interactions = rows.Select(r => new OwnInteraction(
            r.Id, r.CreatedAt, r.System, r.Outcome, r.Mode, r.RefusalCode, r.RefusalReason,
            Snippet(ContentText.Prompt(r.RequestContent, r.Endpoint == InteractionEndpointNames.Manual)),
            held.GetValueOrDefault(r.Id),
            reviews.TryGetValue(r.Id, out var review) ? new OwnReview(review.Outcome, review.Reviewer, review.ReviewedAt, review.Reason, review.FinalText) : null)).ToList();
        return new YourPageData(groups.Order(StringComparer.Ordinal).ToList(), systems, interactions, RecentInteractions);
    }

    private static string? Snippet(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 140 ? line : line[..140] + "…";
    }
}
