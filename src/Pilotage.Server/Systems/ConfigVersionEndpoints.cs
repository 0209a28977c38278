using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Changes;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <param name="Current">Whether this version is the configuration in force.</param>
public sealed record ConfigVersionView(int Version, string Hash, DateTimeOffset CreatedAt, string CreatedBy, bool Current);

/// <param name="ToVersion">The version whose configuration to restore; by default the latest earlier version with a different configuration.</param>
public sealed record RollbackRequest(int? ToVersion, string? Reason);

/// <param name="RestoredFrom">The version whose configuration was restored.</param>
/// <param name="ConfigVersion">The new version number that now holds it (version numbers only grow).</param>
public sealed record RollbackView(string System, int RestoredFrom, int ConfigVersion, string Hash, string RolledBackBy, DateTimeOffset RolledBackAt, string Reason);

/// <summary>
/// The configuration history of a system (every versioned config + upstream) and a manual rollback
/// to one of them. A rollback is the same operation as the rollback pause-rule action: the earlier
/// configuration is put in force as a new version, audited, and the gateway serves it from the next request.
/// </summary>
public static class ConfigVersionEndpoints
{
    public static void MapConfigVersions(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Lifecycle");
        systems.MapGet("/{slug}/versions", ListAsync).RequirePermission(Permission.SystemsRead)
            .WithSummary("Every configuration version of a system, oldest first, with the one in force marked");
        systems.MapPost("/{slug}/rollback", RollbackAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Put an earlier configuration version back in force (a reason is required); it takes effect on the next gateway request");
    }

    private static Task<IReadOnlyList<ConfigVersionView>> ListAsync(string slug, SystemQueries systems, CancellationToken ct) =>
        systems.VersionsAsync(slug, ct);

    private static async Task<RollbackView> RollbackAsync(string slug, RollbackRequest? request, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        var reason = string.IsNullOrWhiteSpace(request?.Reason)
            ? throw Problems.BadRequest($"rolling back '{slug}' needs a reason: say why, it is kept in the audit trail")
            : request.Reason.Trim();
        if (reason.Length > 4000) throw Problems.BadRequest("the reason is longer than 4000 characters");
        if (request.ToVersion is < 1) throw Problems.BadRequest($"toVersion must be a version number (1 or more), not {request.ToVersion}");
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            if (actor.Role != Role.Admin && !string.Equals(row.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{slug}' is owned by {row.Owner}; only its owner or an admin may roll it back");
            }
            var versions = await command.Db.ConfigVersions.Where(v => v.SystemId == row.Id).OrderByDescending(v => v.Version).ToListAsync(ct);
            var current = versions.FirstOrDefault(v => v.Version == row.ConfigVersion);
            ConfigVersionRow target;
            if (request.ToVersion is { } wanted)
            {
                target = versions.FirstOrDefault(v => v.Version == wanted)
                    ?? throw Problems.NotFound($"'{slug}' has no configuration version {wanted}; 'pilotage versions {slug}' lists them");
                if (current is not null && (target.Version == current.Version || string.Equals(target.Hash, current.Hash, StringComparison.Ordinal)))
                {
                    throw Problems.Conflict(target.Version == current.Version
                        ? $"version {wanted} of '{slug}' is already in force"
                        : $"the configuration of version {wanted} is already in force on '{slug}' (as version {current.Version}); nothing to roll back");
                }
            }
            else
            {
                // The version before the current one, skipping any that hold the same configuration as the one in force.
                target = versions.FirstOrDefault(v => v.Version < row.ConfigVersion && !string.Equals(v.Hash, current?.Hash, StringComparison.Ordinal))
                    ?? throw Problems.Conflict($"'{slug}' has no earlier configuration than version {row.ConfigVersion} that differs from it; the configuration in force is already in force");
            }
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var number = ConfigVersions.Restore(command, row, spec, target, versions.Max(v => v.Version) + 1,
                $"{actor.Email} (rollback to version {target.Version})", reason);
            return new RollbackView(slug, target.Version, number, target.Hash, actor.Email, command.Now, reason);
        }, ct);
    }
}
