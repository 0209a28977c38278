using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Changes;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>
/// A manual rollback is the same operation as the rollback pause-rule action: the earlier configuration is put in
/// force as a new version, audited, and the gateway serves it from the next request.
/// </summary>
public sealed class ConfigVersionCommands(ControlPlane control)
{
    /// <summary>Puts an earlier configuration version back in force as a new version (a reason is required); the system's owner or an admin.</summary>
    public async Task<RollbackView> RollbackAsync(string slug, RollbackRequest? request, Actor actor, CancellationToken ct)
    {
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
