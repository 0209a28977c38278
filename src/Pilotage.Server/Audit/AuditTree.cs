using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>
/// The audit log's RFC 9162 Merkle tree in the store: leaves and completed subtrees as rows, the right edge in
/// the head row. An append hashes O(log n) nodes in memory and writes what it completed (two rows on average).
/// </summary>
public static class AuditTree
{
    private const int CatchUpPage = 5_000;

    /// <summary>
    /// Adds entry <paramref name="sequence"/>'s leaf when the tree holds every entry before it. Otherwise the
    /// tree is still catching up with entries written before it existed, and <see cref="CatchUpAsync"/> adds it in order.
    /// </summary>
    public static void Append(PilotageDbContext db, AuditHeadRow head, long sequence, byte[] leafHash)
    {
        if (head.TreeSize != sequence - 1) return;
        var frontier = MerkleFrontier.FromBytes(head.TreeSize, head.TreeFrontier);
        foreach (var (node, hash) in frontier.Append(leafHash)) db.AuditTreeNodes.Add(new AuditTreeNodeRow { Id = node.Key, Hash = hash });
        head.TreeSize = frontier.Size;
        head.TreeFrontier = frontier.ToBytes();
    }

    /// <summary>
    /// Adds the leaves of entries that have none (a store whose chain predates the tree), in order, a page per
    /// transaction. Returns how many it added. A gap in the sequence stops it: verify names the missing entry.
    /// </summary>
    public static async Task<long> CatchUpAsync(ControlPlane control, ILogger logger, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            var (added, gapAt) = await control.OnLockedHeadAsync(async (db, head) =>
            {
                if (head.TreeSize >= head.Sequence) return (0, (long?)null);
                var rows = await db.AuditEntries.AsNoTracking()
                    .Where(a => a.Sequence > head.TreeSize && a.Sequence <= head.Sequence)
                    .OrderBy(a => a.Sequence).Take(CatchUpPage).ToListAsync(cancellationToken);
                var count = 0;
                foreach (var row in rows)
                {
                    if (row.Sequence != head.TreeSize + 1) return (count, head.TreeSize + 1);
                    Append(db, head, row.Sequence, AuditHasher.LeafHash(AuditTrail.ToRecord(row)));
                    count++;
                }
                return (count, rows.Count == 0 ? head.TreeSize + 1 : (long?)null);
            }, cancellationToken);
            total += added;
            if (gapAt is { } missing)
            {
                logger.LogWarning("The audit Merkle tree stops before entry {Sequence}, which is missing from the store; 'pilotage audit verify' reports it", missing);
                return total;
            }
            if (added == 0) return total;
        }
    }

    /// <summary>The proof elements for these ranges, from the stored subtrees (one read of O(log n) rows).</summary>
    public static async Task<IReadOnlyList<byte[]>> ProveAsync(PilotageDbContext db, IReadOnlyList<LeafRange> ranges, CancellationToken cancellationToken)
    {
        var keys = MerkleProofs.NodesFor(ranges).Select(n => n.Key).ToList();
        var hashes = await db.AuditTreeNodes.AsNoTracking().Where(n => keys.Contains(n.Id)).ToDictionaryAsync(n => n.Id, n => n.Hash, cancellationToken);
        var missing = keys.FirstOrDefault(k => !hashes.ContainsKey(k), -1);
        if (missing != -1)
        {
            var node = MerkleNode.FromKey(missing);
            throw new CommandRefusedException(409, "Audit tree incomplete",
                $"the stored audit tree lacks the subtree at level {node.Level}, index {node.Index}: rows were deleted from audit_tree_nodes. Run 'pilotage audit verify'.");
        }
        return MerkleProofs.Assemble(ranges, n => hashes[n.Key]);
    }
}

/// <summary>Keeps the Merkle tree with the log: each appended entry's leaf goes in with the entry, in its transaction.</summary>
public sealed class AuditTreeAppender : IAuditAppendObserver
{
    public void OnAppended(AuditAppended appended)
    {
        ArgumentNullException.ThrowIfNull(appended);
        AuditTree.Append(appended.Db, appended.Head, appended.Entry.Sequence, MerkleHash.Leaf(appended.Encoded));
    }
}
