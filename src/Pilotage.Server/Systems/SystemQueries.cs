using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Specs;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>What the API and the dashboard read about one system: its spec, its decisions and configuration versions.</summary>
public sealed class SystemQueries(PilotageStore store)
{
    public async Task<bool> ExistsAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.Systems.AsNoTracking().AnyAsync(s => s.Slug == slug, ct);
    }

    /// <summary>The spec in force, as stored (canonical JSON read back).</summary>
    public async Task<SystemSpec> SpecAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var json = await db.Systems.AsNoTracking().Where(s => s.Slug == slug).Select(s => s.SpecJson).SingleOrDefaultAsync(ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        return SpecCanonicalJson.Deserialize(json);
    }

    /// <summary>The decisions recorded for a system, oldest first.</summary>
    public async Task<IReadOnlyList<DecisionView>> DecisionsAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct) ?? throw Problems.NotFound($"no system '{slug}'");
        var rows = await db.Decisions.AsNoTracking().Where(d => d.SystemId == system.Id).OrderBy(d => d.Id).ToListAsync(ct);
        return rows.Select(d => LifecycleCommands.ToView(slug, d)).ToList();
    }

    /// <summary>Every configuration version of a system, oldest first, with the one in force marked.</summary>
    public async Task<IReadOnlyList<ConfigVersionView>> VersionsAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        var versions = await db.ConfigVersions.AsNoTracking().Where(v => v.SystemId == system.Id).OrderBy(v => v.Version).ToListAsync(ct);
        return versions.Select(v => new ConfigVersionView(v.Version, v.Hash, v.CreatedAt, v.CreatedBy, v.Version == system.ConfigVersion)).ToList();
    }
}
