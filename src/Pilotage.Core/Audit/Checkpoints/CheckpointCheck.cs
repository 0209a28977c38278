namespace Pilotage.Core.Audit.Checkpoints;

/// <summary>What comparing the log with one signed checkpoint found.</summary>
public enum CheckpointVerdict
{
    /// <summary>The log's first TreeSize entries still hash to the checkpoint's root: the log is the same or grew.</summary>
    Consistent,
    /// <summary>The checkpoint is not signed by the log's key, or its text was changed after signing. Nothing was compared.</summary>
    BadSignature,
    /// <summary>Not a checkpoint (or one of another log). Nothing was compared.</summary>
    Malformed,
    /// <summary>The log holds fewer entries than the checkpoint covers: its tail was deleted.</summary>
    Truncated,
    /// <summary>The log's first TreeSize entries no longer hash to the checkpoint's root: entries were altered or the log rewritten.</summary>
    Rewritten,
}

/// <param name="Source">Where the checkpoint came from: "given", "witness file", "store".</param>
public sealed record CheckpointCheck(string Source, long TreeSize, string? RootHash, CheckpointVerdict Verdict, string Detail);
