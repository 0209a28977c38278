using Microsoft.EntityFrameworkCore;

namespace Pilotage.Server.Storage;

/// <summary>
/// One complete subtree of the audit Merkle tree: leaves (level 0) and every node an append completed. They
/// never change once written, so a proof reads O(log n) of them by key instead of the whole log.
/// </summary>
public sealed class AuditTreeNodeRow
{
    /// <summary><see cref="Core.Audit.Merkle.MerkleNode.Key"/>: the level in the top byte, the index below.</summary>
    public long Id { get; set; }
    public required byte[] Hash { get; set; }
}

/// <summary>A signed checkpoint the server made (also written to the witness, outside the store).</summary>
public sealed class AuditCheckpointRow
{
    public long Id { get; set; }
    public long TreeSize { get; set; }
    public required byte[] RootHash { get; set; }
    /// <summary>The signed note, exactly as handed out.</summary>
    public required string Note { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

internal static class AuditTreeRows
{
    public static void Configure(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AuditTreeNodeRow>(e =>
        {
            e.ToTable("audit_tree_nodes");
            e.Property(n => n.Id).ValueGeneratedNever();
        });
        modelBuilder.Entity<AuditCheckpointRow>(e =>
        {
            e.ToTable("audit_checkpoints");
            e.HasIndex(c => c.TreeSize);
        });
    }
}
