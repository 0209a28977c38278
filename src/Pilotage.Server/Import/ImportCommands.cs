using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Import;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Evidence gathered outside the gateway, as CSV (docs/import.md). Every row is checked — its encoding, shape,
/// values and the data boundary — and a refused row is named with its line, column and reason while the good rows
/// are recorded, in slices of one transaction each with their roll-ups, and one audit entry. Atomic imports record
/// nothing unless every row is good. Row ids are derived from the rows, so importing a file again (after fixing its
/// refused rows) records only what is not there yet.
/// </summary>
public sealed class ImportCommands(PilotageStore store, ControlPlane control, TimeProvider time)
{
    /// <summary>Refuses (404, 403) unless the system exists and the person owns it or is an admin.</summary>
    public async Task EnsureMayImportAsync(string slug, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        EnsureOwner(await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct), slug, actor);
    }

    /// <summary>Checks and records the CSV file <paramref name="file"/> as evidence of <paramref name="slug"/>.</summary>
    public async Task<ImportResponse> ImportAsync(string slug, ReadOnlyMemory<byte> file, bool atomic, Actor actor, CancellationToken ct)
    {
        var reader = EvidenceFileReader.Open(file.Span, time.GetUtcNow());
        if (reader.Unreadable) throw Unreadable(reader.ToFile([]));
        // An atomic import reads every row before it writes any; otherwise rows are written as they are read.
        var all = atomic ? reader.ToFile(reader.Rows().ToList()) : null;
        if (all is { IsValid: false }) throw Unreadable(all);
        // The file is written in slices, each its own transaction, outside the control-plane lock: a 25 MB
        // import must not hold up a pause (SQLite has one writer at a time). A failure part-way leaves whole
        // slices imported; importing the same file again completes it, because row ids are deterministic.
        AiSystemRow? system;
        await using (var db = store.CreateDbContext())
        {
            system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct);
        }
        EnsureOwner(system, slug, actor);
        // The evidence store never holds what the boundary forbids: a blocked row is refused, the rest is stored redacted.
        var policy = Evidence.EvidenceBoundary.PolicyOf(system);
        if (all is not null)
        {
            // All or nothing: every row passes the boundary before the first is written.
            all = EvidenceFileBoundary.Apply(all, policy);
            if (!all.IsValid)
            {
                throw Refused("Data boundary", $"{all.Errors.Count} row value(s) hold data the data boundary of '{slug}' blocks", all.Errors);
            }
        }
        using var importer = new EvidenceImporter(system!, all is not null || policy.IsEmpty ? null : policy);
        var (imported, alreadyPresent) = await ImportPipeline.RunAsync(store, importer, all?.Records ?? reader.Rows(), ct);
        var read = all ?? reader.ToFile([]);
        // A header and no rows: known once the rows are read, and nothing was written.
        if (read.Unreadable) throw Unreadable(read);
        var rejected = read.Rejected + importer.RefusedRows;
        var errors = Merge(read.Errors, importer.Refused);
        if (imported + alreadyPresent == 0)
        {
            var title = read.Rejected == 0 ? "Data boundary" : "Invalid import file";
            throw Refused(title, $"all {rejected} row(s) were refused", errors);
        }
        var response = new ImportResponse(slug, imported + alreadyPresent + rejected, imported, alreadyPresent, rejected, errors, read.Sha256);
        await control.ExecuteAsync(actor.Email, command =>
        {
            // The counts, not the refused rows' messages: the answer has those, the audit trail says what happened.
            command.Audit("evidence.imported", $"system:{slug}", null, JsonSerializer.Serialize(response with { Errors = [] }, ImportApiJsonContext.Default.ImportResponse));
            return Task.FromResult(true);
        }, ct);
        return response;
    }

    private static CommandRefusedException Unreadable(EvidenceFile read) => Refused("Invalid import file", $"{read.Errors.Count} problem(s) found", read.Errors);

    private static CommandRefusedException Refused(string title, string lead, IReadOnlyList<ImportError> errors) =>
        new(StatusCodes.Status422UnprocessableEntity, title,
            $"{lead}; nothing was imported. {string.Join("; ", errors.Take(3))}{(errors.Count > 3 ? "; …" : "")}",
            new Dictionary<string, object?> { ["errors"] = errors.ToList() });

    /// <summary>The reader's errors and the boundary's, in file order, at most <see cref="EvidenceCsv.MaxErrorsListed"/> and a last entry for the rest.</summary>
    private static List<ImportError> Merge(IReadOnlyList<ImportError> read, List<ImportError> boundary)
    {
        if (boundary.Count == 0) return [.. read];
        // The reader's own "… and N more" entry (row 0, no column) goes last.
        var located = read.Where(e => e.Row != 0).Concat(boundary).OrderBy(e => e.Row).ToList();
        var more = read.Where(e => e.Row == 0).ToList();
        if (located.Count <= EvidenceCsv.MaxErrorsListed) return [.. located, .. more];
        var left = located.Count - EvidenceCsv.MaxErrorsListed;
        return [.. located.Take(EvidenceCsv.MaxErrorsListed), new ImportError(0, null, $"… and {left} more error(s) not listed{(more.Count > 0 ? ", besides those counted above" : "")}; 'rejected' counts every refused row")];
    }

    private static void EnsureOwner(AiSystemRow? system, string slug, Actor actor)
    {
        if (system is null) throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{slug}' is owned by {system.Owner}; only its owner or an admin may import evidence into it");
        }
    }
}
