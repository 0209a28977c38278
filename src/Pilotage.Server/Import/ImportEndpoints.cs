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

/// <summary>
/// What an import did: data rows in the file, rows newly recorded, rows already recorded (by an earlier import, or
/// earlier in the same file), rows refused, and why each refused row was (at most 1000 entries, in file order).
/// </summary>
public sealed record ImportResponse(string System, int Rows, int Imported, int AlreadyPresent, int Rejected, IReadOnlyList<ImportError> Errors, string FileSha256);

/// <summary>
/// <c>POST /api/v1/systems/{slug}/import</c>: evidence gathered outside the gateway, as CSV (docs/import.md).
/// Every row is checked — its encoding, shape, values and the data boundary — and a refused row is named with
/// its line, column and reason while the good rows are recorded, in slices of one transaction each with their
/// roll-ups, and one audit entry. <c>?atomic=true</c> records nothing unless every row is good. Row ids are derived
/// from the rows, so importing a file again (after fixing its refused rows) records only what is not there yet.
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
            .WithSummary("Import evidence from a CSV file sent as the body, Content-Type text/csv (prompt, answer, outcome, final_text, review_seconds, rating, category, timestamp, user); good rows are recorded and every refused row is named (?atomic=true: all or nothing); idempotent");
    }

    private static async Task<ImportResponse> ImportAsync(string slug, HttpContext http, PilotageStore store, ControlPlane control, TimeProvider time, CancellationToken ct, bool atomic = false)
    {
        var actor = Actor.From(http.User);
        // Who may import is settled before the body is read: a refusal does not wait for 25 MB.
        await using (var db = store.CreateDbContext())
        {
            EnsureOwner(await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct), slug, actor);
        }
        var (buffer, length) = await ReadBodyAsync(http, ct);
        var file = EvidenceCsv.ReadRows(buffer.AsSpan(0, length), time.GetUtcNow());
        if (file.Unreadable || (atomic && !file.IsValid)) throw Refused("Invalid import file", $"{file.Errors.Count} problem(s) found", file.Errors);
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
        if (atomic)
        {
            // All or nothing: every row passes the boundary before the first is written.
            file = EvidenceFileBoundary.Apply(file, policy);
            if (!file.IsValid)
            {
                throw Refused("Data boundary", $"{file.Errors.Count} row value(s) hold data the data boundary of '{slug}' blocks", file.Errors);
            }
        }
        var importer = new EvidenceImporter(system!, atomic || policy.IsEmpty ? null : policy);
        var (imported, alreadyPresent) = file.Records.Count == 0 ? (0, 0) : await ImportPipeline.RunAsync(store, importer, file.Records, ct);
        var rejected = file.Rejected + importer.RefusedRows;
        var errors = Merge(file.Errors, importer.Refused);
        if (imported + alreadyPresent == 0)
        {
            var title = file.Rejected == 0 ? "Data boundary" : "Invalid import file";
            throw Refused(title, $"all {rejected} row(s) were refused", errors);
        }
        var response = new ImportResponse(slug, imported + alreadyPresent + rejected, imported, alreadyPresent, rejected, errors, file.Sha256);
        await control.ExecuteAsync(actor.Email, command =>
        {
            // The counts, not the refused rows' messages: the answer has those, the audit trail says what happened.
            command.Audit("evidence.imported", $"system:{slug}", null, JsonSerializer.Serialize(response with { Errors = [] }, ImportApiJsonContext.Default.ImportResponse));
            return Task.FromResult(true);
        }, ct);
        return response;
    }

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
