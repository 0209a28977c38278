using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

public sealed record PurgeRequest(int? OlderThanDays);
public sealed record HoldRequest(string? Reason);

/// <summary>What one purge blanked: raw content only; hashes, figures, review outcomes and roll-ups stay.</summary>
public sealed record PurgeView(string System, DateTimeOffset Cutoff, int OlderThanDays, int Interactions, int Reviews, int Approvals, int Feedback, string PurgedBy, DateTimeOffset PurgedAt);

public sealed record LegalHoldView(string System, bool Held, string? By, DateTimeOffset? At, string? Reason);

/// <summary>
/// Retention of raw content per system (<c>spec.evidence.contentDays</c>): prompts, answers, edited
/// texts, held answers and feedback comments older than N days are blanked, keeping hashes, figures
/// and review outcomes. Every purge is one audit entry with its counts; a legal hold stops purging.
/// </summary>
public sealed class RetentionPurger(ControlPlane control, TimeProvider time, ILogger<RetentionPurger> logger) : BackgroundService
{
    /// <summary>How often systems with a retention period are purged in the background.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    private const int Batch = 500;

    /// <summary>What a purged held answer becomes: still JSON, so fetching a released answer says what happened instead of failing.</summary>
    internal const string PurgedAnswer = "{\"object\":\"pilotage.purged\",\"detail\":\"the answer was purged under the system's retention period (spec.evidence.contentDays); its hash and figures are kept\"}";

    /// <summary>Purges one system in one command. Throws 409 when it is under legal hold, 400 when no period is known.</summary>
    public Task<PurgeView?> PurgeAsync(string slug, int? olderThanDays, Actor? actor, bool auditEmpty, CancellationToken ct) =>
        control.ExecuteAsync(actor?.Email ?? "pilotage (retention)", async command =>
        {
            var system = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            if (actor is not null && actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{slug}' is owned by {system.Owner}; only its owner or an admin may purge its content");
            }
            if (system.LegalHoldAt is { } heldAt)
            {
                throw Problems.Conflict($"'{slug}' is under legal hold since {heldAt.UtcDateTime:yyyy-MM-dd HH:mm} UTC by {system.LegalHoldBy}: {system.LegalHoldReason}; nothing is purged until an auditor or admin releases it (pilotage hold {slug} --release)");
            }
            var days = olderThanDays ?? SpecCanonicalJson.Deserialize(system.SpecJson).Evidence.ContentDays
                ?? throw Problems.BadRequest($"'{slug}' has no retention period: set spec.evidence.contentDays, or say how old content must be (pilotage purge {slug} --older-than DAYS)");
            if (days < 1) throw Problems.BadRequest("olderThanDays must be 1 or more");
            var cutoff = command.Now - TimeSpan.FromDays(days);
            var view = await BlankAsync(command.Db, slug, cutoff, days, command.Actor, command.Now, ct);
            if (auditEmpty || view.Interactions + view.Reviews + view.Approvals + view.Feedback > 0)
            {
                command.Audit("evidence.purged", $"system:{slug}", null, JsonSerializer.Serialize(view, ChangesJsonContext.Default.PurgeView));
                return view;
            }
            return null;
        }, ct);

    /// <summary>
    /// Times are compared in memory: SQLite cannot compare DateTimeOffset in SQL. Only rows that still
    /// hold content are read, so after the first purge each run reads just the new ones.
    /// </summary>
    private static async Task<PurgeView> BlankAsync(PilotageDbContext db, string slug, DateTimeOffset cutoff, int days, string actor, DateTimeOffset now, CancellationToken ct)
    {
        var interactionIds = (await db.Interactions.AsNoTracking()
                .Where(i => i.System == slug && (i.RequestContent != null || i.ResponseContent != null))
                .Select(i => new { i.Id, i.CreatedAt }).ToListAsync(ct))
            .Where(i => i.CreatedAt < cutoff).Select(i => i.Id).ToList();
        var interactions = 0;
        foreach (var chunk in interactionIds.Chunk(Batch))
        {
            interactions += await db.Interactions.Where(i => chunk.Contains(i.Id))
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.RequestContent, (string?)null).SetProperty(i => i.ResponseContent, (string?)null), ct);
        }
        var reviewIds = (await db.Reviews.AsNoTracking().Where(r => r.System == slug && r.FinalText != null)
                .Select(r => new { r.InteractionId, r.ReviewedAt }).ToListAsync(ct))
            .Where(r => r.ReviewedAt < cutoff).Select(r => r.InteractionId).ToList();
        var reviews = 0;
        foreach (var chunk in reviewIds.Chunk(Batch))
        {
            reviews += await db.Reviews.Where(r => chunk.Contains(r.InteractionId)).ExecuteUpdateAsync(u => u.SetProperty(r => r.FinalText, (string?)null), ct);
        }
        // Held answers are kept until decided whatever the retention; decided ones are content like any other.
        var approvalIds = (await db.Approvals.AsNoTracking().Where(a => a.System == slug && a.State != ApprovalStates.Pending && a.HeldResponse != PurgedAnswer)
                .Select(a => new { a.InteractionId, a.HeldAt }).ToListAsync(ct))
            .Where(a => a.HeldAt < cutoff).Select(a => a.InteractionId).ToList();
        var approvals = 0;
        foreach (var chunk in approvalIds.Chunk(Batch))
        {
            approvals += await db.Approvals.Where(a => chunk.Contains(a.InteractionId)).ExecuteUpdateAsync(u => u.SetProperty(a => a.HeldResponse, PurgedAnswer), ct);
        }
        var feedbackKeys = (await db.Feedback.AsNoTracking().Where(f => f.System == slug && f.Comment != null)
                .Select(f => new { f.InteractionId, f.At }).ToListAsync(ct))
            .Where(f => f.At < cutoff).Select(f => f.InteractionId).Distinct().ToList();
        var feedback = 0;
        foreach (var chunk in feedbackKeys.Chunk(Batch))
        {
            feedback += await db.Feedback.Where(f => chunk.Contains(f.InteractionId) && f.Comment != null).ExecuteUpdateAsync(u => u.SetProperty(f => f.Comment, (string?)null), ct);
        }
        return new PurgeView(slug, cutoff, days, interactions, reviews, approvals, feedback, actor, now);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The first purge waits one interval: start-up (migrations, bootstrap) is not the moment.
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PurgeDueAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Retention purge failed; trying again in {Interval}", Interval);
            }
        }
    }

    /// <summary>Every system with a retention period and no legal hold; a purge that blanks nothing writes no audit entry.</summary>
    public async Task PurgeDueAsync(CancellationToken ct)
    {
        List<(string Slug, string Spec)> systems;
        await using (var db = control.Store.CreateDbContext())
        {
            systems = (await db.Systems.AsNoTracking().Where(s => s.LegalHoldAt == null).Select(s => new { s.Slug, s.SpecJson }).ToListAsync(ct))
                .Select(s => (s.Slug, s.SpecJson)).ToList();
        }
        foreach (var (slug, spec) in systems)
        {
            if (SpecCanonicalJson.Deserialize(spec).Evidence.ContentDays is null) continue;
            try
            {
                await PurgeAsync(slug, null, null, auditEmpty: false, ct);
            }
            catch (CommandRefusedException e)
            {
                logger.LogInformation("Retention purge of {System} skipped: {Reason}", slug, e.Message);
            }
        }
    }
}

