using System.Text.Json;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

public sealed record AuditEntryView(long Sequence, DateTimeOffset At, string Actor, string Action, string Subject, string? Before, string? After, string PreviousHash, string Hash);

public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequirePermission(Permission.AuditRead);
        audit.MapGet("/", ListAsync).WithSummary("Audit entries in order, a page at a time");
        audit.MapGet("/verify", (AuditTrail trail, CancellationToken ct) => trail.VerifyAsync(ct))
            .WithSummary("Walk the hash chain and name the first bad entry, if any");
        audit.MapGet("/export", ExportAsync).WithSummary("Every entry as JSON Lines");
    }

    private static async Task<IReadOnlyList<AuditEntryView>> ListAsync(AuditTrail trail, long? after, int? limit, string? subject, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 100, 1, 1000);
        var rows = await trail.ListAsync(after ?? 0, take, subject, ct);
        return rows.Select(ToView).ToList();
    }

    private static async Task ExportAsync(HttpContext http, AuditTrail trail, CancellationToken ct)
    {
        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"pilotage-audit.jsonl\"";
        await foreach (var row in trail.ExportAsync(ct))
        {
            await JsonSerializer.SerializeAsync(http.Response.Body, ToView(row), ApiJsonContext.Default.AuditEntryView, ct);
            await http.Response.Body.WriteAsync("\n"u8.ToArray(), ct);
        }
    }

    public static AuditEntryView ToView(AuditEntryRow r) => new(r.Sequence, r.At, r.Actor, r.Action, r.Subject, r.Before, r.After, r.PreviousHash, r.Hash);
}
