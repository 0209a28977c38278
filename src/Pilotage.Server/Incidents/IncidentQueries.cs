
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Incidents;
using Pilotage.Server.Access;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;
using static Pilotage.Server.Incidents.IncidentRules;

namespace Pilotage.Server.Incidents;

/// <summary>The incidents a person may see, and the systems they may file against.</summary>
public sealed class IncidentQueries(PilotageStore store, SystemScope scope, PolicyCache policy)
{
    /// <summary>The incidents a person may see, newest first.</summary>
    public async Task<IReadOnlyList<IncidentView>> ListAsync(string? system, string? status, string? kind, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.Incidents.AsNoTracking().AsQueryable();
        if (!string.IsNullOrWhiteSpace(system)) query = query.Where(i => i.System == system.Trim());
        if (!string.IsNullOrWhiteSpace(status))
        {
            var name = Parse<IncidentStatus>(status, "status").ToName();
            query = query.Where(i => i.Status == name);
        }
        if (!string.IsNullOrWhiteSpace(kind))
        {
            var name = Parse<IncidentKind>(kind, "kind").ToName();
            query = query.Where(i => i.Kind == name);
        }
        // Everyone sees what they filed and what they were asked to work on; the roles that read incidents
        // see those of the systems they may read (admins and auditors: every system).
        var readable = actor.Can(Permission.IncidentsReadAll) ? scope.Restriction(actor.Person)?.ToList() : [];
        if (readable is not null)
        {
            query = query.Where(i => i.ReportedBy == actor.Email || i.AssignedTo == actor.Email || readable.Contains(i.System));
        }
        var rows = await query.OrderByDescending(i => i.Id).Take(MaxListed).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    /// <summary>One incident the person may see; one they may not answers like one that does not exist.</summary>
    public async Task<IncidentView> GetAsync(long id, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Incidents.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
        // One the caller may not see answers like one that does not exist.
        if (row is null || !Visible(row, actor, scope.MayRead(actor.Person, row.System))) throw NotFound(id);
        return ToView(row);
    }

    /// <summary>The systems the person may file against (the commands refuse the others), by slug.</summary>
    public IReadOnlyList<string> SystemsToFileAgainst(Actor actor) =>
        policy.Current.Systems.Values
            .Where(s => SystemAccess.MayFileIncident(actor.Person, s.State.Spec, s.State.Lifecycle))
            .Select(s => s.State.Slug).Order(StringComparer.Ordinal).ToList();
}
