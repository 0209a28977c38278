using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// Ownership that survives people leaving: the owner (or an admin) proposes a new owner, and ownership
/// moves only when that person accepts. A system whose owner is deactivated is orphaned until then.
/// </summary>
public sealed class OwnershipCommands(ControlPlane control, PilotageStore store)
{
    /// <summary>Proposes a new owner (the current owner or an admin); ownership moves when they accept.</summary>
    public Task<OwnershipView> ProposeAsync(string slug, HandoverRequest? request, Actor actor, CancellationToken ct)
    {
        var to = request?.To?.Trim();
        if (string.IsNullOrEmpty(to)) throw Problems.BadRequest($"name the new owner: {{\"to\":\"person@example.org\",\"reason\":\"…\"}} (pilotage handover {slug} --to EMAIL)");
        var reason = request!.Reason?.Trim();
        if (reason is { Length: > 4000 }) throw Problems.BadRequest("the reason is longer than 4000 characters");
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await FindAsync(command, slug, ct);
            if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{slug}' is owned by {system.Owner}; only its owner or an admin may hand it over");
            }
            if (string.Equals(system.Owner, to, StringComparison.OrdinalIgnoreCase)) throw Problems.Conflict($"{to} already owns '{slug}'");
            var lower = to.ToLowerInvariant();
            var user = await command.Db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Email == lower || u.Email == to, ct)
                ?? throw Problems.NotFound($"no user {to}; add them first (pilotage users add {to} --role owner)");
            if (!user.Active) throw Problems.Conflict($"{user.Email} is deactivated; hand '{slug}' to an active person");
            if (user.Role is not ("owner" or "admin"))
            {
                throw Problems.Conflict($"{user.Email} has the role {user.Role}; a system's owner needs the owner (or admin) role: pilotage users update {user.Email} --role owner, or ask an admin");
            }
            system.PendingOwner = user.Email;
            system.HandoverRequestedBy = actor.Email;
            system.HandoverRequestedAt = command.Now;
            system.HandoverReason = reason;
            var view = await ViewAsync(command.Db, system, ct);
            command.Audit("system.handover_requested", $"system:{slug}", null, JsonSerializer.Serialize(view, ChangesJsonContext.Default.OwnershipView));
            return view;
        }, ct);
    }

    /// <summary>Accepts a proposed handover: only the proposed owner may.</summary>
    public Task<OwnershipView> AcceptAsync(string slug, Actor actor, CancellationToken ct)
    {
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await FindAsync(command, slug, ct);
            if (system.PendingOwner is null) throw Problems.Conflict($"nobody has been proposed as the new owner of '{slug}'; its owner or an admin proposes one with 'pilotage handover {slug} --to EMAIL'");
            if (!string.Equals(system.PendingOwner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{slug}' is being handed over to {system.PendingOwner}; only they can accept it (an admin cannot accept on their behalf)");
            }
            var before = new JsonObject { ["owner"] = system.Owner };
            var spec = SpecCanonicalJson.Deserialize(system.SpecJson) with { Owner = system.PendingOwner };
            system.Owner = system.PendingOwner;
            system.SpecJson = SpecCanonicalJson.Serialize(spec);
            system.SpecHash = SpecCanonicalJson.Hash(spec);
            system.UpdatedAt = command.Now;
            var after = new JsonObject
            {
                ["owner"] = system.Owner, ["requestedBy"] = system.HandoverRequestedBy, ["reason"] = system.HandoverReason,
            };
            system.PendingOwner = null;
            system.HandoverRequestedBy = null;
            system.HandoverRequestedAt = null;
            system.HandoverReason = null;
            command.Audit("system.handover_accepted", $"system:{slug}", before.ToJsonString(), after.ToJsonString());
            return await ViewAsync(command.Db, system, ct);
        }, ct);
    }

    /// <summary>Cancels a proposed handover (the owner, an admin) or declines it (the proposed owner).</summary>
    public Task<OwnershipView> CancelAsync(string slug, Actor actor, CancellationToken ct)
    {
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await FindAsync(command, slug, ct);
            if (system.PendingOwner is null) throw Problems.Conflict($"no handover of '{slug}' is pending");
            var declining = string.Equals(system.PendingOwner, actor.Email, StringComparison.OrdinalIgnoreCase);
            if (!declining && actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"only the owner of '{slug}', an admin or the proposed owner {system.PendingOwner} may cancel its handover");
            }
            var before = JsonSerializer.Serialize(await ViewAsync(command.Db, system, ct), ChangesJsonContext.Default.OwnershipView);
            system.PendingOwner = null;
            system.HandoverRequestedBy = null;
            system.HandoverRequestedAt = null;
            system.HandoverReason = null;
            command.Audit(declining ? "system.handover_declined" : "system.handover_cancelled", $"system:{slug}", before, null);
            return await ViewAsync(command.Db, system, ct);
        }, ct);
    }

    private static async Task<AiSystemRow> FindAsync(CommandContext command, string slug, CancellationToken ct) =>
        await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
        ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");

    /// <summary>Who owns the system, whether it is orphaned and any pending handover.</summary>
    public async Task<OwnershipView> ReadAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        return await ViewAsync(db, system, ct);
    }

    private static async Task<OwnershipView> ViewAsync(PilotageDbContext db, AiSystemRow system, CancellationToken ct)
    {
        var owner = system.Owner;
        var lower = owner.ToLowerInvariant();
        var orphaned = await db.Users.AsNoTracking().AnyAsync(u => !u.Active && (u.Email == owner || u.Email == lower), ct);
        return new OwnershipView(system.Slug, system.Owner, orphaned, system.PendingOwner, system.HandoverRequestedBy, system.HandoverRequestedAt, system.HandoverReason);
    }
}
