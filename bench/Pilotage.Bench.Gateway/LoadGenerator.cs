using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// The <c>--load</c> child process. Talks to the orchestrator through stdout lines
/// (<c>PHASE …</c>, <c>RESULT …</c>, <c>READY</c>) and waits for <c>GO</c> on stdin before each phase,
/// so the orchestrator can let the evidence queue drain between phases.
/// </summary>
internal static class LoadGenerator
{
    public static async Task<int> RunAsync(BenchOptions o)
    {
        var clients = o.Targets.ToDictionary(t => t.Name, Client);
        try
        {
            foreach (var target in o.Targets)
            {
                await Gate($"warmup 0 {target.Name}");
                if (o.Warmup > 0) await ClosedLoopAsync(target, BodyFor(target, o.Prompt), clients[target.Name], o.Concurrency, TimeSpan.FromSeconds(o.Warmup));
            }
            for (var round = 0; round < o.Rounds; round++)
            {
                var order = o.Targets.Skip(round % o.Targets.Count).Concat(o.Targets.Take(round % o.Targets.Count)).ToList();
                foreach (var target in order)
                {
                    await Gate($"rate {round} {target.Name}");
                    var r = await FixedRateAsync(target, BodyFor(target, o.Prompt), clients[target.Name], o.Rate, TimeSpan.FromSeconds(o.Seconds));
                    Console.WriteLine(Invariant($"RESULT rate {round} {target.Name} {r.Count} {r.Errors} {r.Seconds:0.000} {r.P50:0.000} {r.P90:0.000} {r.P99:0.000} {r.Max:0.000}"));
                    Console.Error.WriteLine(Invariant($"  round {round + 1} {target.Name,-16} {o.Rate} req/s: p50 {r.P50:0.000} ms p99 {r.P99:0.000} ms ({r.Count} sent, {r.Errors} errors)"));
                }
                foreach (var target in order)
                {
                    await Gate($"tput {round} {target.Name}");
                    var r = await ClosedLoopAsync(target, BodyFor(target, o.Prompt), clients[target.Name], o.Concurrency, TimeSpan.FromSeconds(o.Seconds));
                    Console.WriteLine(Invariant($"RESULT tput {round} {target.Name} {r.Count} {r.Errors} {r.Seconds:0.000} {r.P50:0.000} {r.P90:0.000} {r.P99:0.000} {r.Max:0.000}"));
                    Console.Error.WriteLine(Invariant($"  round {round + 1} {target.Name,-16} {o.Concurrency} workers: {r.Count / r.Seconds:0} req/s, p50 {r.P50:0.000} ms p99 {r.P99:0.000} ms ({r.Errors} errors)"));
                }
            }
            await Gate("idle 0 -");
        }
        finally
        {
            foreach (var client in clients.Values) client.Dispose();
        }
        return 0;
    }

    private static async Task Gate(string phase)
    {
        Console.WriteLine("PHASE " + phase);
        Console.WriteLine("READY");
        if (await Console.In.ReadLineAsync() != "GO") throw new InvalidOperationException("the orchestrator went away");
    }

    private static HttpClient Client(LoadTarget target)
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
        var client = new HttpClient(handler) { BaseAddress = new Uri(target.Url), Timeout = TimeSpan.FromSeconds(30) };
        if (target.Bearer.Length > 0) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.Bearer);
        return client;
    }

    /// <summary>The target's request: the chosen prompt for chat completions; the short question in the Responses API's shape.</summary>
    private static byte[] BodyFor(LoadTarget target, string prompt) => target.Path == LoadTarget.ResponsesPath
        ? Encoding.UTF8.GetBytes(target.Body("Where is my parcel 42? It was due yesterday."))
        : BenchPrompt.Body(prompt, target.Model);

    /// <summary>One request; its latency in ms from just before sending to the last byte read, negative on failure.</summary>
    internal static async Task<double> SendAsync(HttpClient client, string path, byte[] body, ErrorTally? errors = null)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(path, content);
            await response.Content.LoadIntoBufferAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (response.StatusCode == HttpStatusCode.OK) return elapsed;
            errors?.Status(response.StatusCode, await response.Content.ReadAsStringAsync());
            return -1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            errors?.Exception(e);
            return -1;
        }
    }

    /// <summary>Open loop: requests start on schedule whether or not earlier ones finished.</summary>
    private static async Task<PhaseResult> FixedRateAsync(LoadTarget target, byte[] body, HttpClient client, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var inFlight = new Task[total];
        var interval = (double)Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp();
        var next = 0;
        while (next < total)
        {
            var now = Stopwatch.GetTimestamp();
            while (next < total && start + (long)(next * interval) <= now)
            {
                var i = next++;
                inFlight[i] = Task.Run(async () => latencies[i] = await SendAsync(client, target.Path, body));
            }
            if (next < total)
            {
                var wait = (start + (long)(next * interval) - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, wait)));
            }
        }
        await Task.WhenAll(inFlight);
        return PhaseResult.Of(latencies, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>Closed loop: <paramref name="workers"/> each send the next request as soon as the last one answered.</summary>
    private static async Task<PhaseResult> ClosedLoopAsync(LoadTarget target, byte[] body, HttpClient client, int workers, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp();
        var deadline = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var perWorker = await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>(4096);
            while (Stopwatch.GetTimestamp() < deadline) mine.Add(await SendAsync(client, target.Path, body));
            return mine;
        })));
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return PhaseResult.Of(perWorker.SelectMany(l => l).ToArray(), seconds);
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}

internal sealed record PhaseResult(int Count, int Errors, double Seconds, double P50, double P90, double P99, double Max)
{
    /// <summary>Percentiles of the successful requests; failures are marked negative.</summary>
    public static PhaseResult Of(double[] latencies, double seconds)
    {
        var ok = latencies.Where(l => l >= 0).Order().ToArray();
        return new PhaseResult(ok.Length, latencies.Length - ok.Length, seconds, Percentile(ok, 0.50), Percentile(ok, 0.90), Percentile(ok, 0.99), ok.Length == 0 ? double.NaN : ok[^1]);
    }

    /// <summary>The <paramref name="p"/> percentile of sorted values; NaN when there are none.</summary>
    public static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
