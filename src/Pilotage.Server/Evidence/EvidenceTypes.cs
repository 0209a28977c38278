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
}

/// <summary>Counters since the writer started, for metrics and benchmarks.</summary>
public sealed record EvidenceWriterStats(
    long RecordsWritten,
    long Batches,
    long LastBatchSize,
    long Failures,
    long AsyncRecordsLost,
    int Queued);
