using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Pilotage.Bench.Streams;

/// <summary>
/// The garbage collector's pauses in a Pilotage process, read from an EventPipe session on it (the runtime's GC events
/// at the informational level: a few events a collection, no stacks). A pause runs from the runtime's suspension of
/// the threads for a collection to their restart; it is counted under the generation of the collection that started in
/// it (a background collection's own short pauses count as generation 2). What the collection promoted (copied to an
/// older generation) is read from its heap statistics. The time to the first words of an answer whose request or first
/// chunk arrives during a pause grows by what is left of the pause, so the pauses are the p99's suspects.
/// </summary>
internal sealed class GcPauses : IDisposable
{
    private readonly EventPipeSession _session;
    private readonly EventPipeEventSource _source;
    private readonly Task _reading;
    private readonly ConcurrentQueue<Pause> _pauses = new();
    private readonly ConcurrentQueue<(DateTime At, double PromotedMb)> _promoted = new();
    private readonly ConcurrentQueue<(DateTime At, string Type, long Bytes)> _allocated = new();
    private DateTime _suspended;
    private DateTime _stopped;
    private DateTime _collecting;
    private double _collectingMs;
    private DateTime _phaseFrom;
    private readonly ConcurrentQueue<(DateTime At, string Phase, double Ms)> _phases = new();
    private int _generation = -1;
    private string _cause = "";

    /// <summary>One pause: when it began, how long it lasted, the generation collected, and of its length the time the
    /// runtime took to stop the threads (<paramref name="SuspendingMs"/>) and the collection's own work, from its start
    /// to its end (<paramref name="CollectingMs"/>; 0 for a background collection's pauses, whose work runs beside).</summary>
    public readonly record struct Pause(DateTime At, double Ms, int Generation, double SuspendingMs = 0, double CollectingMs = 0, string Cause = "");

    /// <param name="allocations">Also the runtime's allocation ticks (verbose level: one event about every 100 KB
    /// allocated, naming the type whose allocation crossed it), to tell which types make the collections.</param>
    private GcPauses(int processId, bool allocations)
    {
        var client = new DiagnosticsClient(processId);
        _session = client.StartEventPipeSession(
            [new EventPipeProvider(ClrTraceEventParser.ProviderName, allocations ? EventLevel.Verbose : EventLevel.Informational, (long)ClrTraceEventParser.Keywords.GC)],
            requestRundown: false, circularBufferMB: 64);
        _source = new EventPipeEventSource(_session.EventStream);
        if (allocations) _source.Clr.GCAllocationTick += e => _allocated.Enqueue((e.TimeStamp, e.TypeName, e.AllocationAmount64));
        _source.Clr.GCSuspendEEStart += e =>
        {
            if (e.Reason is GCSuspendEEReason.SuspendForGC or GCSuspendEEReason.SuspendForGCPrep)
            {
                _suspended = e.TimeStamp;
                _stopped = default;
                _collectingMs = 0;
                _generation = -1;
            }
        };
        _source.Clr.GCSuspendEEStop += e => _stopped = _suspended == default ? default : e.TimeStamp;
        _source.Clr.GCStart += e =>
        {
            _generation = e.Depth;
            _cause = $"{e.Type} for {e.Reason}";
            _collecting = e.TimeStamp;
            _phaseFrom = e.TimeStamp;
        };
        // The runtime reports the end of each kind of marking (what the roots of that kind kept alive): the time since
        // the previous one is that kind's share of the collection; what follows the last is the plan, the copy and
        // the fix-up of references.
        _source.Clr.GCMarkWithType += e =>
        {
            if (_suspended == default || _collecting < _suspended) return;
            _phases.Enqueue((_suspended, Phase(e.Type), (e.TimeStamp - _phaseFrom).TotalMilliseconds));
            _phaseFrom = e.TimeStamp;
        };
        _source.Clr.GCStop += e =>
        {
            // A background collection ends outside any pause: only a collection that ends inside the pause counts.
            if (_suspended == default || _collecting < _suspended) return;
            _collectingMs = (e.TimeStamp - _collecting).TotalMilliseconds;
            _phases.Enqueue((_suspended, "after marking", (e.TimeStamp - _phaseFrom).TotalMilliseconds));
        };
        _source.Clr.GCRestartEEStop += e =>
        {
            if (_suspended == default) return;
            var suspending = _stopped == default ? 0 : (_stopped - _suspended).TotalMilliseconds;
            _pauses.Enqueue(new Pause(_suspended, (e.TimeStamp - _suspended).TotalMilliseconds, _generation < 0 ? 2 : _generation, suspending, _collectingMs, _generation < 0 ? "" : _cause));
            _suspended = default;
        };
        _source.Clr.GCHeapStats += e => _promoted.Enqueue((e.TimeStamp, (e.TotalPromotedSize0 + e.TotalPromotedSize1) / 1024.0 / 1024));
        _reading = Task.Factory.StartNew(() => _source.Process(), TaskCreationOptions.LongRunning);
    }

    public static GcPauses? TryStart(int processId, bool allocations = false)
    {
        try
        {
            return new GcPauses(processId, allocations);
        }
        catch (Exception e) when (e is ServerNotAvailableException or UnsupportedCommandException or TimeoutException)
        {
            Console.WriteLine("    (no EventPipe session on pid " + processId + ": " + e.Message + "; GC pauses not reported)");
            return null;
        }
    }

    /// <summary>
    /// The pauses between <paramref name="from"/> and <paramref name="to"/> (local time), in one line: per generation
    /// the count, and in all the count, the total and the largest pause and the mean promoted per collection. Waits a
    /// second first: the session's events arrive in blocks.
    /// </summary>
    public async Task<string> DescribeAsync(DateTime from, DateTime to)
    {
        await Task.Delay(1000);
        var pauses = _pauses.Where(p => p.At >= from && p.At <= to).ToArray();
        var promoted = _promoted.Where(p => p.At >= from && p.At <= to).Select(p => p.PromotedMb).ToArray();
        if (pauses.Length == 0) return "GC: no pause";
        var byGeneration = string.Join(" ", Enumerable.Range(0, 3).Select(g => $"gen{g} {pauses.Count(p => p.Generation == g)}"));
        var seconds = Math.Max(0.001, (to - from).TotalSeconds);
        return string.Create(CultureInfo.InvariantCulture,
            $"GC: {pauses.Length} pauses ({byGeneration}), total {pauses.Sum(p => p.Ms):0} ms ({pauses.Sum(p => p.Ms) / 10 / seconds:0.0} % of the round), max {pauses.Max(p => p.Ms):0.0} ms, median {Median(pauses.Select(p => p.Ms)):0.0} ms (of which stopping the threads median {Median(pauses.Select(p => p.SuspendingMs)):0.0}, max {pauses.Max(p => p.SuspendingMs):0.0} ms; the collection's work median {Median(pauses.Select(p => p.CollectingMs)):0.0} ms), promoted {(promoted.Length == 0 ? 0 : promoted.Average()):0.0} MB a collection")
            + string.Concat(pauses.Where(p => p.Generation == 2 && p.CollectingMs > 0).Select(p => string.Create(CultureInfo.InvariantCulture, $"; a blocking gen2 of {p.Ms:0.0} ms ({p.Cause})")));
    }

    /// <summary>
    /// How many answers a pause delayed, and how many by <paramref name="atLeastMs"/> or more. A pause delays an answer
    /// two ways: its request arrives during the pause (it waits for the pause's end), or its first words come from the
    /// model during the pause (they reach the client at its end, so the client's first words fall in the pause or just
    /// after). Waiting for the model while a pause runs delays nothing: those are not counted. The delay taken is what
    /// was left of the pause at the request's arrival, or at most the pause's length before the first words. Set
    /// against 1 % of the answers, it tells whether the GC can reach the p99.
    /// </summary>
    public (int Met, int Delayed) Met(IEnumerable<(DateTime Sent, double FirstMs)> waits, double atLeastMs)
    {
        var pauses = _pauses.ToArray();
        var (met, delayed) = (0, 0);
        foreach (var (sent, firstMs) in waits)
        {
            var first = sent.AddMilliseconds(firstMs);
            var delay = 0.0;
            foreach (var pause in pauses)
            {
                var end = pause.At.AddMilliseconds(pause.Ms);
                if (sent >= pause.At && sent < end) delay += (end - sent).TotalMilliseconds;
                if (first >= pause.At && first <= end.AddMilliseconds(2)) delay += (first - pause.At).TotalMilliseconds;
            }
            if (delay > 0) met++;
            if (delay >= atLeastMs) delayed++;
        }
        return (met, delayed);
    }

    /// <summary>The types most allocated between the two times (sampled: about every 100 KB), with their share of the bytes; empty without allocation ticks.</summary>
    public string AllocatedTypes(DateTime from, DateTime to, int top = 30)
    {
        var ticks = _allocated.Where(a => a.At >= from && a.At <= to).ToArray();
        if (ticks.Length == 0) return "";
        var total = (double)ticks.Sum(a => a.Bytes);
        return "allocated (sampled): " + string.Join(", ", ticks.GroupBy(a => a.Type).Select(g => (Type: g.Key, Bytes: g.Sum(a => a.Bytes)))
            .OrderByDescending(t => t.Bytes).Take(top).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Type} {t.Bytes / total:P1}")));
    }

    private static string Phase(int type) => type switch
    {
        0 => "stacks",
        1 => "finalization queue",
        2 => "handles",
        3 => "older generations (cards)",
        5 => "mark overflow",
        6 => "dependent handles",
        _ => "other marking",
    };

    /// <summary>Where the blocking collections' time went between the two times: each phase's mean per collection.</summary>
    public string Phases(DateTime from, DateTime to)
    {
        var phases = _phases.Where(p => p.At >= from && p.At <= to).ToArray();
        var collections = phases.Select(p => p.At).Distinct().Count();
        if (collections == 0) return "";
        return string.Create(CultureInfo.InvariantCulture, $"a collection's work, mean of {collections}: ") + string.Join(", ", phases.GroupBy(p => p.Phase)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Sum(p => p.Ms) / collections:0.0} ms")));
    }

    /// <summary>How many pauses between the two times, their median and their total, in ms (0 if none).</summary>
    public (int Count, double MedianMs, double TotalMs) Spread(DateTime from, DateTime to)
    {
        var pauses = _pauses.Where(p => p.At >= from && p.At <= to).Select(p => p.Ms).ToArray();
        return pauses.Length == 0 ? (0, 0, 0) : (pauses.Length, Median(pauses), pauses.Sum());
    }

    /// <summary>The largest pause between the two times, in ms (0 if none).</summary>
    public double Max(DateTime from, DateTime to) => _pauses.Where(p => p.At >= from && p.At <= to).Select(p => p.Ms).DefaultIfEmpty(0).Max();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    public void Dispose()
    {
        try
        {
            _session.Stop();
        }
        catch (Exception e) when (e is ServerNotAvailableException or IOException or TimeoutException)
        {
            // The process ended first: its session went with it.
        }
        _reading.Wait(TimeSpan.FromSeconds(5));
        _source.Dispose();
        _session.Dispose();
    }
}
