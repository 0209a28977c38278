using System.Diagnostics.Metrics;
using Pilotage.Server.Telemetry;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// The evidence writer's durable commit times, by phase, heard from its own histogram
/// (<see cref="EvidenceMetrics.CommitDuration"/>) in this process. "Durable adds no more than one group-commit
/// interval" is then checked against the commits of the same phase, on the same busy machine, rather than
/// against a commit measured alone, which is faster than one that shares two cores with the load.
/// </summary>
internal sealed class CommitRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, List<double>> _byPhase = new(StringComparer.Ordinal);
    private string _phase = "setup";

    public CommitRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EvidenceMetrics.MeterName && instrument.Name == EvidenceMetrics.CommitDuration)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnCommit);
        _listener.Start();
    }

    /// <summary>The phase that later commits belong to (as the load generator names it: kind, round, target).</summary>
    public string Phase
    {
        set => Volatile.Write(ref _phase, value);
    }

    /// <summary>Durable commit times of one phase, in milliseconds, sorted.</summary>
    public double[] Durable(string phase)
    {
        lock (_byPhase)
        {
            return _byPhase.TryGetValue(phase, out var list) ? [.. list.Order()] : [];
        }
    }

    private void OnCommit(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key != EvidenceMetrics.DurabilityTag || tag.Value is not "durable") continue;
            var phase = Volatile.Read(ref _phase);
            lock (_byPhase)
            {
                if (!_byPhase.TryGetValue(phase, out var list)) _byPhase[phase] = list = [];
                list.Add(seconds * 1000);
            }
        }
    }

    public void Dispose() => _listener.Dispose();
}
