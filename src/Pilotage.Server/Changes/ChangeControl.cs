using System.Text.Json;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// When a spec change is a change request rather than an immediate update (design.md, "System spec"):
/// a change to <c>config</c>, <c>upstream</c> or <c>changeControl</c> of a system in rollout or
/// production (or paused / restricted from there). Everything else in the same apply takes effect at once.
/// </summary>
public static class ChangeControl
{
    private static readonly string[] ControlledPaths = ["spec.config", "spec.upstream", "spec.changeControl"];

    /// <summary>Past its pilot: serving real users beyond the pilot group, or suspended from doing so.</summary>
    public static bool IsPastPilot(AiSystemRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return IsServingPhase(row.Phase)
            || (row.Phase is nameof(LifecyclePhase.Paused) or nameof(LifecyclePhase.Restricted) && row.SuspendedPhase is { } suspended && IsServingPhase(suspended));
    }

    private static bool IsServingPhase(string phase) => phase is nameof(LifecyclePhase.Rollout) or nameof(LifecyclePhase.Production);

    /// <summary>The changes that need a change request; the gate itself is controlled so a change cannot switch off its own check.</summary>
    public static IReadOnlyList<SpecChange> Controlled(IReadOnlyList<SpecChange> changes) =>
        changes.Where(c => ControlledPaths.Any(p => c.Path.StartsWith(p, StringComparison.Ordinal)
            && (c.Path.Length == p.Length || c.Path[p.Length] is '.' or '['))).ToList();

    /// <summary>The live spec with the controlled sections of <paramref name="candidate"/>: what applying a change request puts in force.</summary>
    public static SystemSpec WithControlled(SystemSpec live, SystemSpec candidate) =>
        live with { Config = candidate.Config, Upstream = candidate.Upstream, ChangeControl = candidate.ChangeControl };

    /// <summary>Lowercase SHA-256 of the controlled sections only: two requests for the same configuration are the same request.</summary>
    public static string ControlledHash(SystemSpec spec) => SpecCanonicalJson.Hash(new SystemSpec
    {
        Name = spec.Name, Owner = "", Purpose = "", Upstream = spec.Upstream, Config = spec.Config, ChangeControl = spec.ChangeControl,
    });

    /// <summary>
    /// Called by apply inside its command: records a change request for the controlled part of
    /// <paramref name="candidate"/> (or returns the open one asking for the same configuration).
    /// </summary>
    internal static async Task<ChangeRequestRow> RequestAsync(CommandContext command, AiSystemRow row, SystemSpec candidate, IReadOnlyList<SpecChange> controlled, CancellationToken ct)
    {
        var hash = ControlledHash(candidate);
        string open = ChangeStatus.Open.Name(), approved = ChangeStatus.Approved.Name();
        var pending = command.Db.ChangeRequests.Local.FirstOrDefault(c => c.System == row.Slug && c.SpecHash == hash && ChangeStatuses.IsPending(c.Status))
            ?? await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstOrDefaultAsync(
                command.Db.ChangeRequests.Where(c => c.System == row.Slug && c.SpecHash == hash && (c.Status == open || c.Status == approved) && c.BaseVersion == row.ConfigVersion), ct);
        if (pending is not null) return pending;
        var request = new ChangeRequestRow
        {
            System = row.Slug,
            Status = open,
            RequestedBy = command.Actor,
            RequestedAt = command.Now,
            BaseVersion = row.ConfigVersion,
            SpecJson = SpecCanonicalJson.Serialize(candidate),
            SpecHash = hash,
            Diff = JsonSerializer.Serialize(controlled.Select(c => new SpecChangeView(c.Path, c.Before, c.After)).ToList(), ChangesJsonContext.Default.ListSpecChangeView),
        };
        command.Db.ChangeRequests.Add(request);
        await command.Db.SaveChangesAsync(ct); // the id is part of the audit entry and the answer
        command.Audit("change.requested", $"system:{row.Slug}", null, JsonSerializer.Serialize(ChangeRequestView.From(request, row.Risk), ChangesJsonContext.Default.ChangeRequestView));
        return request;
    }
}
