using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Pilotage.Core.Access;
using Pilotage.Core.Import;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// What an import did: data rows in the file, rows newly recorded, rows already recorded (by an earlier import, or
/// earlier in the same file), rows refused, and why each refused row was (at most 1000 entries, in file order).
/// </summary>
public sealed record ImportResponse(string System, int Rows, int Imported, int AlreadyPresent, int Rejected, IReadOnlyList<ImportError> Errors, string FileSha256);

/// <summary>
/// <c>POST /api/v1/systems/{slug}/import</c>: evidence gathered outside the gateway, as CSV (docs/import.md).
/// The route reads the body within its limits and hands it to <see cref="ImportCommands"/>: good rows are recorded,
/// every refused row is named, and <c>?atomic=true</c> records nothing unless every row is good.
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

    // Who may import is settled before the body is read: a refusal does not wait for 25 MB.
    private static async Task<ImportResponse> ImportAsync(string slug, HttpContext http, ImportCommands imports, CancellationToken ct, bool atomic = false)
    {
        var actor = Actor.From(http.User);
        await imports.EnsureMayImportAsync(slug, actor, ct);
        var (buffer, length) = await ReadBodyAsync(http, ct);
        return await imports.ImportAsync(slug, buffer.AsMemory(0, length), atomic, actor, ct);
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
