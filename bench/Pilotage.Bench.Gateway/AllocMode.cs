using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// <c>--mode alloc</c>: deterministic cost per request, for a shared noisy machine where wall-clock
/// figures swing by ±20 %. N non-streaming chat completions go to each target from this process,
/// a few at a time, and the process's allocated bytes and CPU time are read around them. Client and
/// upstream are the same for every target, so "target minus direct" is what the proxy in between
/// costs; for Pilotage it includes the evidence writer's work, since the orchestrator waits for the
/// queue to drain before it reads the counters.
/// </summary>
internal static class AllocMode
{
    public static async Task RunAsync(BenchOptions o, string upstreamUrl, string yarpUrl, PilotageUnderTest pilotage)
    {
        var targets = o.Protocol == "chat" ? ChatTargets(o, upstreamUrl, yarpUrl, pilotage) : ProtocolTargets(o, upstreamUrl, yarpUrl, pilotage);
        var results = targets.ToDictionary(t => t.Name, _ => new List<(double Bytes, double CpuUs)>());
        using var clients = new ClientSet(targets);
        foreach (var t in targets) await SendAsync(clients[t.Name], t, o.Prompt, o.Requests / 4, o.Concurrency); // warm-up: JIT, pools, tiering
        await DrainAsync(pilotage);
        using var sampler = o.AllocTypes ? new AllocationSampler() : null;
        for (var round = 0; round < o.Rounds; round++)
        {
            foreach (var t in targets)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                if (sampler is not null) sampler.Enabled = true;
                var bytes = GC.GetTotalAllocatedBytes(precise: true);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
                await SendAsync(clients[t.Name], t, o.Prompt, o.Requests, o.Concurrency);
                await DrainAsync(pilotage);
                var cpuUs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / o.Requests;
                var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - bytes) / (double)o.Requests;
                results[t.Name].Add((perRequest, cpuUs));
                Console.Error.WriteLine(Invariant($"  round {round + 1} {t.Name,-16} {perRequest,9:0} B/req {cpuUs,7:0.0} CPU µs/req  GCs gen0/1/2 {GC.CollectionCount(0) - collections.Item1}/{GC.CollectionCount(1) - collections.Item2}/{GC.CollectionCount(2) - collections.Item3}"));
                if (sampler is not null)
                {
                    sampler.Enabled = false;
                    foreach (var (type, sampled) in sampler.TakeTop(25)) Console.Error.WriteLine(Invariant($"      {sampled / (double)o.Requests,8:0} B/req (sampled)  {type}"));
                }
            }
        }
        await ReportForeignMeasurementsAsync(pilotage);
        Console.WriteLine(Invariant($"\nalloc mode ({o.Protocol}): {o.Requests} requests per target and round, {o.Concurrency} in flight, {o.Rounds} rounds, {pilotage.Store}, {BenchPrompt.Describe(o.Prompt)}; medians of rounds. Includes client + upstream; 'minus direct' is the proxy's own cost."));
        Console.WriteLine("| target | B/req | CPU µs/req | minus direct: B/req | minus direct: CPU µs/req |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var direct = results["direct"];
        var db = Median(direct.Select(r => r.Bytes));
        var dc = Median(direct.Select(r => r.CpuUs));
        foreach (var t in targets)
        {
            var b = Median(results[t.Name].Select(r => r.Bytes));
            var c = Median(results[t.Name].Select(r => r.CpuUs));
            Console.WriteLine(Invariant($"| {t.Name} | {b:0} | {c:0.0} | {b - db:0} | {c - dc:0.0} |"));
        }
    }

    private static LoadTarget[] ChatTargets(BenchOptions o, string upstreamUrl, string yarpUrl, PilotageUnderTest pilotage) =>
        Only(o, new[]
        {
            new LoadTarget("direct", upstreamUrl, "", "bench-model"),
            new LoadTarget("yarp", yarpUrl, "", "bench-model"),
            new LoadTarget("pilotage-async", pilotage.Url, pilotage.Key, PilotageUnderTest.Async),
            new LoadTarget("pilotage-durable", pilotage.Url, pilotage.Key, PilotageUnderTest.Durable),
            new LoadTarget("pilotage-boundary", pilotage.Url, pilotage.Key, PilotageUnderTest.Boundary),
            new LoadTarget("yarp-responses", yarpUrl, "", "bench-model", LoadTarget.ResponsesPath),
            new LoadTarget("pilotage-responses", pilotage.Url, pilotage.Key, PilotageUnderTest.Responses, LoadTarget.ResponsesPath),
        }.Where(t => o.Responses || t.Path == LoadTarget.ChatPath));

    /// <summary>
    /// <c>--protocol responses|anthropic</c>: every target called in that API. <c>pilotage-async</c> is a system with
    /// async evidence whose upstream speaks it too (the body passes through); <c>pilotage-async-translated</c> the
    /// chat-completions system with async evidence, so the request and the answer are translated.
    /// </summary>
    private static LoadTarget[] ProtocolTargets(BenchOptions o, string upstreamUrl, string yarpUrl, PilotageUnderTest pilotage)
    {
        var path = LoadTarget.PathOf(o.Protocol);
        return Only(o,
        [
            new LoadTarget("direct", upstreamUrl, "", "bench-model", path),
            new LoadTarget("yarp", yarpUrl, "", "bench-model", path),
            new LoadTarget("pilotage-async", pilotage.Url, pilotage.Key, o.Protocol == "anthropic" ? PilotageUnderTest.AsyncAnthropic : PilotageUnderTest.AsyncResponses, path),
            new LoadTarget("pilotage-async-translated", pilotage.Url, pilotage.Key, PilotageUnderTest.Async, path),
        ]);
    }

    private static LoadTarget[] Only(BenchOptions o, IEnumerable<LoadTarget> targets) =>
        [.. targets.Where(t => o.Only.Count == 0 || t.Name == "direct" || o.Only.Contains(t.Name))];

    /// <summary>
    /// Diagnostic: the request counts that Pilotage's own /metrics holds for the HTTP server and client meters.
    /// Pilotage's OpenTelemetry listener picks meters by name, so in this one process it may also be measuring
    /// YARP's and the upstream's requests, which would make every other target pay for Pilotage's metrics.
    /// </summary>
    private static async Task ReportForeignMeasurementsAsync(PilotageUnderTest pilotage)
    {
        using var http = new HttpClient { BaseAddress = new Uri(pilotage.Url) };
        var text = await http.GetStringAsync("/metrics");
        foreach (var name in new[] { "http_server_request_duration_seconds_count", "http_client_request_duration_seconds_count" })
        {
            var total = text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            Console.Error.WriteLine(Invariant($"  Pilotage's /metrics: {name} = {total:0}"));
        }
    }

    private static async Task DrainAsync(PilotageUnderTest pilotage)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (pilotage.Writer.Stats.Queued > 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
        await Task.Delay(50); // the last batch's commit and roll-ups
    }

    private static async Task SendAsync(HttpClient client, LoadTarget target, string prompt, int count, int concurrency)
    {
        // The targets of another API ask the short question in that API's shape, as the load generator does.
        var body = target.Path != LoadTarget.ChatPath ? Encoding.UTF8.GetBytes(target.Body("Where is my parcel 42? It was due yesterday.")) : BenchPrompt.Body(prompt, target.Model);
        var next = -1;
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < count)
            {
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync(target.Path, content);
                var answer = await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"{target.Name}: {(int)response.StatusCode} {Encoding.UTF8.GetString(answer)}");
            }
        });
        await Task.WhenAll(workers);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed class ClientSet(IEnumerable<LoadTarget> targets) : IDisposable
    {
        private readonly Dictionary<string, HttpClient> _clients = targets.ToDictionary(t => t.Name, Create);

        public HttpClient this[string name] => _clients[name];

        private static HttpClient Create(LoadTarget target)
        {
            var handler = new SocketsHttpHandler { UseCookies = false, UseProxy = false, AutomaticDecompression = DecompressionMethods.None };
            var client = new HttpClient(handler) { BaseAddress = new Uri(target.Url.TrimEnd('/') + "/") };
            if (target.Bearer.Length > 0) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.Bearer);
            return client;
        }

        public void Dispose()
        {
            foreach (var c in _clients.Values) c.Dispose();
        }
    }
}
