using System.Diagnostics.Metrics;
using Pilotage.Server.Evidence;

namespace Pilotage.Server.Telemetry;

/// <summary>
/// The evidence writer as observable instruments, read from <see cref="EvidenceWriter.Stats"/> at
/// collection time only: nothing is added to the write path. A growing queue or any failure means
/// answers are being withheld (durable mode) or records lost (async mode).
/// </summary>
public sealed class EvidenceMetrics : IDisposable
{
    public const string MeterName = "Pilotage.Evidence";

    private readonly Meter _meter;

    public EvidenceMetrics(IMeterFactory meters, EvidenceWriter writer)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(writer);
        _meter = meters.Create(MeterName);
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

    public void Dispose() => _meter.Dispose();
}
