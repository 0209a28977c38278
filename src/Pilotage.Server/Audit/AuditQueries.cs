using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>What the API reads of the audit log: entries, verification, signed checkpoints and inclusion proofs.</summary>
public sealed class AuditQueries(AuditTrail trail, AuditCheckpointer checkpointer, AuditLogKey key, PilotageStore store)
{
    /// <summary>Entries after sequence <paramref name="after"/>, in order, at most <paramref name="limit"/> (1–1000, default 100).</summary>
    public async Task<IReadOnlyList<AuditEntryView>> ListAsync(long? after, int? limit, string? subject, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? 100, 1, 1000);
        var rows = await trail.ListAsync(after ?? 0, take, subject, ct);
        return rows.Select(AuditEntryView.Of).ToList();
    }

    /// <summary>Every entry in order, as the export streams it.</summary>
    public async IAsyncEnumerable<AuditEntryView> ExportAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in trail.ExportAsync(ct)) yield return AuditEntryView.Of(row);
    }

    /// <summary>The whole log, and against the signed checkpoint the caller kept: its signature first, then that the log extends it.</summary>
    public Task<AuditVerification> VerifyAgainstAsync(string? checkpoint, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(checkpoint))
        {
            throw Problems.BadRequest("send {\"checkpoint\": \"<signed checkpoint text>\"}, as 'pilotage audit checkpoint' wrote it; GET /api/v1/audit/verify checks without one");
        }
        if (checkpoint.Length > 64 * 1024) throw Problems.BadRequest("a checkpoint is a few lines; this one is over 64 KiB");
        return trail.VerifyAsync(checkpoint.ReplaceLineEndings("\n"), ct);
    }

    /// <summary>The latest signed checkpoint; one is signed now when there is none yet.</summary>
    public async Task<CheckpointView> LatestCheckpointAsync(CancellationToken ct) =>
        await checkpointer.LatestAsync(ct) ?? await checkpointer.CheckpointNowAsync(ct);

    /// <summary>The key checkpoints are signed with, in the signed-note verifier key format.</summary>
    public AuditPublicKeyView PublicKey() => new(key.Verifier.Encode(), key.Verifier.Name);

    /// <summary>An inclusion proof of entry <paramref name="sequence"/> against the latest signed checkpoint (a newer one is signed when it does not cover the entry).</summary>
    public async Task<AuditInclusionProof> ProveAsync(long sequence, CancellationToken ct)
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
        return proof;
    }
}
