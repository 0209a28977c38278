using System.Diagnostics.Tracing;

namespace Pilotage.Bench.Ingest;

/// <summary>
/// Bytes the garbage collector found alive in gen0 and gen1 and kept (promoted), summed over every collection from the
/// runtime's own GC events: what a collection copies, so what it costs, unlike the pause time, which a busy machine
/// stretches. An import's rows that live until their slice is written show here.
/// </summary>
internal sealed class GcPromotions : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private long _fromGen0;
    private long _fromGen1;

    public long FromGen0 => Interlocked.Read(ref _fromGen0);

    public long FromGen1 => Interlocked.Read(ref _fromGen1);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName is null || !eventData.EventName.StartsWith("GCHeapStats", StringComparison.Ordinal) || eventData.Payload is null || eventData.PayloadNames is null) return;
        var gen0 = eventData.PayloadNames.IndexOf("TotalPromotedSize0");
        var gen1 = eventData.PayloadNames.IndexOf("TotalPromotedSize1");
        if (gen0 >= 0) Interlocked.Add(ref _fromGen0, Convert.ToInt64(eventData.Payload[gen0], System.Globalization.CultureInfo.InvariantCulture));
        if (gen1 >= 0) Interlocked.Add(ref _fromGen1, Convert.ToInt64(eventData.Payload[gen1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
