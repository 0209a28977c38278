namespace Pilotage.Server.Evidence;

/// <summary>When <see cref="EvidenceWriter.AppendAsync"/> returns.</summary>
public enum EvidenceDurability
{
    /// <summary>After the transaction holding the record committed: no answer without its record.</summary>
    Durable,

    /// <summary>Once the record is queued; a store failure loses it (logged and counted).</summary>
    Async,
}

/// <summary>The evidence record could not be queued or committed; the gateway must not release the answer.</summary>
public sealed class EvidenceUnavailableException : Exception
{
    public EvidenceUnavailableException() : base("evidence store unavailable") { }

    public EvidenceUnavailableException(string message) : base(message) { }

    public EvidenceUnavailableException(string message, Exception innerException) : base(message, innerException) { }
}

public sealed record EvidenceWriterOptions
{
    /// <summary>Records waiting to be written; when full, appenders wait (backpressure).</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>Most records written in one transaction.</summary>
    public int MaxBatchSize { get; init; } = 1_000;

    /// <summary>How long an append waits for room in a full queue before giving up.</summary>
    public TimeSpan EnqueueTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The local spool for store outages (<see cref="EvidenceSpool"/>); null: none, every system fails closed.</summary>
    public string? SpoolPath { get; init; }

    /// <summary>During an outage, how often the store is tried again (and the spool replayed when it answers).</summary>
    public TimeSpan ProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a batch holding only asynchronous records (nobody waits for their commit) waits for more before
    /// it is written; a durable record ends the wait at once. Fewer, larger commits rewrite the same pages and
    /// flush the log less often: at load, this is most of what evidence costs (docs/benchmarks.md). Zero: no wait.
    /// </summary>
    public TimeSpan AsyncLinger { get; init; } = TimeSpan.FromMilliseconds(10);
}

/// <summary>
/// An answer held in approval mode, written to <c>approvals</c> in the same transaction as its
/// interaction record: a crash can leave neither a held answer without its record nor the reverse.
/// </summary>
public sealed record EvidenceHold(string System, string Response, DateTimeOffset At);

/// <summary>Whether the writer can reach its store, and what waits in the spool.</summary>
public sealed record EvidenceStoreState(bool Reachable, bool SpoolEnabled, long Spooled, string? SpoolPath);

/// <summary>
/// One batch the writer committed, and how long writing and committing it took: what each durable answer of the
/// batch waited for, once its turn came. <paramref name="Flushed"/>: the commit waited for the disk because a
/// durable record was in the batch.
/// </summary>
public readonly record struct BatchCommitTiming(int Records, bool Flushed, TimeSpan Duration);

/// <summary>Counters since the writer started, for metrics and benchmarks.</summary>
public sealed record EvidenceWriterStats(
    long RecordsWritten,
    long Batches,
    long LastBatchSize,
    long Failures,
    long AsyncRecordsLost,
    int Queued,
    long Spooled = 0,
    long Replayed = 0);
