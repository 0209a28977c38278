using System.Diagnostics.Metrics;
using System.Globalization;
using Pilotage.Server.Telemetry;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// Times heard, by fixed-rate phase, from instruments in this process (the Pilotage process):
/// <list type="bullet">
/// <item>the evidence writer's durable commits (<see cref="EvidenceMetrics.CommitDuration"/>): "durable adds no more
/// than one group-commit interval" is checked against the commits of the same phase, on the same busy machine, rather
/// than against a commit measured alone, which is faster than one that shares two cores with the load;</item>
/// <item>ASP.NET Core's <c>http.server.request.duration</c> (from the request's headers parsed to its response
/// written) and the <c>System.Net.Http</c> client's <c>http.client.request.duration</c> (Pilotage's call to the
/// upstream): the first is the work of the request inside the server, the second the part of it spent on the
/// upstream. What the client sees beyond the first is outside the handler: sockets, and waiting for a core.</item>
/// </list>
/// The YARP child (<c>--yarp-for</c>) runs one too, for the same two HTTP series of its own requests, and hands them
/// over (<see cref="Drain"/>, <see cref="Import"/>): both proxies are then seen from inside alike.
/// </summary>
internal sealed class PhaseRecorder : IDisposable
{
    private const string ServerMeter = "Microsoft.AspNetCore.Hosting";
    private const string ServerDuration = "http.server.request.duration";
    private const string ClientMeter = "System.Net.Http";
    private const string ClientDuration = "http.client.request.duration";

    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Series, string Phase), List<double>> _byPhase = [];
    private string _phase = "setup";

    public PhaseRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if ((instrument.Meter.Name == EvidenceMetrics.MeterName && instrument.Name == EvidenceMetrics.CommitDuration)
                || (instrument.Meter.Name == ServerMeter && instrument.Name == ServerDuration)
                || (instrument.Meter.Name == ClientMeter && instrument.Name == ClientDuration))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The phase that later measurements belong to (as the load generator names it: kind, round, target).</summary>
    public string Phase
    {
        set => Volatile.Write(ref _phase, value);
    }

    /// <summary>Durable commit times of one phase, in milliseconds, sorted.</summary>
    public double[] Durable(string phase) => Series("commit", phase);

    /// <summary>Server-side request times of one phase (Kestrel's view of each request), in milliseconds, sorted.</summary>
    public double[] Server(string phase) => Series("server", phase);

    /// <summary>The proxy's calls to the upstream in one phase (Pilotage's, or YARP's from its child), in milliseconds, sorted.</summary>
    public double[] Upstream(string phase) => Series("upstream", phase);

    /// <summary>
    /// What this recorder holds, one line per series and phase (<c>TIMES series|phase|ms,ms,…</c>), then forgets it: how
    /// the YARP child hands its own server and upstream-call times to the orchestrator.
    /// </summary>
    public IEnumerable<string> Drain()
    {
        List<string> lines;
        lock (_byPhase)
        {
            lines = [.. _byPhase.Select(e => $"TIMES {e.Key.Series}|{e.Key.Phase}|{string.Join(',', e.Value.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}")];
            _byPhase.Clear();
        }
        return lines;
    }

    /// <summary>Adds a line written by <see cref="Drain"/> in another process.</summary>
    public void Import(string line)
    {
        var parts = line["TIMES ".Length..].Split('|');
        var values = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture));
        lock (_byPhase)
        {
            if (!_byPhase.TryGetValue((parts[0], parts[1]), out var list)) _byPhase[(parts[0], parts[1])] = list = [];
            list.AddRange(values);
        }
    }

    private double[] Series(string series, string phase)
    {
        lock (_byPhase)
        {
            return _byPhase.TryGetValue((series, phase), out var list) ? [.. list.Order()] : [];
        }
    }

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string? series = instrument.Name switch
        {
            ServerDuration => "server",
            ClientDuration => "upstream",
            _ => IsDurable(tags) ? "commit" : null,
        };
        if (series is null) return;
        var phase = Volatile.Read(ref _phase);
        // Kept for the fixed-rate phases only, the ones the tables read: a throughput phase's hundreds of thousands of
        // requests would grow this process's memory, which the benchmark reports as Pilotage's.
        if (!phase.StartsWith("rate ", StringComparison.Ordinal)) return;
        var key = (series, phase);
        lock (_byPhase)
        {
            if (!_byPhase.TryGetValue(key, out var list)) _byPhase[key] = list = [];
            list.Add(seconds * 1000);
        }
    }

    private static bool IsDurable(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == EvidenceMetrics.DurabilityTag && tag.Value is "durable") return true;
        }
        return false;
    }

    public void Dispose() => _listener.Dispose();
}
