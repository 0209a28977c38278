using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// The <c>--capacity-load</c> child: closed-loop load where a target may carry several keys and several replicas
/// (comma-separated in its bearer and URL; worker <c>i</c> takes replica <c>i mod replicas</c>, so the replicas share the
/// workers round-robin, and the keys in turn across them). Targets run one after another, or all at once with
/// <c>--together</c>. Prints <c>RESULT name count errors seconds p50 p90 p99 max</c> per target.
/// </summary>
internal static class CapacityLoad
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        var clients = o.Targets.ToDictionary(t => t.Name, Clients);
        try
        {
            if (o.Together)
            {
                if (o.Warmup > 0) await Task.WhenAll(o.Targets.Select(t => ClosedLoopAsync(t, clients[t.Name], o.Concurrency, TimeSpan.FromSeconds(o.Warmup), "warm-up")));
                var results = await Task.WhenAll(o.Targets.Select(t => ClosedLoopAsync(t, clients[t.Name], o.Concurrency, TimeSpan.FromSeconds(o.Seconds), "measured")));
                foreach (var (target, result) in o.Targets.Zip(results)) Report(target, result);
            }
            else
            {
                foreach (var target in o.Targets)
                {
                    if (o.Warmup > 0) await ClosedLoopAsync(target, clients[target.Name], o.Concurrency, TimeSpan.FromSeconds(o.Warmup), "warm-up");
                    Report(target, await ClosedLoopAsync(target, clients[target.Name], o.Concurrency, TimeSpan.FromSeconds(o.Seconds), "measured"));
                }
            }
        }
        finally
        {
            foreach (var client in clients.Values.SelectMany(c => c)) client.Dispose();
        }
        return 0;
    }

    private static void Report(LoadTarget target, PhaseResult r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"RESULT {target.Name} {r.Count} {r.Errors} {r.Seconds:0.000} {r.P50:0.000} {r.P90:0.000} {r.P99:0.000} {r.Max:0.000}"));

    /// <summary>One client per replica and key pair: worker w takes replica w mod replicas and key (w / replicas) mod keys, so every key meets every replica.</summary>
    private static List<HttpClient> Clients(LoadTarget target)
    {
        var urls = target.Url.Split(',');
        var bearers = target.Bearer.Split(',');
        return [.. Enumerable.Range(0, urls.Length * bearers.Length).Select(i => Client(urls[i % urls.Length], bearers[i / urls.Length]))];
    }

    private static HttpClient Client(string url, string bearer)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            MaxConnectionsPerServer = 1024,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        if (bearer.Length > 0) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    private static async Task<PhaseResult> ClosedLoopAsync(LoadTarget target, List<HttpClient> clients, int workers, TimeSpan duration, string phase)
    {
        var body = BenchPrompt.Body("short", target.Model);
        var errors = new ErrorTally();
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var perWorker = await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            var client = clients[w % clients.Count];
            var mine = new List<double>(4096);
            while (Stopwatch.GetTimestamp() < deadline) mine.Add(await LoadGenerator.SendAsync(client, target.Path, body, errors));
            return mine;
        })));
        var result = PhaseResult.Of([.. perWorker.SelectMany(l => l)], Stopwatch.GetElapsedTime(start).TotalSeconds);
        // What failed, so a count of errors says whose they are (the orchestrator prints these lines as they come).
        foreach (var line in errors.Lines(phase + " " + target.Name)) Console.WriteLine(line);
        return result;
    }
}
