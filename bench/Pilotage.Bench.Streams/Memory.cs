using System.Globalization;

namespace Pilotage.Bench.Streams;

/// <summary>Samples a process's resident memory (Linux /proc) every 50 ms and keeps the peak.</summary>
internal sealed class Memory : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private double _peak;

    public Memory(int processId)
    {
        _sampling = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, ResidentMb(processId));
                try { await Task.Delay(50, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    public double PeakMb
    {
        get
        {
            _stop.Cancel();
            _sampling.Wait();
            return _peak;
        }
    }

    public static double ResidentMb(int processId)
    {
        var path = $"/proc/{processId}/status";
        if (!File.Exists(path)) return double.NaN;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _sampling.Wait();
        _stop.Dispose();
    }
}
