using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;

namespace Pilotage.Core.Tests.Audit;

public sealed class SignedNoteTests
{
    // The example of the signed-note format's reference implementation (golang.org/x/mod/sumdb/note): keys and
    // note must round-trip byte for byte, so other tools read Pilotage's checkpoints and keys.
    private const string GoSigner = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string GoVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    private const string GoText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    private const string GoNote = GoText + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    [Fact]
    public void Keys_and_signatures_match_the_reference_implementation()
    {
        using var signer = NoteSigner.Parse(GoSigner);
        Assert.Equal(GoVerifier, signer.Verifier.Encode());
        Assert.Equal(GoSigner, signer.Encode());
        Assert.Equal(GoNote, signer.Sign(GoText));
        var opened = SignedNote.Open(GoNote, NoteVerifier.Parse(GoVerifier));
        Assert.Equal(NoteOutcome.Verified, opened.Outcome);
        Assert.Equal(GoText, opened.Text);
    }

    [Fact]
    public void An_altered_text_is_a_bad_signature_and_another_key_is_not_ours()
    {
        var key = NoteVerifier.Parse(GoVerifier);
        Assert.Equal(NoteOutcome.BadSignature, SignedNote.Open(GoNote.Replace("cryptography", "cryptographY", StringComparison.Ordinal), key).Outcome);
        using var other = NoteSigner.Generate("PeterNeumann");
        Assert.Equal(NoteOutcome.NotSignedByKey, SignedNote.Open(other.Sign(GoText), key).Outcome);
        Assert.Equal(NoteOutcome.Malformed, SignedNote.Open(GoText, key).Outcome);
        Assert.Equal(NoteOutcome.Malformed, SignedNote.Open(GoText + "\nnot a signature\n", key).Outcome);
    }

    [Fact]
    public void A_checkpoint_round_trips_and_a_forged_one_is_refused()
    {
        using var signer = NoteSigner.Generate("pilotage-audit-test");
        var root = MerkleHash.Leaf("x"u8);
        var note = signer.Sign(new AuditCheckpoint(signer.Name, 42, root).Body());
        Assert.StartsWith($"pilotage-audit-test\n42\n{Convert.ToBase64String(root)}\n\n\u2014 pilotage-audit-test ", note, StringComparison.Ordinal);
        var opened = OpenedCheckpoint.Open(note, signer.Verifier);
        Assert.Equal(NoteOutcome.Verified, opened.Outcome);
        Assert.Equal(new AuditCheckpoint(signer.Name, 42, root), opened.Checkpoint);
        // A larger size under the old signature, and a checkpoint signed by a key that only shares the name.
        Assert.Equal(NoteOutcome.BadSignature, OpenedCheckpoint.Open(note.Replace("\n42\n", "\n43\n", StringComparison.Ordinal), signer.Verifier).Outcome);
        using var mallory = NoteSigner.Generate("pilotage-audit-test");
        Assert.Equal(NoteOutcome.NotSignedByKey, OpenedCheckpoint.Open(mallory.Sign(new AuditCheckpoint(signer.Name, 42, root).Body()), signer.Verifier).Outcome);
        Assert.Throws<FormatException>(() => AuditCheckpoint.Parse("origin\n042\nAAAA\n"));
        Assert.Throws<FormatException>(() => NoteVerifier.Parse(GoVerifier.Replace("c74f20a3", "c74f20a4", StringComparison.Ordinal)));
    }

    [Fact]
    public void An_inclusion_proof_verifies_offline_and_fails_when_the_entry_is_altered()
    {
        using var signer = NoteSigner.Generate("pilotage-audit-proof");
        var frontier = new MerkleFrontier();
        var nodes = new Dictionary<long, byte[]>();
        var entries = new List<ProvenEntry>();
        var previous = AuditHasher.Genesis;
        for (var i = 1; i <= 11; i++)
        {
            var record = new AuditRecord(i, DateTimeOffset.UnixEpoch.AddMinutes(i), "admin", "user.created", $"user:{i}", null, $"n: {i}", previous);
            previous = AuditHasher.Compute(record);
            entries.Add(new ProvenEntry(record.Sequence, record.At, record.Actor, record.Action, record.Subject, record.Before, record.After, record.PreviousHash, previous));
            foreach (var (node, hash) in frontier.Append(AuditHasher.LeafHash(record))) nodes[node.Key] = hash;
        }
        var note = signer.Sign(new AuditCheckpoint(signer.Name, 11, frontier.Root()).Body());
        var entry = entries[6];
        var path = MerkleProofs.Assemble(MerkleProofs.InclusionRanges(6, 11), n => nodes[n.Key]).Select(Convert.ToHexStringLower).ToList();
        var proof = new AuditInclusionProof(entry, 6, 11, path, note);

        Assert.True(AuditProofVerifier.Verify(proof, signer.Verifier).Ok);
        var altered = AuditProofVerifier.Verify(proof with { Entry = entry with { After = "n: 700" } }, signer.Verifier);
        Assert.False(altered.Ok);
        Assert.Contains("altered", altered.Detail, StringComparison.Ordinal);
        // Altered and re-hashed consistently, it still cannot reach the signed root.
        var rehashed = entry with { After = "n: 700" };
        rehashed = rehashed with { Hash = AuditHasher.Compute(rehashed.ToRecord()) };
        Assert.False(AuditProofVerifier.Verify(proof with { Entry = rehashed }, signer.Verifier).Ok);
        using var other = NoteSigner.Generate(signer.Name);
        var forged = AuditProofVerifier.Verify(proof, other.Verifier);
        Assert.False(forged.Ok);
        Assert.Equal(CheckpointVerdict.BadSignature, forged.CheckpointVerdict);
    }
}
