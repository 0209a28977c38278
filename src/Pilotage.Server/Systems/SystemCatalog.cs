using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Changes;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>
/// Applies and compares system specs. Apply is all-or-nothing (every document validated first,
/// one transaction for all) and idempotent (an identical spec writes nothing, not even an audit entry).
/// </summary>
public sealed class SystemCatalog(PilotageStore store, ControlPlane control, TimeProvider time)
{
    /// <summary>The largest apply request: a few spec files of at most <see cref="SpecReader.MaxFileBytes"/> each.</summary>
    public const long MaxRequestBytes = 8 * 1024 * 1024;

    /// <param name="readable">The systems the caller may read; null for every system.</param>
    public async Task<IReadOnlyList<SystemSummary>> ListAsync(IReadOnlySet<string>? readable, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = (await db.Systems.AsNoTracking().OrderBy(s => s.Slug).ToListAsync(ct)).Where(r => readable is null || readable.Contains(r.Slug)).ToList();
        var deactivated = await DeactivatedAsync(db, ct);
        return rows.Select(r => Summarise(r, deactivated)).ToList();
    }

    public async Task<SystemDetail> GetAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        using var spec = JsonDocument.Parse(row.SpecJson);
        return new SystemDetail(Summarise(row, await DeactivatedAsync(db, ct)), row.Purpose, row.SpecHash, spec.RootElement.Clone());
    }

    /// <summary>E-mails of deactivated accounts: a system owned by one is orphaned.</summary>
    private static async Task<HashSet<string>> DeactivatedAsync(PilotageDbContext db, CancellationToken ct) =>
        (await db.Users.AsNoTracking().Where(u => !u.Active).Select(u => u.Email).ToListAsync(ct)).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads every document against today and the stored pilots (a relative end that did not change keeps
    /// its date; an end date in the past is refused unless <paramref name="allowPast"/>), or throws a 422
    /// problem listing every error in every document.
    /// </summary>
    public async Task<IReadOnlyList<SystemSpec>> ReadAsync(IReadOnlyList<SpecDocument> documents, bool allowPast, CancellationToken ct)
    {
        // A first pass finds the names, so only those systems' stored pilots are loaded for the real one.
        var names = documents.SelectMany(d => SpecReader.Read(d.Yaml ?? "", d.Source ?? "").Specs).Select(s => s.Name).Distinct().ToList();
        var stored = new Dictionary<string, PilotSpec>(StringComparer.Ordinal);
        if (names.Count > 0)
        {
            await using var db = store.CreateDbContext();
            foreach (var row in await db.Systems.AsNoTracking().Where(s => names.Contains(s.Slug)).Select(s => new { s.Slug, s.SpecJson }).ToListAsync(ct))
            {
                if (SpecCanonicalJson.Deserialize(row.SpecJson).Pilot is { } pilot) stored[row.Slug] = pilot;
            }
        }
        var options = new SpecReadOptions { Today = Today, RefusePastEnds = !allowPast, StoredPilots = stored };
        return Read(documents, options);
    }

    /// <summary>The UTC day apply resolves relative end dates against.</summary>
    private DateOnly Today => DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);

    /// <summary>Reads every document, or throws a 422 problem listing every error in every document.</summary>
    public static IReadOnlyList<SystemSpec> Read(IReadOnlyList<SpecDocument> documents, SpecReadOptions? options = null)
    {
        if (documents.Count == 0) throw Problems.BadRequest("no spec documents: send YAML (Content-Type: application/yaml) or {\"documents\":[{\"source\":\"file.yaml\",\"yaml\":\"...\"}]}");
        var specs = new List<SystemSpec>();
        var errors = new List<SpecError>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            var source = string.IsNullOrWhiteSpace(document.Source) ? "request" : document.Source;
            var result = SpecReader.Read(document.Yaml ?? "", source, options);
            errors.AddRange(result.Errors);
            foreach (var spec in result.Specs)
            {
                if (seen.TryGetValue(spec.Name, out var first))
                {
                    errors.Add(new SpecError(source, "metadata.name", $"system '{spec.Name}' is declared twice (first in {first}); each system must be declared once", 0, 0));
                    continue;
                }
                seen[spec.Name] = source;
                specs.Add(spec);
            }
        }
        if (errors.Count > 0)
        {
            throw new CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Invalid spec",
                $"{errors.Count} problem(s) found; nothing was applied. {string.Join("; ", errors.Take(3))}{(errors.Count > 3 ? "; …" : "")}",
                new Dictionary<string, object?> { ["errors"] = errors.Select(SpecErrorView.From).ToList() });
        }
        return specs;
    }

    public async Task<ApplyResponse> DiffAsync(IReadOnlyList<SystemSpec> specs, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var results = new List<ApplyResult>();
        foreach (var spec in specs)
        {
            var row = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == spec.Name, ct);
            CheckOwnership(actor, spec, row);
            if (row is null)
            {
                results.Add(new ApplyResult(spec.Name, "create", 1, Views(SpecDiff.Compare(null, spec))));
                continue;
            }
            var changes = SpecDiff.Compare(SpecCanonicalJson.Deserialize(row.SpecJson), spec);
            if (ChangeControl.IsPastPilot(row) && ChangeControl.Controlled(changes).Count > 0)
            {
                results.Add(new ApplyResult(spec.Name, "change_request", row.ConfigVersion, Views(changes)));
                continue;
            }
            var version = changes.Count > 0 && SpecDiff.TouchesChangeControl(changes) ? row.ConfigVersion + 1 : row.ConfigVersion;
            results.Add(new ApplyResult(spec.Name, changes.Count == 0 ? "none" : "update", version, Views(changes)));
        }
        return new ApplyResponse(results.Any(r => r.Action != "none"), results);
    }

    public Task<ApplyResponse> ApplyAsync(IReadOnlyList<SystemSpec> specs, Actor actor, CancellationToken ct) =>
        control.ExecuteAsync(actor.Email, async command =>
        {
            var results = new List<ApplyResult>();
            foreach (var requested in specs)
            {
                var spec = requested;
                var json = SpecCanonicalJson.Serialize(spec);
                var row = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == spec.Name, ct);
                CheckOwnership(actor, spec, row);
                if (row is null)
                {
                    row = NewRow(spec, json, command.Now);
                    command.Db.Systems.Add(row);
                    await command.Db.SaveChangesAsync(ct); // assigns the id the config version refers to
                    ConfigVersions.Add(command, row, spec);
                    command.Audit("system.created", $"system:{spec.Name}", null, json);
                    AuditPastPilot(command, spec, null);
                    results.Add(new ApplyResult(spec.Name, "created", row.ConfigVersion, Views(SpecDiff.Compare(null, spec))));
                    continue;
                }
                if (string.Equals(row.SpecJson, json, StringComparison.Ordinal))
                {
                    results.Add(new ApplyResult(spec.Name, "unchanged", row.ConfigVersion, []));
                    continue;
                }
                var changes = SpecDiff.Compare(SpecCanonicalJson.Deserialize(row.SpecJson), spec);
                var applying = changes;
                long? changeRequest = null;
                if (ChangeControl.IsPastPilot(row) && ChangeControl.Controlled(changes) is { Count: > 0 } controlled)
                {
                    // Past the pilot, config and upstream wait for approval; the rest of the spec applies now.
                    changeRequest = (await ChangeControl.RequestAsync(command, row, spec, controlled, ct)).Id;
                    spec = ChangeControl.WithControlled(spec, SpecCanonicalJson.Deserialize(row.SpecJson));
                    json = SpecCanonicalJson.Serialize(spec);
                    applying = SpecDiff.Compare(SpecCanonicalJson.Deserialize(row.SpecJson), spec);
                    if (string.Equals(row.SpecJson, json, StringComparison.Ordinal))
                    {
                        results.Add(new ApplyResult(spec.Name, "change_requested", row.ConfigVersion, Views(changes), changeRequest));
                        continue;
                    }
                }
                var before = row.SpecJson;
                row.SpecJson = json;
                row.SpecHash = SpecCanonicalJson.Hash(spec);
                row.Title = spec.Title ?? spec.Name;
                row.Owner = spec.Owner;
                row.Risk = spec.Risk.ToString().ToLowerInvariant();
                row.Purpose = spec.Purpose;
                row.UpdatedAt = command.Now;
                if (SpecDiff.TouchesChangeControl(applying))
                {
                    row.ConfigVersion++;
                    ConfigVersions.Add(command, row, spec);
                }
                command.Audit("system.updated", $"system:{spec.Name}", before, json);
                AuditPastPilot(command, spec, SpecCanonicalJson.Deserialize(before).Pilot);
                results.Add(new ApplyResult(spec.Name, changeRequest is null ? "updated" : "change_requested", row.ConfigVersion, Views(changes), changeRequest));
            }
            return new ApplyResponse(results.Any(r => r.Action != "unchanged"), results);
        }, ct);

    /// <summary>
    /// A pilot end date that had already passed when it was applied (only with --allow-past) is the record
    /// of a past pilot being imported: the audit trail says so in an entry of its own.
    /// </summary>
    private static void AuditPastPilot(CommandContext command, SystemSpec spec, PilotSpec? before)
    {
        var today = DateOnly.FromDateTime(command.Now.UtcDateTime);
        if (spec.Pilot is not { } pilot || pilot.Ends >= today || before?.Ends == pilot.Ends) return;
        command.Audit("system.past_pilot_imported", $"system:{spec.Name}", before is null ? null : PastPilotJson(before.Ends, today),
            PastPilotJson(pilot.Ends, today));
    }

    private static string PastPilotJson(DateOnly ends, DateOnly today) =>
        $$"""{"ends":"{{PilotEnd.Day(ends)}}","appliedOn":"{{PilotEnd.Day(today)}}","note":"a pilot that had already ended, applied with --allow-past: imported as a record, it never served after its end"}""";

    /// <summary>Owners may only apply specs of systems they own, and only name themselves as owner.</summary>
    private static void CheckOwnership(Actor actor, SystemSpec spec, AiSystemRow? existing)
    {
        if (actor.Role == Role.Admin) return;
        if (existing is not null && !string.Equals(existing.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"the name '{spec.Name}' belongs to a system you do not own; only its owner or an admin may change it, so choose another name for a new system");
        }
        if (!string.Equals(spec.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"the spec of '{spec.Name}' names {spec.Owner} as owner; as an owner you may only apply systems you own (spec.owner: {actor.Email}), or ask an admin");
        }
    }

    private static AiSystemRow NewRow(SystemSpec spec, string json, DateTimeOffset now) => new()
    {
        Slug = spec.Name,
        Title = spec.Title ?? spec.Name,
        Owner = spec.Owner,
        Risk = spec.Risk.ToString().ToLowerInvariant(),
        Purpose = spec.Purpose,
        Phase = LifecyclePhase.Proposed.ToString(),
        SpecJson = json,
        SpecHash = SpecCanonicalJson.Hash(spec),
        ConfigVersion = 1,
        CreatedAt = now,
        UpdatedAt = now,
    };

    private static SystemSummary Summarise(AiSystemRow row, HashSet<string> deactivated)
    {
        string? stageName = null;
        if (row.Phase == nameof(LifecyclePhase.Rollout))
        {
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            stageName = row.Stage < spec.Rollout.Count ? spec.Rollout[row.Stage].Name : null;
        }
        return new SystemSummary(row.Slug, row.Title, row.Owner, row.Risk, row.Phase.ToLowerInvariant(), row.Stage, stageName, row.ConfigVersion, row.CreatedAt, row.UpdatedAt,
            deactivated.Contains(row.Owner), row.PendingOwner);
    }

    private static List<SpecChangeView> Views(IReadOnlyList<SpecChange> changes) =>
        changes.Select(c => new SpecChangeView(c.Path, c.Before, c.After)).ToList();
}
