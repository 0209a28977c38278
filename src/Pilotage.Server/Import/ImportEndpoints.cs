using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Import;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>What an import did: rows in the file, rows newly recorded, rows already recorded by an earlier import.</summary>
public sealed record ImportResponse(string System, int Rows, int Imported, int AlreadyPresent, string FileSha256);

/// <summary>
/// <c>POST /api/v1/systems/{slug}/import</c>: evidence gathered outside the gateway, as CSV
/// (docs/import.md). The whole file is validated first — every error with its row and column, nothing
/// written unless every row is valid — then recorded in one transaction with its roll-ups and audit
/// entry. Row ids are derived from the rows, so importing the same file again changes nothing.
/// </summary>
public static class ImportEndpoints
{
    /// <summary>The request limit: a little above the file limit, so a file just over it gets the file-size error rather than a cut connection.</summary>
    public const long MaxRequestBytes = 26L * 1024 * 1024;

    public static void MapEvidenceImport(this IEndpointRouteBuilder api)
    {
        api.MapPost("/systems/{slug}/import", ImportAsync)
            .RequirePermission(Permission.SystemsOperate)
            // No Accepts("text/csv") metadata: routing would then answer 415 without a word to a curl
            // --data-binary (form content type); the handler reads any body and explains what it refuses.
            .WithTags("Evidence")
            .WithSummary("Import evidence from a CSV file sent as the body, Content-Type text/csv (prompt, answer, outcome, final_text, review_seconds, rating, category, timestamp, user); all or nothing, idempotent");
    }

    private static async Task<ImportResponse> ImportAsync(string slug, HttpContext http, PilotageStore store, ControlPlane control, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        // Who may import is settled before the body is read: a refusal does not wait for 25 MB.
        await using (var db = store.CreateDbContext())
        {
            EnsureOwner(await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct), slug, actor);
        }
        var (buffer, length) = await ReadBodyAsync(http, ct);
        var file = EvidenceCsv.Read(buffer.AsSpan(0, length), time.GetUtcNow());
        if (!file.IsValid)
        {
            var count = file.Errors.Count;
            throw new CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Invalid import file",
                $"{count} problem(s) found; nothing was imported. {string.Join("; ", file.Errors.Take(3))}{(count > 3 ? "; …" : "")}",
                new Dictionary<string, object?> { ["errors"] = file.Errors.ToList() });
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
        file = EvidenceFileBoundary.Apply(file, Evidence.EvidenceBoundary.PolicyOf(system));
        if (!file.IsValid)
        {
            var count = file.Errors.Count;
            throw new CommandRefusedException(StatusCodes.Status422UnprocessableEntity, "Data boundary",
                $"{count} row value(s) hold data the data boundary of '{slug}' blocks; nothing was imported. {string.Join("; ", file.Errors.Take(3))}{(count > 3 ? "; …" : "")}",
                new Dictionary<string, object?> { ["errors"] = file.Errors.ToList() });
        }
        var imported = 0;
        var alreadyPresent = 0;
        foreach (var slice in file.Records.Chunk(SliceRows))
        {
            await using var db = store.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var (added, present) = await EvidenceImporter.WriteAsync(db, system!, slice, ct);
            await transaction.CommitAsync(ct);
            imported += added;
            alreadyPresent += present;
        }
        var response = new ImportResponse(slug, file.Records.Count, imported, alreadyPresent, file.Sha256);
        await control.ExecuteAsync(actor.Email, command =>
        {
            command.Audit("evidence.imported", $"system:{slug}", null, JsonSerializer.Serialize(response, ImportApiJsonContext.Default.ImportResponse));
            return Task.FromResult(true);
        }, ct);
        return response;
    }

    /// <summary>Rows per transaction: short enough that other writers wait well under a second.</summary>
    private const int SliceRows = 10_000;

    private static void EnsureOwner(AiSystemRow? system, string slug, Actor actor)
    {
        if (system is null) throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{slug}' is owned by {system.Owner}; only its owner or an admin may import evidence into it");
        }
    }

    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpContext http, CancellationToken ct)
    {
        var type = http.Request.ContentType ?? "";
        if (type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) || type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new CommandRefusedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                "send the CSV file itself as the body with Content-Type: text/csv, e.g. curl --data-binary @evidence.csv -H 'Content-Type: text/csv' …");
        }
        if (http.Request.ContentLength is { } declared && declared > MaxRequestBytes) throw TooLarge(declared);
        // The server-wide limit is smaller; this endpoint takes files up to 25 MB.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxRequestBytes;
        var buffer = new byte[Math.Min(http.Request.ContentLength ?? 64 * 1024, MaxRequestBytes) + 1];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > MaxRequestBytes) throw TooLarge(null);
                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, MaxRequestBytes + 1));
                }
                var read = await http.Request.Body.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0) break;
                length += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(null);
        }
        if (length > MaxRequestBytes) throw TooLarge(null);
        return (buffer, length);
    }

    private static CommandRefusedException TooLarge(long? bytes) =>
        new(StatusCodes.Status413PayloadTooLarge, "File too large", bytes is { } size
            ? EvidenceCsv.TooLarge(size) + "; nothing was imported"
            : string.Create(CultureInfo.InvariantCulture, $"file is larger than {MaxRequestBytes / 1024 / 1024} MB; split it into files of at most {EvidenceCsv.MaxFileBytes / 1024 / 1024} MB; nothing was imported"));
}
