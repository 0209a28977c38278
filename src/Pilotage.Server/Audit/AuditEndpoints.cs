using System.Text.Json;
using System.Text.Json.Serialization;
using Pilotage.Core.Access;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

public sealed record AuditEntryView(long Sequence, DateTimeOffset At, string Actor, string Action, string Subject, string? Before, string? After, string PreviousHash, string Hash)
{
    internal static AuditEntryView Of(AuditEntryRow r) => new(r.Sequence, r.At, r.Actor, r.Action, r.Subject, r.Before, r.After, r.PreviousHash, r.Hash);
}

/// <summary>A signed checkpoint the caller kept, to verify the log against.</summary>
public sealed record VerifyAgainstRequest(string? Checkpoint);

/// <summary>The log's public key, in the signed-note verifier key format.</summary>
public sealed record AuditPublicKeyView(string PublicKey, string Origin);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(CheckpointView))]
[JsonSerializable(typeof(AuditInclusionProof))]
[JsonSerializable(typeof(VerifyAgainstRequest))]
[JsonSerializable(typeof(AuditPublicKeyView))]
[JsonSerializable(typeof(ProofCheck))]
public sealed partial class AuditJsonContext : JsonSerializerContext;

/// <summary>The audit routes: each binds the request, calls <see cref="AuditQueries"/> (or the checkpointer, to sign one now), and answers.</summary>
public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequirePermission(Permission.AuditRead);
        audit.MapGet("/", (AuditQueries queries, long? after, int? limit, string? subject, CancellationToken ct) => queries.ListAsync(after, limit, subject, ct))
            .WithSummary("Audit entries in order, a page at a time");
        audit.MapGet("/verify", (AuditTrail trail, CancellationToken ct) => trail.VerifyAsync(ct))
            .WithSummary("Walk the hash chain, rebuild the Merkle tree and compare it with the signed checkpoints in the witness file and the store");
        audit.MapPost("/verify", (VerifyAgainstRequest? request, AuditQueries queries, CancellationToken ct) => queries.VerifyAgainstAsync(request?.Checkpoint, ct))
            .WithSummary("As GET /verify, and against a signed checkpoint the caller kept: its signature first, then that the log extends it");
        audit.MapGet("/export", ExportAsync).WithSummary("Every entry as JSON Lines");
        audit.MapPost("/checkpoints", (AuditCheckpointer checkpointer, CancellationToken ct) => checkpointer.CheckpointNowAsync(ct))
            .WithSummary("A signed checkpoint covering every entry now (also written to the witness)");
        audit.MapGet("/checkpoints/latest", async (AuditQueries queries, CancellationToken ct) =>
                Results.Json(await queries.LatestCheckpointAsync(ct), AuditJsonContext.Default.CheckpointView))
            .WithSummary("The latest signed checkpoint (one is signed now when there is none yet)");
        audit.MapGet("/proofs/{sequence:long}", async (long sequence, AuditQueries queries, CancellationToken ct) =>
                Results.Json(await queries.ProveAsync(sequence, ct), AuditJsonContext.Default.AuditInclusionProof))
            .WithSummary("An inclusion proof of one entry against the latest signed checkpoint, checkable offline with the public key");
        audit.MapGet("/public-key", (AuditQueries queries) => queries.PublicKey())
            .WithSummary("The key checkpoints are signed with (signed-note verifier key format)");
    }

    private static async Task ExportAsync(HttpContext http, AuditQueries queries, CancellationToken ct)
    {
        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"pilotage-audit.jsonl\"";
        await foreach (var view in queries.ExportAsync(ct))
        {
            await JsonSerializer.SerializeAsync(http.Response.Body, view, AuditApiJsonContext.Default.AuditEntryView, ct);
            await http.Response.Body.WriteAsync("\n"u8.ToArray(), ct);
        }
    }
}
