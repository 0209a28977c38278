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

    /// <summary>Starts appending a command's leaves to the tree this head holds (<see cref="AuditTreeAppend"/>).</summary>
    public static AuditTreeAppend Begin(AuditHeadRow head) => new(head);

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
                var append = Begin(head);
                long? gap = rows.Count == 0 ? head.TreeSize + 1 : null;
                foreach (var row in rows)
                {
                    if (row.Sequence != head.TreeSize + 1)
                    {
                        gap = head.TreeSize + 1;
                        break;
                    }
                    append.Add(row.Sequence, AuditHasher.LeafHash(AuditTrail.ToRecord(row)));
                    count++;
                }
                await append.WriteAsync(db, cancellationToken);
                return (count, gap);
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

    /// <summary>The proof elements for these ranges, from the stored subtrees: one indexed read of O(log n) rows.</summary>
    public static async Task<IReadOnlyList<byte[]>> ProveAsync(PilotageDbContext db, IReadOnlyList<LeafRange> ranges, CancellationToken cancellationToken)
    {
        var keys = MerkleProofs.NodesFor(ranges).Select(n => n.Key).ToList();
        var hashes = await AuditTreeNodeSql.ReadAsync(db, keys, cancellationToken);
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

/// <summary>
/// One command's leaves going into the tree: the right edge read once from the head row, each leaf hashed into it
/// in memory (O(log n)), and the subtrees completed written in one batch in the command's transaction.
/// </summary>
public sealed class AuditTreeAppend(AuditHeadRow head)
{
    private readonly List<(MerkleNode Node, byte[] Hash)> _completed = [];
    private MerkleFrontier? _frontier;

    /// <summary>
    /// Adds entry <paramref name="sequence"/>'s leaf when the tree holds every entry before it. Otherwise the tree is
    /// still catching up with entries written before it existed, and <see cref="AuditTree.CatchUpAsync"/> adds it in order.
    /// </summary>
    public void Add(long sequence, byte[] leafHash)
    {
        if (head.TreeSize != sequence - 1) return;
        _frontier ??= MerkleFrontier.FromBytes(head.TreeSize, head.TreeFrontier);
        _frontier.Append(leafHash, _completed);
        head.TreeSize = _frontier.Size;
    }

    /// <summary>Writes the completed subtrees, and the new edge into the head row (saved with the command).</summary>
    public Task WriteAsync(PilotageDbContext db, CancellationToken cancellationToken)
    {
        if (_frontier is null) return Task.CompletedTask;
        head.TreeFrontier = _frontier.ToBytes();
        return AuditTreeNodeSql.InsertAsync(db, _completed, cancellationToken);
    }
}

/// <summary>Keeps the Merkle tree with the log: a command's leaves go in with its entries, in its transaction.</summary>
public sealed class AuditTreeAppender : IAuditAppendObserver
{
    public Task OnAppendedAsync(AuditAppend append, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(append);
        var tree = AuditTree.Begin(append.Head);
        foreach (var appended in append.Entries) tree.Add(appended.Entry.Sequence, MerkleHash.Leaf(appended.Encoded));
        return tree.WriteAsync(append.Db, ct);
    }
}
