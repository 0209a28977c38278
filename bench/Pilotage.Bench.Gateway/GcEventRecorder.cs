using System.Diagnostics.Tracing;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// The runtime's own GC events in this process (<c>GCStart_V2</c>, <c>GCEnd_V1</c>, through an in-process
/// <see cref="EventListener"/>): for every blocking collection of generation 2, why the runtime started it and
/// whether the load generator was sending at the time. The 250 ms samples of the runtime table cannot say either:
/// a pause outside a measured phase (while the evidence queue drains) costs no request anything.
/// </summary>
internal sealed class GcEventRecorder : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int GcStart = 1;
    private const int GcEnd = 2;

    // The reasons of GCStart_V2 (the runtime's gc_reason), by value.
    private static readonly string[] Reasons =
    [
        "small allocation", "induced", "low memory", "empty", "large allocation", "out of space (small objects)",
        "out of space (large objects)", "induced, not forced", "stress", "induced low memory", "induced compacting",
        "low memory (host)", "provisional mode full GC", "last-known-good BGC", "BGC aborted",
    ];

    private readonly List<BlockingFullCollection> _collections = [];
    // Runtime events reach the listener from a dispatch thread, some time after they happened: classify them by
    // their own timestamp against the measured windows, never by what is being measured when they arrive.
    private readonly List<(DateTime From, DateTime To, string Phase)> _windows = [];
    private (DateTime Started, int Depth, int Reason, int Type)? _open;
    private DateTime? _measuringSince;
    private string _phase = "setup";

    /// <summary>The phase later collections belong to.</summary>
    public string Phase
    {
        set => Volatile.Write(ref _phase, value);
    }

    /// <summary>True between the orchestrator's GO and the phase's result: requests are being sent and timed.</summary>
    public bool Measuring
    {
        set
        {
            lock (_windows)
            {
                if (value) _measuringSince = DateTime.UtcNow;
                else if (_measuringSince is { } since) _windows.Add((since, DateTime.UtcNow, Volatile.Read(ref _phase)));
                if (!value) _measuringSince = null;
            }
        }
    }

    public IReadOnlyList<BlockingFullCollection> Collections
    {
        get
        {
            List<(DateTime From, DateTime To, string Phase)> windows;
            lock (_windows) windows = [.. _windows];
            lock (_collections)
            {
                return [.. _collections.Select(c => windows.FirstOrDefault(w => c.At < w.To && c.At.AddMilliseconds(c.Milliseconds) > w.From) is { Phase: { } phase }
                    ? c with { Phase = phase, DuringRequests = true }
                    : c)];
            }
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource) EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventId == GcStart && e.Payload is { Count: >= 4 } start)
        {
            _open = (e.TimeStamp.ToUniversalTime(), Convert.ToInt32(start[1], System.Globalization.CultureInfo.InvariantCulture),
                Convert.ToInt32(start[2], System.Globalization.CultureInfo.InvariantCulture),
                Convert.ToInt32(start[3], System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (e.EventId == GcEnd && _open is { } open)
        {
            _open = null;
            // Type 0 is a non-concurrent (blocking) collection; 1 a background one, 2 a foreground one during a background.
            if (open.Depth < 2 || open.Type == 1) return;
            var reason = open.Reason >= 0 && open.Reason < Reasons.Length ? Reasons[open.Reason] : $"reason {open.Reason}";
            var took = (e.TimeStamp.ToUniversalTime() - open.Started).TotalMilliseconds;
            // The phase named is the one the orchestrator was in when the event arrived; a measured window it overlaps corrects it.
            lock (_collections) _collections.Add(new BlockingFullCollection(Volatile.Read(ref _phase), false, reason, took, open.Started));
        }
    }
}

/// <summary>A blocking collection of generation 2: in which phase, whether requests were being timed, why, how long it took, and when it began.</summary>
internal sealed record BlockingFullCollection(string Phase, bool DuringRequests, string Reason, double Milliseconds, DateTime At);
