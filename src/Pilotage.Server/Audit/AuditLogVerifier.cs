using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>
/// Verifies the whole audit log in one pass: the hash chain (every link, as before the tree), the Merkle tree
/// rebuilt from the entries against the one stored, and the log against signed checkpoints: one given, those in
/// the witness file, those in the store. A checkpoint's signature is checked before anything is compared.
/// </summary>
public sealed class AuditLogVerifier(PilotageStore store, NoteVerifier? key, string? witnessPath)
{
    public const string Given = "given";
    public const string Witness = "witness file";
    public const string Stored = "store";

    /// <param name="checkpointNote">A signed checkpoint the caller kept (<c>--checkpoint FILE</c>).</param>
    public async Task<AuditVerification> VerifyAsync(string? checkpointNote, CancellationToken cancellationToken)
    {
        var checks = new List<CheckpointCheck>();
        var pending = new List<(string Source, AuditCheckpoint Checkpoint)>();
        if (checkpointNote is not null)
        {
            if (key is null) throw new InvalidOperationException("a checkpoint cannot be checked without the log's public key");
            var given = Open(Given, checkpointNote, checks);
            // A given checkpoint that does not verify is the answer: nothing was compared with it.
            if (given is null) return new AuditVerification(false, 0, null, null, Checkpoints: checks);
            pending.Add((Given, given));
        }
        await using var db = store.CreateDbContext();
        if (key is not null)
        {
            if (!string.IsNullOrEmpty(witnessPath))
            {
                foreach (var note in AuditWitness.Read(witnessPath)) if (Open(Witness, note, checks) is { } c) pending.Add((Witness, c));
            }
            foreach (var note in await db.AuditCheckpoints.AsNoTracking().OrderBy(c => c.TreeSize).Select(c => c.Note).ToListAsync(cancellationToken))
            {
                if (Open(Stored, note, checks) is { } c) pending.Add((Stored, c));
            }
        }
        var bySize = pending.GroupBy(p => p.Checkpoint.TreeSize).ToDictionary(g => g.Key, g => g.ToList());
        var head = await db.AuditHead.AsNoTracking().SingleAsync(h => h.Id == 1, cancellationToken);

        var chain = new AuditChainVerifier();
        var tree = new MerkleFrontier();
        byte[]? storedTreeRootSeen = null;
        var expected = 1L;
        var lastSequence = 0L;
        Compare(0, tree, bySize, checks);
        await foreach (var page in new AuditEntryScan(store, head.Sequence).PagesAsync(cancellationToken))
        {
            for (var i = 0; i < page.Count; i++)
            {
                var record = page.Records[i];
                lastSequence = record.Sequence;
                chain.Add(record, page.StoredHashes[i], page.ContentHash(i));
                // The tree is rebuilt only over a gap-free run of sequences: a leaf is entry (index + 1).
                if (record.Sequence != expected) continue;
                expected++;
                tree.Append(page.LeafHash(i), null);
                if (bySize.Count > 0) Compare(tree.Size, tree, bySize, checks);
                if (tree.Size == head.TreeSize) storedTreeRootSeen = tree.Root();
            }
        }
        foreach (var (size, list) in bySize.Where(kv => kv.Key > tree.Size))
        {
            foreach (var (source, checkpoint) in list)
            {
                var what = lastSequence <= tree.Size
                    ? $"the log now ends at entry {tree.Size} but this checkpoint covers {size}: entries {tree.Size + 1}..{size} were deleted (the log was truncated)"
                    : $"the log's unbroken run ends at entry {tree.Size} but this checkpoint covers {size}: entry {tree.Size + 1} was deleted";
                checks.Add(new CheckpointCheck(source, size, checkpoint.RootHex, CheckpointVerdict.Truncated, what));
            }
        }
        var result = chain.Complete(head.Sequence, head.Hash);
        var treeProblem = StoredTreeProblem(head, storedTreeRootSeen);
        var ok = result.Ok && treeProblem is null && checks.All(c => c.Verdict == CheckpointVerdict.Consistent);
        return result with
        {
            Ok = ok,
            TreeSize = tree.Size,
            RootHash = Convert.ToHexStringLower(tree.Root()),
            Checkpoints = Summarise(checks),
            TreeProblem = treeProblem,
        };
    }

    private AuditCheckpoint? Open(string source, string note, List<CheckpointCheck> checks)
    {
        var opened = OpenedCheckpoint.Open(note, key!);
        if (opened.Outcome == NoteOutcome.Verified) return opened.Checkpoint;
        var verdict = opened.Outcome == NoteOutcome.Malformed ? CheckpointVerdict.Malformed : CheckpointVerdict.BadSignature;
        var size = TryReadSize(note);
        var prefix = verdict == CheckpointVerdict.BadSignature ? "bad signature" : "unreadable checkpoint";
        checks.Add(new CheckpointCheck(source, size, null, verdict, $"{prefix}: {opened.Detail}"));
        return null;
    }

    private static void Compare(long size, MerkleFrontier tree, Dictionary<long, List<(string Source, AuditCheckpoint Checkpoint)>> bySize, List<CheckpointCheck> checks)
    {
        if (!bySize.Remove(size, out var list)) return;
        var root = tree.Root();
        foreach (var (source, checkpoint) in list)
        {
            checks.Add(checkpoint.RootHash.AsSpan().SequenceEqual(root)
                ? new CheckpointCheck(source, size, checkpoint.RootHex, CheckpointVerdict.Consistent, $"the log's first {size} entries still hash to this checkpoint's root")
                : new CheckpointCheck(source, size, checkpoint.RootHex, CheckpointVerdict.Rewritten,
                    $"the log's first {size} entries no longer hash to this checkpoint's root (they now give {Convert.ToHexStringLower(root)}): entries were altered, replaced or the log rewritten"));
        }
    }

    private static string? StoredTreeProblem(AuditHeadRow head, byte[]? rebuiltAtStoredSize)
    {
        if (head.TreeSize == 0) return null;
        MerkleFrontier stored;
        try
        {
            stored = MerkleFrontier.FromBytes(head.TreeSize, head.TreeFrontier);
        }
        catch (FormatException e)
        {
            return $"the stored tree's edge cannot be read ({e.Message})";
        }
        if (rebuiltAtStoredSize is null) return $"the stored tree holds {head.TreeSize} entries but the log has fewer in an unbroken run";
        return stored.Root().AsSpan().SequenceEqual(rebuiltAtStoredSize)
            ? null
            : $"the stored tree's root for {head.TreeSize} entries differs from the one rebuilt from the entries: the entries or the tree were changed outside Pilotage";
    }

    /// <summary>Every failure, and per source only the largest consistent checkpoint (a witness file may hold thousands).</summary>
    private static List<CheckpointCheck> Summarise(List<CheckpointCheck> checks)
    {
        var failures = checks.Where(c => c.Verdict != CheckpointVerdict.Consistent);
        var consistent = checks.Where(c => c.Verdict == CheckpointVerdict.Consistent).GroupBy(c => c.Source).Select(g =>
        {
            var latest = g.MaxBy(c => c.TreeSize)!;
            var earlier = g.Count() - 1;
            return earlier == 0 ? latest : latest with { Detail = $"{latest.Detail} (and so do the {earlier} earlier checkpoints from the {g.Key})" };
        });
        return [.. failures, .. consistent];
    }

    private static long TryReadSize(string note)
    {
        var lines = note.Split('\n');
        return lines.Length > 1 && long.TryParse(lines[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size) ? size : -1;
    }
}
