using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Import;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Evidence gathered outside the gateway, as CSV (docs/import.md). The whole file is validated first — every error
/// with its row and column, nothing written unless every row is valid — then recorded with its roll-ups and one audit
/// entry. Row ids are derived from the rows, so importing the same file again changes nothing.
/// </summary>
public sealed class ImportCommands(PilotageStore store, ControlPlane control, TimeProvider time)
{
    /// <summary>Rows per transaction: short enough that other writers wait well under a second.</summary>
    private const int SliceRows = 10_000;

    /// <summary>Refuses (404, 403) unless the system exists and the person owns it or is an admin.</summary>
    public async Task EnsureMayImportAsync(string slug, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        EnsureOwner(await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct), slug, actor);
    }

    /// <summary>Validates and records the CSV file <paramref name="file"/> as evidence of <paramref name="slug"/>.</summary>
    public async Task<ImportResponse> ImportAsync(string slug, ReadOnlyMemory<byte> file, Actor actor, CancellationToken ct)
    {
        var read = EvidenceCsv.Read(file.Span, time.GetUtcNow());
        if (!read.IsValid)
        {
            var count = read.Errors.Count;
            throw new CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Invalid import file",
                $"{count} problem(s) found; nothing was imported. {string.Join("; ", read.Errors.Take(3))}{(count > 3 ? "; …" : "")}",
                new Dictionary<string, object?> { ["errors"] = read.Errors.ToList() });
        }
        // Valid as a whole, the file is written in slices, each its own transaction, outside the
        // control-plane lock: a 25 MB import must not hold up a pause (SQLite has one writer at a time).
        // A failure part-way leaves a prefix imported; importing the same file again completes it,
        // because row ids are deterministic.
        AiSystemRow? system;
        await using (var db = store.CreateDbContext())
        {
            system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct);
        }
        EnsureOwner(system, slug, actor);
        // The evidence store never holds what the boundary forbids: blocked rows refuse the file, the rest is stored redacted.
        read = EvidenceFileBoundary.Apply(read, Evidence.EvidenceBoundary.PolicyOf(system));
        if (!read.IsValid)
        {
            var count = read.Errors.Count;
            throw new CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Data boundary",
                $"{count} row value(s) hold data the data boundary of '{slug}' blocks; nothing was imported. {string.Join("; ", read.Errors.Take(3))}{(count > 3 ? "; …" : "")}",
                new Dictionary<string, object?> { ["errors"] = read.Errors.ToList() });
        }
        var imported = 0;
        var alreadyPresent = 0;
        foreach (var slice in read.Records.Chunk(SliceRows))
        {
            await using var db = store.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var (added, present) = await EvidenceImporter.WriteAsync(db, system!, slice, ct);
            await transaction.CommitAsync(ct);
            imported += added;
            alreadyPresent += present;
        }
        var response = new ImportResponse(slug, read.Records.Count, imported, alreadyPresent, read.Sha256);
        await control.ExecuteAsync(actor.Email, command =>
        {
            command.Audit("evidence.imported", $"system:{slug}", null, JsonSerializer.Serialize(response, ImportApiJsonContext.Default.ImportResponse));
            return Task.FromResult(true);
        }, ct);
        return response;
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
