using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>Change requests as the API and the dashboard list them, and key metrics per config version.</summary>
public sealed class ChangeRequestQueries(PilotageStore store, SystemScope scope, SystemMetrics metrics)
{
    /// <summary>The figures that tell two configurations apart: quality, failures, speed, cost, satisfaction, tests.</summary>
    public static readonly IReadOnlyList<string> KeyMetrics =
        ["acceptance_rate", "edit_rate", "rejection_rate", "escalation_rate", "rework", "error_rate", "blocked_rate", "latency_p95", "cost_per_task", "feedback_mean", "pass_rate"];


    /// <summary>Change requests, newest first; <paramref name="system"/> and <paramref name="status"/> narrow the list.</summary>
    /// <param name="readable">The systems the caller may read; null for every system.</param>
    public async Task<IReadOnlyList<ChangeRequestView>> ListAsync(string? system, string? status, IReadOnlySet<string>? readable, CancellationToken ct)
    {
        if (status is not null && ChangeStatuses.Parse(status) is null) throw Problems.BadRequest($"status must be one of {string.Join(", ", ChangeStatuses.All.Select(s => s.Name()))}");
        await using var db = store.CreateDbContext();
        var query = db.ChangeRequests.AsNoTracking();
        if (!string.IsNullOrEmpty(system)) query = query.Where(c => c.System == system);
        if (status is not null) query = query.Where(c => c.Status == status);
        if (readable is not null)
        {
            var mine = readable.ToList();
            query = query.Where(c => mine.Contains(c.System));
        }
        var rows = await query.OrderByDescending(c => c.Id).Take(200).ToListAsync(ct);
        var slugs = rows.Select(r => r.System).Distinct().ToList();
        var risks = await db.Systems.AsNoTracking().Where(s => slugs.Contains(s.Slug)).ToDictionaryAsync(s => s.Slug, s => s.Risk, ct);
        return rows.Select(r => ChangeRequestView.From(r, risks.GetValueOrDefault(r.System, "unknown"))).ToList();
    }

    /// <summary>One change request the person may see; one they may not answers like one that does not exist.</summary>
    public async Task<ChangeRequestView> GetAsync(long id, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.ChangeRequests.AsNoTracking().SingleOrDefaultAsync(c => c.Id == id, ct);
        if (row is null || !scope.MayRead(actor.Person, row.System)) throw ChangeRequestCommands.NotFound(id);
        var risk = await db.Systems.AsNoTracking().Where(s => s.Slug == row.System).Select(s => s.Risk).SingleOrDefaultAsync(ct);
        return ChangeRequestView.From(row, risk ?? "unknown");
    }

    /// <summary>Key metrics per config version: the API's answer and the dashboard's table.</summary>
    public async Task<IReadOnlyList<VersionMetricsView>> ByVersionAsync(string slug, CancellationToken ct)
    {
        List<ConfigVersionRow> versions;
        int current;
        await using (var db = store.CreateDbContext())
        {
            var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            current = system.ConfigVersion;
            versions = await db.ConfigVersions.AsNoTracking().Where(v => v.SystemId == system.Id).OrderBy(v => v.Version).ToListAsync(ct);
        }
        var views = new List<VersionMetricsView>();
        foreach (var version in versions)
        {
            var computed = await metrics.ComputeAsync(slug, new MetricFilter(ConfigVersion: version.Version), ct);
            var key = KeyMetrics.Where(computed.Metrics.ContainsKey).ToDictionary(m => m, m => computed.Metrics[m], StringComparer.Ordinal);
            views.Add(new VersionMetricsView(version.Version, version.Version == current, version.CreatedAt, version.CreatedBy, key));
        }
        return views;
    }
}
