using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Pilotage.Bench.Streams;

/// <summary>
/// A bare reverse proxy (YARP, every request to the model as it came) in a process of its own, for <c>--proxy yarp</c>:
/// what a .NET proxy with no policy adds to the first words on the same machine, measured as Pilotage is. It gets the
/// runtime settings <c>pilotage serve</c> gives itself (the shared pool's arrays per core, idle workers that do not spin,
/// <c>SustainedLowLatency</c>), so that only the proxy's own work differs. It serves <c>/readyz</c> and a <c>/metrics</c>
/// with the three runtime figures the bench reads (<see cref="Memory"/>).
/// </summary>
internal sealed class BareProxy : IAsyncDisposable
{
    private readonly Process _process;

    private BareProxy(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }
    public int ProcessId => _process.Id;

    /// <summary>Starts this executable as <c>--yarp-child UPSTREAM URL</c> and waits until it answers <c>/readyz</c>.</summary>
    public static async Task<BareProxy> StartAsync(string upstream, IReadOnlyDictionary<string, string> environment)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardInput = true };
        start.ArgumentList.Add(typeof(BareProxy).Assembly.Location);
        foreach (var arg in new[] { "--yarp-child", upstream, url }) start.ArgumentList.Add(arg);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.Environment["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"] = "1024";
        start.Environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the YARP child");
        var proxy = new BareProxy(process, url);
        using var probe = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited) throw new InvalidOperationException($"the YARP child exited with code {process.ExitCode}");
            try
            {
                using var ready = await probe.GetAsync("/readyz");
                if (ready.StatusCode == HttpStatusCode.OK) return proxy;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        await proxy.DisposeAsync();
        throw new TimeoutException("the YARP child did not answer /readyz within 60 s");
    }

    /// <summary>The child's side: YARP in front of <paramref name="upstream"/> on <paramref name="url"/>, until standard input closes.</summary>
    public static async Task<int> RunChildAsync(string upstream, string url)
    {
        GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "model", ClusterId = "model", Match = new RouteMatch { Path = "/v1/{**rest}" } }],
            [new ClusterConfig { ClusterId = "model", Destinations = new Dictionary<string, DestinationConfig> { ["model"] = new() { Address = upstream } } }]);
        var app = builder.Build();
        app.MapGet("/readyz", () => "ready");
        app.MapGet("/metrics", () =>
        {
            var info = GC.GetGCMemoryInfo();
            return string.Create(CultureInfo.InvariantCulture,
                $"dotnet_gc_last_collection_memory_committed_size_bytes {info.TotalCommittedBytes}\ndotnet_gc_last_collection_heap_size_bytes {info.HeapSizeBytes}\ndotnet_gc_heap_total_allocated_bytes_total {GC.GetTotalAllocatedBytes()}\n");
        });
        app.MapReverseProxy();
        await app.StartAsync();
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A target's process as the rounds use it: Pilotage (<see cref="Pilotage.Testing.ServerProcess"/>) or the bare proxy.</summary>
internal sealed record ServedProcess(int ProcessId, string Url, IAsyncDisposable Owner) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Owner.DisposeAsync();
}
