namespace Pilotage.Server.Evidence;

/// <summary>Where the evidence spool lives and how long interactions are kept (from <c>pilotage serve</c>'s options).</summary>
public sealed record EvidenceOptions
{
    /// <summary>Folder of the spool used during store outages (<c>PILOTAGE_SPOOL_DIR</c>); null: the default (docs/reliability.md).</summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>PostgreSQL: months of interactions kept; older months are dropped whole, as partitions. 0 keeps every month.</summary>
    public int InteractionRetentionMonths { get; init; }
}
