using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>Legal holds: while one is in place, none of the system's content is purged.</summary>
public sealed class LegalHoldCommands(ControlPlane control)
{
    /// <summary>Places a legal hold (auditor or admin): no content of the system is purged until it is released.</summary>
    public Task<LegalHoldView> PlaceAsync(string slug, string? requestReason, Actor actor, CancellationToken ct)
    {
        var reason = string.IsNullOrWhiteSpace(requestReason)
            ? throw Problems.BadRequest($"a legal hold needs a reason (the matter it preserves evidence for): pilotage hold {slug} --reason \"…\"")
            : requestReason.Trim();
        if (reason.Length > 4000) throw Problems.BadRequest("the reason is longer than 4000 characters");
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            if (system.LegalHoldAt is not null) throw Problems.Conflict($"'{slug}' is already under legal hold by {system.LegalHoldBy}: {system.LegalHoldReason}");
            system.LegalHoldBy = actor.Email;
            system.LegalHoldAt = command.Now;
            system.LegalHoldReason = reason;
            var view = new LegalHoldView(slug, true, actor.Email, command.Now, reason);
            command.Audit("system.legal_hold_placed", $"system:{slug}", null, JsonSerializer.Serialize(view, ChangesJsonContext.Default.LegalHoldView));
            return view;
        }, ct);
    }

    /// <summary>Releases a legal hold (auditor or admin); purging resumes.</summary>
    public Task<LegalHoldView> ReleaseAsync(string slug, string? reason, Actor actor, CancellationToken ct)
    {
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            if (system.LegalHoldAt is null) throw Problems.Conflict($"'{slug}' is not under legal hold");
            var before = JsonSerializer.Serialize(new LegalHoldView(slug, true, system.LegalHoldBy, system.LegalHoldAt, system.LegalHoldReason), ChangesJsonContext.Default.LegalHoldView);
            system.LegalHoldBy = null;
            system.LegalHoldAt = null;
            system.LegalHoldReason = null;
            var view = new LegalHoldView(slug, false, actor.Email, command.Now, reason?.Trim());
            command.Audit("system.legal_hold_released", $"system:{slug}", before, JsonSerializer.Serialize(view, ChangesJsonContext.Default.LegalHoldView));
            return view;
        }, ct);
    }
}

/// <summary>Which systems are under legal hold, for the pages that show it.</summary>
public sealed class LegalHoldQueries(PilotageStore store)
{
    /// <summary>The slugs of the systems under legal hold.</summary>
    public async Task<IReadOnlySet<string>> HeldAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return (await db.Systems.AsNoTracking().Where(s => s.LegalHoldAt != null).Select(s => s.Slug).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The system's hold: who placed it, when and why; <c>Held</c> false when there is none.</summary>
    public async Task<LegalHoldView> HoldAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        return new LegalHoldView(slug, row.LegalHoldAt is not null, row.LegalHoldBy, row.LegalHoldAt, row.LegalHoldReason);
    }
}
