using Pilotage.Core.Audit.Merkle;

namespace Pilotage.Core.Audit.Checkpoints;

/// <summary>An audit entry as a proof carries it: everything its canonical encoding covers, and its chain hash.</summary>
public sealed record ProvenEntry(long Sequence, DateTimeOffset At, string Actor, string Action, string Subject, string? Before, string? After, string PreviousHash, string Hash)
{
    public AuditRecord ToRecord() => new(Sequence, At, Actor, Action, Subject, Before, After, PreviousHash);
}

/// <summary>
/// What <c>pilotage audit prove</c> hands out: an entry, the signed checkpoint it is proven against, and the
/// RFC 9162 inclusion proof (hex SHA-256 hashes, deepest first). Checked offline with the public key alone.
/// </summary>
public sealed record AuditInclusionProof(ProvenEntry Entry, long LeafIndex, long TreeSize, IReadOnlyList<string> Proof, string Checkpoint);

public sealed record ProofCheck(bool Ok, string Detail, CheckpointVerdict? CheckpointVerdict = null);

/// <summary>Checks an inclusion proof with nothing but the log's public key: no store, no server.</summary>
public static class AuditProofVerifier
{
    /// <param name="checkpointNote">A checkpoint to check against instead of the one the proof carries (one kept by the reader).</param>
    public static ProofCheck Verify(AuditInclusionProof proof, NoteVerifier key, string? checkpointNote = null)
    {
        ArgumentNullException.ThrowIfNull(proof);
        ArgumentNullException.ThrowIfNull(key);
        var opened = OpenedCheckpoint.Open(checkpointNote ?? proof.Checkpoint, key);
        if (opened.Outcome != NoteOutcome.Verified)
        {
            var verdict = opened.Outcome == NoteOutcome.Malformed ? CheckpointVerdict.Malformed : CheckpointVerdict.BadSignature;
            var what = verdict == CheckpointVerdict.BadSignature ? "bad signature on the checkpoint" : "the checkpoint cannot be read";
            return new ProofCheck(false, $"{what}: {opened.Detail}", verdict);
        }
        var checkpoint = opened.Checkpoint!;
        if (checkpoint.TreeSize != proof.TreeSize)
        {
            return new ProofCheck(false, $"the proof is for a tree of {proof.TreeSize} entries but the checkpoint covers {checkpoint.TreeSize}: ask for a proof against this checkpoint");
        }
        if (proof.LeafIndex != proof.Entry.Sequence - 1)
        {
            return new ProofCheck(false, $"the proof is for leaf {proof.LeafIndex}, but entry {proof.Entry.Sequence} is leaf {proof.Entry.Sequence - 1}");
        }
        var record = proof.Entry.ToRecord();
        if (!string.Equals(AuditHasher.Compute(record), proof.Entry.Hash, StringComparison.Ordinal))
        {
            return new ProofCheck(false, $"entry {proof.Entry.Sequence}'s content does not match its hash: the entry was altered");
        }
        byte[][] path;
        try
        {
            path = [.. proof.Proof.Select(Convert.FromHexString)];
        }
        catch (FormatException)
        {
            return new ProofCheck(false, "the proof holds a hash that is not hexadecimal");
        }
        return MerkleProofs.VerifyInclusion(proof.LeafIndex, proof.TreeSize, AuditHasher.LeafHash(record), path, checkpoint.RootHash)
            ? new ProofCheck(true, $"entry {proof.Entry.Sequence} is in the log of {checkpoint.TreeSize} entries signed by {key.Name} (root {checkpoint.RootHex})")
            : new ProofCheck(false, $"the proof does not lead from entry {proof.Entry.Sequence} to the checkpoint's root: the entry or the proof was altered");
    }
}
