using System.Diagnostics.Metrics;
using Pilotage.Server.Evidence;

namespace Pilotage.Server.Telemetry;

/// <summary>
/// The evidence writer as instruments. Most are observable, read from <see cref="EvidenceWriter.Stats"/> at
/// collection time only; the commit duration is recorded once per batch, not per record. A growing queue or any
/// failure means answers are being withheld (durable mode) or records lost (async mode); the commit duration is
/// what durable mode adds to each answer.
/// </summary>
public sealed class EvidenceMetrics : IDisposable
{
    public const string MeterName = "Pilotage.Evidence";
    public const string CommitDuration = "pilotage.evidence.commit.duration";
    public const string DurabilityTag = "pilotage.evidence.durability";

    // From 0.1 ms, doubling to 1.6 s: a commit on a local disk takes a fraction of a millisecond, one on a busy
    // server or network disk tens of milliseconds; the SDK's default buckets (meant for milliseconds) would put
    // every commit in the first bucket.
    private static readonly double[] CommitBuckets =
        [0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048, 0.4096, 0.8192, 1.6384];

    private static readonly KeyValuePair<string, object?> Durable = new(DurabilityTag, "durable");
    private static readonly KeyValuePair<string, object?> Async = new(DurabilityTag, "async");

    private readonly Meter _meter;
    private readonly EvidenceWriter _writer;

    public EvidenceMetrics(IMeterFactory meters, EvidenceWriter writer)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(writer);
        _meter = meters.Create(MeterName);
        _writer = writer;
        var commits = _meter.CreateHistogram<double>(CommitDuration, "s",
            "Time to write and commit one batch of interaction records, by durability (durable: the commit waited for the disk)",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CommitBuckets });
        writer.CommitTimed = commit => commits.Record(commit.Duration.TotalSeconds, commit.Flushed ? Durable : Async);
        _meter.CreateObservableGauge("pilotage.evidence.queue_length", () => writer.Stats.Queued, "{record}",
            "Interaction records waiting for the evidence writer");
        _meter.CreateObservableGauge("pilotage.evidence.last_batch_size", () => writer.Stats.LastBatchSize, "{record}",
            "Records in the last committed batch (group commit)");
        // Cumulative since start: counters, so rate() works and restarts are detected by Prometheus.
        _meter.CreateObservableCounter("pilotage.evidence.records_written", () => writer.Stats.RecordsWritten, "{record}",
            "Interaction records committed to the store");
        _meter.CreateObservableCounter("pilotage.evidence.batches", () => writer.Stats.Batches, "{batch}",
            "Batches committed to the store");
        _meter.CreateObservableCounter("pilotage.evidence.failures", () => writer.Stats.Failures, "{batch}",
            "Batches that could not be committed (their durable answers were withheld)");
        _meter.CreateObservableCounter("pilotage.evidence.async_records_lost", () => writer.Stats.AsyncRecordsLost, "{record}",
            "Asynchronously appended records lost with a failed batch");
    }

    public void Dispose()
    {
        _writer.CommitTimed = null;
        _meter.Dispose();
    }
}
