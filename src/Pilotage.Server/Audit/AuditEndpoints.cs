using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

public sealed record AuditEntryView(long Sequence, DateTimeOffset At, string Actor, string Action, string Subject, string? Before, string? After, string PreviousHash, string Hash);

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

public static class AuditEndpoints
{
    public static void MapAudit(this IEndpointRouteBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequirePermission(Permission.AuditRead);
        audit.MapGet("/", ListAsync).WithSummary("Audit entries in order, a page at a time");
        audit.MapGet("/verify", (AuditTrail trail, CancellationToken ct) => trail.VerifyAsync(ct))
            .WithSummary("Walk the hash chain, rebuild the Merkle tree and compare it with the signed checkpoints in the witness file and the store");
        audit.MapPost("/verify", VerifyAgainstAsync)
            .WithSummary("As GET /verify, and against a signed checkpoint the caller kept: its signature first, then that the log extends it");
        audit.MapGet("/export", ExportAsync).WithSummary("Every entry as JSON Lines");
        audit.MapPost("/checkpoints", (AuditCheckpointer checkpointer, CancellationToken ct) => checkpointer.CheckpointNowAsync(ct))
            .WithSummary("A signed checkpoint covering every entry now (also written to the witness)");
        audit.MapGet("/checkpoints/latest", LatestAsync).WithSummary("The latest signed checkpoint (one is signed now when there is none yet)");
        audit.MapGet("/proofs/{sequence:long}", ProveAsync).WithSummary("An inclusion proof of one entry against the latest signed checkpoint, checkable offline with the public key");
        audit.MapGet("/public-key", (AuditLogKey key) => new AuditPublicKeyView(key.Verifier.Encode(), key.Verifier.Name))
            .WithSummary("The key checkpoints are signed with (signed-note verifier key format)");
    }

    private static async Task<IReadOnlyList<AuditEntryView>> ListAsync(AuditTrail trail, long? after, int? limit, string? subject, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 100, 1, 1000);
        var rows = await trail.ListAsync(after ?? 0, take, subject, ct);
        return rows.Select(ToView).ToList();
    }

    private static Task<AuditVerification> VerifyAgainstAsync(VerifyAgainstRequest? request, AuditTrail trail, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.Checkpoint))
        {
            throw Problems.BadRequest("send {\"checkpoint\": \"<signed checkpoint text>\"}, as 'pilotage audit checkpoint' wrote it; GET /api/v1/audit/verify checks without one");
        }
        if (request.Checkpoint.Length > 64 * 1024) throw Problems.BadRequest("a checkpoint is a few lines; this one is over 64 KiB");
        return trail.VerifyAsync(request.Checkpoint.ReplaceLineEndings("\n"), ct);
    }

    private static async Task<IResult> LatestAsync(AuditCheckpointer checkpointer, CancellationToken ct) =>
        Results.Json(await checkpointer.LatestAsync(ct) ?? await checkpointer.CheckpointNowAsync(ct), AuditJsonContext.Default.CheckpointView);

    private static async Task<IResult> ProveAsync(long sequence, AuditCheckpointer checkpointer, AuditLogKey key, PilotageStore store, CancellationToken ct)
    {
        var checkpoint = await checkpointer.LatestAsync(ct);
        if (checkpoint is null || checkpoint.TreeSize < sequence) checkpoint = await checkpointer.CheckpointNowAsync(ct);
        if (sequence < 1 || sequence > checkpoint.TreeSize)
        {
            throw Problems.NotFound($"there is no audit entry {sequence}: the log holds entries 1 to {checkpoint.TreeSize}");
        }
        await using var db = store.CreateDbContext();
        var row = await db.AuditEntries.AsNoTracking().SingleOrDefaultAsync(a => a.Sequence == sequence, ct)
            ?? throw Problems.Conflict($"audit entry {sequence} is missing from the store though the checkpoint covers it: run 'pilotage audit verify'");
        var path = await AuditTree.ProveAsync(db, MerkleProofs.InclusionRanges(sequence - 1, checkpoint.TreeSize), ct);
        var proof = new AuditInclusionProof(
            new ProvenEntry(row.Sequence, row.At, row.Actor, row.Action, row.Subject, row.Before, row.After, row.PreviousHash, row.Hash),
            sequence - 1, checkpoint.TreeSize, [.. path.Select(Convert.ToHexStringLower)], checkpoint.Checkpoint);
        // A proof that does not check is not handed out as one: the store was changed under the tree.
        var check = AuditProofVerifier.Verify(proof, key.Verifier);
        if (!check.Ok) throw Problems.Conflict($"no valid proof of entry {sequence} can be built ({check.Detail}): run 'pilotage audit verify'");
        return Results.Json(proof, AuditJsonContext.Default.AuditInclusionProof);
    }

    private static async Task ExportAsync(HttpContext http, AuditTrail trail, CancellationToken ct)
    {
        http.Response.ContentType = "application/x-ndjson";
        http.Response.Headers.ContentDisposition = "attachment; filename=\"pilotage-audit.jsonl\"";
        await foreach (var row in trail.ExportAsync(ct))
        {
            await JsonSerializer.SerializeAsync(http.Response.Body, ToView(row), AuditApiJsonContext.Default.AuditEntryView, ct);
            await http.Response.Body.WriteAsync("\n"u8.ToArray(), ct);
        }
    }

    public static AuditEntryView ToView(AuditEntryRow r) => new(r.Sequence, r.At, r.Actor, r.Action, r.Subject, r.Before, r.After, r.PreviousHash, r.Hash);
}
