using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// A poor man's allocation profiler for <c>--mode alloc --types</c>: listens in process to the runtime's
/// GCAllocationTick event (one sample about every 100 KB allocated, with the type that crossed the
/// threshold), so the top types show where a request's bytes go without dotnet-trace installed.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new(StringComparer.Ordinal);

    public bool Enabled { get; set; }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Enabled || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        var type = e.PayloadNames.IndexOf("TypeName") is var t and >= 0 ? e.Payload![t] as string ?? "?" : "?";
        var amount = e.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(e.Payload![a], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        // Kind 1 is the large object heap (85 KB and more): each such allocation counts towards a gen 2 collection.
        if (e.PayloadNames.IndexOf("AllocationKind") is var k and >= 0 && Convert.ToInt32(e.Payload![k], System.Globalization.CultureInfo.InvariantCulture) == 1) type += " (LOH)";
        _bytesByType.AddOrUpdate(type, amount, (_, sum) => sum + amount);
    }

    public IReadOnlyList<(string Type, long Bytes)> TakeTop(int count)
    {
        var top = _bytesByType.OrderByDescending(p => p.Value).Take(count).Select(p => (p.Key, p.Value)).ToList();
        _bytesByType.Clear();
        return top;
    }
}
