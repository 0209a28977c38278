using System.Globalization;

namespace Pilotage.Bench.Streams;

/// <summary>
/// Watches a Pilotage process during a round: its resident memory every 50 ms (the peak is kept), the memory its
/// garbage collector has committed (from <c>/metrics</c>, every 500 ms, the peak is kept), and from start to end the
/// CPU time it used (Linux /proc) and the bytes it allocated (<c>/metrics</c>). RSS beyond the GC's committed memory is
/// native: the runtime, socket and TLS buffers, pinned I/O blocks.
/// </summary>
internal sealed class Memory : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private readonly Task _scraping;
    private readonly int _processId;
    private readonly HttpClient _metrics;
    private readonly double _cpuAtStart;
    private double _peak;
    private double _gcPeak;
    private Figures? _figures;

    private Memory(int processId, HttpClient metrics, double cpuAtStart, double allocatedAtStart)
    {
        _processId = processId;
        _metrics = metrics;
        _cpuAtStart = cpuAtStart;
        AllocatedAtStart = allocatedAtStart;
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, ResidentMb(processId));
                try { await Task.Delay(50, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
        _scraping = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var committed = (await ScrapeAsync(metrics)).GetValueOrDefault("dotnet_gc_last_collection_memory_committed_size_bytes");
                _gcPeak = Math.Max(_gcPeak, committed / 1024 / 1024);
                try { await Task.Delay(500, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    private double AllocatedAtStart { get; }

    /// <summary>What the round cost the process.</summary>
    /// <param name="PeakMb">Resident memory at its peak.</param>
    /// <param name="GcCommittedPeakMb">The GC's committed memory at its peak (sampled every 500 ms).</param>
    /// <param name="CpuSeconds">CPU time (user and system) the process used during the round.</param>
    /// <param name="AllocatedMb">Bytes the process allocated on the managed heap during the round.</param>
    public sealed record Figures(double PeakMb, double GcCommittedPeakMb, double CpuSeconds, double AllocatedMb);

    public static async Task<Memory> StartAsync(int processId, string url)
    {
        var metrics = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
        var allocated = (await ScrapeAsync(metrics)).GetValueOrDefault("dotnet_gc_heap_total_allocated_bytes_total");
        return new Memory(processId, metrics, CpuSeconds(processId), allocated);
    }

    /// <summary>Stops the sampling and takes the figures (once; later calls return the same).</summary>
    public async Task<Figures> StopAsync()
    {
        if (_figures is not null) return _figures;
        var cpu = CpuSeconds(_processId) - _cpuAtStart;
        var allocated = (await ScrapeAsync(_metrics)).GetValueOrDefault("dotnet_gc_heap_total_allocated_bytes_total") - AllocatedAtStart;
        await _stop.CancelAsync();
        await Task.WhenAll(_sampling, _scraping);
        _figures = new Figures(_peak, _gcPeak, cpu, allocated / 1024 / 1024);
        return _figures;
    }

    public static double ResidentMb(int processId)
    {
        var path = $"/proc/{processId}/status";
        if (!File.Exists(path)) return double.NaN;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>Where the idle process's memory is: resident, the GC's committed memory and live heap (after the last
    /// collection), and the process's threads.</summary>
    public static async Task<string> IdleAsync(int processId, string url)
    {
        using var metrics = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
        var figures = await ScrapeAsync(metrics);
        var threads = Directory.Exists($"/proc/{processId}/task") ? Directory.GetDirectories($"/proc/{processId}/task").Length : 0;
        return string.Create(CultureInfo.InvariantCulture,
            $"{ResidentMb(processId):0} MB resident, {figures.GetValueOrDefault("dotnet_gc_last_collection_memory_committed_size_bytes") / 1024 / 1024:0} MB committed by the GC, {figures.GetValueOrDefault("dotnet_gc_last_collection_heap_size_bytes") / 1024 / 1024:0} MB heap at its last collection, {threads} threads");
    }

    /// <summary>User and system CPU seconds of the process so far (/proc/PID/stat, in clock ticks of 1/100 s).</summary>
    public static double CpuSeconds(int processId)
    {
        var path = $"/proc/{processId}/stat";
        if (!File.Exists(path)) return double.NaN;
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var stat = File.ReadAllText(path);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>The runtime's figures on <c>/metrics</c>, each summed over its labels (generations, CPU modes).</summary>
    public static async Task<Dictionary<string, double>> ScrapeAsync(HttpClient metrics)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        try
        {
            foreach (var line in (await metrics.GetStringAsync("/metrics")).Split('\n'))
            {
                if (!line.StartsWith("dotnet_", StringComparison.Ordinal)) continue;
                var name = line[..line.IndexOfAny([' ', '{'])];
                // name{labels} value [timestamp]
                var rest = line.Length > name.Length && line[name.Length] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..];
                var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) continue;
                values[name] = values.GetValueOrDefault(name) + number;
            }
        }
        catch (HttpRequestException)
        {
            // No figures this time: the peak keeps what earlier samples saw.
        }
        return values;
    }

    public void Dispose()
    {
        _stop.Cancel();
        Task.WhenAll(_sampling, _scraping).Wait();
        _stop.Dispose();
        _metrics.Dispose();
    }
}
