using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Pilotage.Bench.Streams;
using Pilotage.Testing;

// Streamed answers held open at once: N answers of a slow streaming model (first words after --first-ms, a few
// words every --chunk-ms, --answer-seconds in all), sent straight to the model and through Pilotage (`pilotage
// serve`, a process of its own, SQLite, async evidence), side by side in one run. Reports what was refused, the time
// to the first words (p50, p99), the Pilotage process's memory per open stream (resident, and what of it the GC
// committed) and its CPU and allocations per 1,000 events relayed, and the allocations per answer: the relay's events
// allocate next to nothing, so the bytes per event are nearly all the answers' start and end spread over their events
// (compare two --chunk-ms to tell them apart).
//
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Streams -- [--streams 2000] [--answer-seconds 5]
//   [--first-ms 500] [--chunk-ms 250] [--rounds 2] [--bounds fit|default] [--ramp-seconds 0] [--baseline DIR] [--together] [--mode full|read_only]
//   [--client-http mixed|1] [--upstream-http 2|1] [--connections run|round] [--proxy pilotage|yarp]
// --proxy yarp measures a bare YARP proxy (a process of its own, the runtime settings `pilotage serve` gives itself)
// in this build's place: what a proxy with no policy adds on the same machine.
// --ramp-seconds R opens the streams evenly over R seconds instead of all at once; with R as long as an answer, all
// are open together at the end of the ramp, as under a steady arrival rate.
// --bounds fit (the default) raises the server's in-flight bounds to the number of streams; default keeps the
// server's own, to show what they refuse. The model speaks HTTP/2 over TLS; Pilotage reaches it by HTTP/2.
// --baseline DIR also runs the pilotage.dll in DIR (another build, say main's) in each round, between the model and
// this build, so that two builds are compared on the same machine at the same moment.
// --env NAME=VALUE (repeatable) sets a variable for this build's server only, --baseline-env for the baseline's: with
// --baseline pointing at this build's own output, two settings of one build are compared (a GC setting, say).
// --alloc-types also lists, each round, the types the Pilotage process allocated most (the runtime's sampled allocation ticks).
// --hold-seconds H waits H seconds after each warm-up with the connections open and idle (to look at the process then).
// Each target's client connections are opened by a warm-up before its run and closed after it, so that only one
// target's N connections are open at a time (10,000 streams need 10,000 file descriptors on each side).
// --mode read_only serves the answers in the pilot's read-only mode (with a side-effecting tool declared, so that
// every chunk is looked at for a call to it) instead of full.
// --together runs the model's and every build's streams over the same ramp at the same moment instead (N
// connections to each build open at once): on a machine busy with other work, the work's delays then fall on all
// alike, which the p99 of one target after another cannot tell from the build's. Its client connections are opened
// once, before the first round, and kept for the run (--connections run, the default), as a busy application's pool
// keeps them; --connections round opens them anew before each round. A round's new connections are young objects in
// the server (Kestrel's state for each), which its first collections copy beside the answers' own. Each round reports
// the server's GC pauses (an EventPipe session on it: how long stopping the threads took, and where the collections'
// work went, marking by kind of root, then planning, copying and fixing references), and the run closes with the
// medians over the rounds and each round's pauses (count, median, largest, total). When a build has run two rounds or
// more, a line pools the rounds after the first: the p99 of all their answers on each side.
if (args is ["--yarp-child", var proxiedUpstream, var proxyUrl]) return await BareProxy.RunChildAsync(proxiedUpstream, proxyUrl);
var streams = Arg("--streams", 2000);
var answerSeconds = Arg("--answer-seconds", 5.0);
var firstMs = Arg("--first-ms", 500);
var chunkMs = Arg("--chunk-ms", 250);
var rounds = Arg("--rounds", 2);
var bounds = Arg("--bounds", "fit");
var ramp = TimeSpan.FromSeconds(Arg("--ramp-seconds", 0.0));
var baseline = Arg("--baseline", "");
var ownEnvironment = Pairs("--env");
var baselineEnvironment = Pairs("--baseline-env");
var hold = TimeSpan.FromSeconds(Arg("--hold-seconds", 0.0));
var together = args.Contains("--together");
var mode = Arg("--mode", "full");
var allocationTypes = args.Contains("--alloc-types");
// What this build's place holds: pilotage (`pilotage serve`, the default) or yarp (a bare YARP proxy, BareProxy).
var proxy = Arg("--proxy", "pilotage");
if (proxy is not ("pilotage" or "yarp")) throw new ArgumentException($"--proxy must be pilotage or yarp, not '{proxy}'");
// With --together, whether the client's connections are opened once for the whole run (run, the default: as a busy
// application's pool keeps them) or opened anew before each round and closed after it (round).
var connections = Arg("--connections", "run");
if (connections is not ("run" or "round")) throw new ArgumentException($"--connections must be run or round, not '{connections}'");
var keepConnections = together && connections == "run";
(StreamLoad Direct, StreamLoad[] Loads)? kept = null;
// What the client speaks to each target: mixed (the default: HTTP/2 over TLS to the model, its fastest path, and HTTP/1.1
// to Pilotage, which serves nothing else) or 1 (HTTP/1.1 to both, as an SDK left at its default does: one client,
// pointed at one or the other; a TLS connection per stream to the model). Pilotage speaks HTTP/1.1 on cleartext only
// (TLS is a proxy's in front of it), so there is no HTTP/2 to both.
var clientHttp = Arg("--client-http", "mixed");
if (clientHttp is not ("mixed" or "1")) throw new ArgumentException($"--client-http must be mixed or 1, not '{clientHttp}'");
var modelHttp2 = clientHttp == "mixed";
// What the model offers (ALPN): 2 (the default: HTTP/2 and HTTP/1.1, so Pilotage and the client take HTTP/2) or 1 (HTTP/1.1 only,
// as an upstream behind a proxy that does not speak HTTP/2: a connection per open answer).
var upstreamHttp = Arg("--upstream-http", "2");
if (upstreamHttp is not ("2" or "1")) throw new ArgumentException($"--upstream-http must be 2 or 1, not '{upstreamHttp}'");
if (upstreamHttp == "1") modelHttp2 = false;
const int PerKey = 64;
var keyCount = (streams + PerKey - 1) / PerKey;

var cpu = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
    : null;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"machine: {Environment.ProcessorCount} CPUs ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{streams} streams ({mode}, client to the model HTTP/{(modelHttp2 ? "2" : "1.1")}, to {(proxy == "yarp" ? "the proxy" : "Pilotage")} HTTP/1.1, {(proxy == "yarp" ? "the proxy" : "Pilotage")} to the model HTTP/{(upstreamHttp == "2" ? "2" : "1.1")}) {(ramp > TimeSpan.Zero ? $"opened over {ramp.TotalSeconds} s" : "opened at once")}, {answerSeconds} s answers (first words after {firstMs} ms, then every {chunkMs} ms), {keyCount} keys, bounds {bounds}, {rounds} rounds"));
if (File.Exists("/proc/loadavg")) Console.WriteLine("load average at start: " + File.ReadAllText("/proc/loadavg").Trim());

var folder = Path.Combine(Path.GetTempPath(), "pilotage-streams-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12]);
Directory.CreateDirectory(folder);
var servers = new List<(string Name, ServedProcess Server, List<string> Keys, GcPauses? Gc)>();
// Per build, each round's time added at p99 and its largest GC pause: their medians close the run.
var added = new Dictionary<string, List<(double P50, double P99, double MaxPauseMs, double DelayedPercent, (int Count, double MedianMs, double TotalMs) Pauses)>>();
// Per build, each round's times to the first words, straight and through it: pooled over the rounds after the first, a
// p99 of thousands of answers each side, where one round's p99 rests on its twenty slowest.
var firstWords = new Dictionary<string, List<(double[] Straight, double[] Through)>>();
try
{
    await using var upstream = await SlowUpstream.StartAsync(firstMs, chunkMs, answerSeconds, http2: upstreamHttp == "2");
    var pem = Path.Combine(folder, "upstream.pem");
    await File.WriteAllTextAsync(pem, upstream.CertificatePem);
    var environment = new Dictionary<string, string> { ["SSL_CERT_FILE"] = pem };
    if (bounds == "fit")
    {
        var open = streams.ToString(CultureInfo.InvariantCulture);
        environment["PILOTAGE_MAX_UPSTREAM_IN_FLIGHT"] = open;
        environment["PILOTAGE_MAX_UPSTREAM_IN_FLIGHT_PER_SYSTEM"] = open;
        environment["PILOTAGE_MAX_CONNECTIONS"] = (streams + 256).ToString(CultureInfo.InvariantCulture);
    }
    if (baseline.Length > 0)
    {
        var dll = Path.Combine(Path.GetFullPath(baseline), "pilotage.dll");
        var server = await ServerProcess.StartAsync(Path.Combine(folder, "baseline.db"), environment: With(environment, baselineEnvironment), cli: dll);
        servers.Add(("baseline" + Described(baselineEnvironment), new(server.ProcessId, server.Url, server), await SetUpAsync(server, upstream.Url + "/v1", keyCount, mode), GcPauses.TryStart(server.ProcessId, allocationTypes)));
    }
    if (proxy == "yarp")
    {
        var yarp = await BareProxy.StartAsync(upstream.Url, With(environment, ownEnvironment));
        servers.Add(("YARP" + Described(ownEnvironment), new(yarp.ProcessId, yarp.Url, yarp), ["bench"], GcPauses.TryStart(yarp.ProcessId, allocationTypes)));
    }
    else
    {
        var pilotage = await ServerProcess.StartAsync(Path.Combine(folder, "pilotage.db"), environment: With(environment, ownEnvironment));
        servers.Add(("this build" + Described(ownEnvironment), new(pilotage.ProcessId, pilotage.Url, pilotage), await SetUpAsync(pilotage, upstream.Url + "/v1", keyCount, mode), GcPauses.TryStart(pilotage.ProcessId, allocationTypes)));
    }

    for (var round = 1; round <= rounds; round++)
    {
        if (together)
        {
            await TogetherAsync(round);
            continue;
        }
        StreamResult[] straight;
        using (var direct = new StreamLoad(new Uri(upstream.Url + "/v1/"), servers[0].Keys, modelHttp2, upstream.Thumbprint))
        {
            await direct.WarmUpAsync(WarmUpStreams(direct));
            straight = await direct.RunAsync(streams, ramp);
        }
        Report($"round {round} straight to the model", straight, null);
        foreach (var (name, server, keys, gc) in servers)
        {
            using var through = new StreamLoad(new Uri(server.Url + "/v1/"), keys, http2: false, upstream.Thumbprint);
            await through.WarmUpAsync(WarmUpStreams(through));
            if (hold > TimeSpan.Zero)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {name}, pid {server.ProcessId}: warmed up, held idle for {hold.TotalSeconds} s"));
                await Task.Delay(hold);
            }
            var idle = Memory.ResidentMb(server.ProcessId);
            Console.WriteLine("    " + name + " after the warm-up: " + await Memory.IdleAsync(server.ProcessId, server.Url));
            using var sampler = await Memory.StartAsync(server.ProcessId, server.Url);
            var from = DateTime.Now;
            var proxied = await through.RunAsync(streams, ramp);
            var to = DateTime.Now;
            await RecordAsync(round, name, server, gc, straight, proxied, (idle, await sampler.StopAsync()), from, to);
        }
    }

    // --together: every target's streams over the same ramp at the same moment, so that what else the machine runs
    // delays each target alike; each target's time is compared with the model's own in the same moment.
    async Task TogetherAsync(int round)
    {
        var fresh = kept is null;
        var (direct, loads) = kept ?? (new StreamLoad(new Uri(upstream.Url + "/v1/"), servers[0].Keys, modelHttp2, upstream.Thumbprint),
            servers.Select(s => new StreamLoad(new Uri(s.Server.Url + "/v1/"), s.Keys, http2: false, upstream.Thumbprint)).ToArray());
        if (keepConnections) kept = (direct, loads);
        try
        {
            if (fresh)
            {
                await direct.WarmUpAsync(WarmUpStreams(direct));
                foreach (var load in loads) await load.WarmUpAsync(WarmUpStreams(load));
            }
            var idle = servers.Select(s => Memory.ResidentMb(s.Server.ProcessId)).ToArray();
            var samplers = await Task.WhenAll(servers.Select(s => Memory.StartAsync(s.Server.ProcessId, s.Server.Url)));
            var from = DateTime.Now;
            var runs = await Task.WhenAll([direct.RunAsync(streams, ramp), .. loads.Select(l => l.RunAsync(streams, ramp))]);
            var to = DateTime.Now;
            Report($"round {round} straight to the model, at the same time as {string.Join(" and ", servers.Select(s => s.Name))}", runs[0], null);
            for (var i = 0; i < servers.Count; i++)
            {
                var (name, server, _, gc) = servers[i];
                await RecordAsync(round, name, server, gc, runs[0], runs[i + 1], (idle[i], await samplers[i].StopAsync()), from, to);
                samplers[i].Dispose();
            }
        }
        finally
        {
            if (!keepConnections || round == rounds)
            {
                direct.Dispose();
                foreach (var load in loads) load.Dispose();
            }
        }
    }

    async Task RecordAsync(int round, string name, ServedProcess server, GcPauses? gc, StreamResult[] straight, StreamResult[] proxied, (double, Memory.Figures) memory, DateTime from, DateTime to)
    {
        Report($"round {round} through {(name.StartsWith("YARP", StringComparison.Ordinal) ? "a bare proxy" : "Pilotage")} ({name}, pid {server.ProcessId})", proxied, memory);
        var share = double.NaN;
        if (gc is not null)
        {
            var served = proxied.Where(r => r.Status == 200 && !double.IsNaN(r.FirstTokenMs)).ToArray();
            var (met, delayed) = gc.Met(served.Select(r => (r.Sent, r.FirstTokenMs)), 5);
            share = 100.0 * delayed / Math.Max(1, served.Length);
            Console.WriteLine("    " + await gc.DescribeAsync(from, to) + string.Create(CultureInfo.InvariantCulture,
                $"; delayed {met} answers, {delayed} of them ({share:0.00} %) by 5 ms or more"));
            if (gc.Phases(from, to) is { Length: > 0 } phases) Console.WriteLine("    " + phases);
            if (gc.AllocatedTypes(from, to) is { Length: > 0 } types) Console.WriteLine("    " + types);
        }
        var (p50, p99) = Compare(straight, proxied);
        if (!added.TryGetValue(name, out var figures)) added[name] = figures = [];
        figures.Add((p50, p99, gc?.Max(from, to) ?? double.NaN, share, gc?.Spread(from, to) ?? (0, double.NaN, double.NaN)));
        if (!firstWords.TryGetValue(name, out var times)) firstWords[name] = times = [];
        times.Add((First(straight), First(proxied)));
    }
    foreach (var (name, times) in firstWords)
    {
        if (times.Count < 2) continue;
        var straightAll = times.Skip(1).SelectMany(t => t.Straight).Order().ToArray();
        var throughAll = times.Skip(1).SelectMany(t => t.Through).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: rounds 2–{times.Count} pooled ({straightAll.Length} answers straight, {throughAll.Length} through): first words p50 {Pct(straightAll, 50):0.0} / {Pct(throughAll, 50):0.0} ms, p99 {Pct(straightAll, 99):0.0} / {Pct(throughAll, 99):0.0} ms; added p50 {Pct(throughAll, 50) - Pct(straightAll, 50):+0.0;-0.0} ms, p99 {Pct(throughAll, 99) - Pct(straightAll, 99):+0.0;-0.0} ms, p99.9 {Pct(throughAll, 99.9) - Pct(straightAll, 99.9):+0.0;-0.0} ms"));
    }
    foreach (var (name, figures) in added)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: over {figures.Count} rounds, added to the first words p50 median {Median(figures.Select(f => f.P50)):+0.0;-0.0} ms, p99 median {Median(figures.Select(f => f.P99)):+0.0;-0.0} ms (rounds: {string.Join(", ", figures.Select(f => f.P99.ToString("+0.0;-0.0", CultureInfo.InvariantCulture)))}); GC pauses a round (count, median, largest, total): {string.Join(", ", figures.Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Pauses.Count} / {f.Pauses.MedianMs:0.0} / {f.MaxPauseMs:0.0} / {f.Pauses.TotalMs:0} ms")))}; largest GC pause median {Median(figures.Select(f => f.MaxPauseMs)):0.0} ms; answers a pause delayed by 5 ms or more, median {Median(figures.Select(f => f.DelayedPercent)):0.00} % (rounds: {string.Join(", ", figures.Select(f => f.DelayedPercent.ToString("0.00", CultureInfo.InvariantCulture)))})"));
    }
}
finally
{
    foreach (var (_, server, _, gc) in servers)
    {
        gc?.Dispose();
        await server.DisposeAsync();
    }
    Directory.Delete(folder, recursive: true);
}
return 0;

void Report(string what, StreamResult[] results, (double Idle, Memory.Figures Round)? memory)
{
    var ok = results.Where(r => r.Status == 200).ToArray();
    var refused = results.Where(r => r.Status != 200).GroupBy(r => r.Status).Select(g => $"{g.Count()}×{(g.Key == 0 ? "failed" : g.Key.ToString(CultureInfo.InvariantCulture))}");
    var first = ok.Select(r => r.FirstTokenMs).Where(d => !double.IsNaN(d)).Order().ToArray();
    var total = ok.Select(r => r.TotalMs).Order().ToArray();
    var line = string.Create(CultureInfo.InvariantCulture,
        $"{what}: {ok.Length} served, refused {(refused.Any() ? string.Join(", ", refused) : "none")}; first words p50 {Pct(first, 50):0} ms, p99 {Pct(first, 99):0} ms; whole answer p50 {Pct(total, 50):0} ms, p99 {Pct(total, 99):0} ms; {(ok.Length == 0 ? 0 : ok.Average(r => r.Chunks)):0.0} chunks each");
    if (memory is { } m)
    {
        var (idle, round) = m;
        var events = Math.Max(1, ok.Sum(r => (long)r.Events));
        line += string.Create(CultureInfo.InvariantCulture,
            $"\n    memory {idle:0} → {round.PeakMb:0} MB peak resident ({round.GcCommittedPeakMb:0} MB committed by the GC at its peak), {(round.PeakMb - idle) * 1024 / Math.Max(1, ok.Length):0} KB per open stream" +
            $"\n    CPU {round.CpuSeconds:0.00} s ({round.CpuSeconds * 1000 / events * 1000:0} ms per 1,000 events relayed, {events} events), allocated {round.AllocatedMb:0} MB ({round.AllocatedMb * 1024 * 1024 / events:0} B per event, {round.AllocatedMb * 1024 / Math.Max(1, ok.Length):0.0} KB per answer)");
    }
    Console.WriteLine(line);
}

static double[] First(StreamResult[] r) => r.Where(x => x.Status == 200 && !double.IsNaN(x.FirstTokenMs)).Select(x => x.FirstTokenMs).Order().ToArray();

(double P50, double P99) Compare(StreamResult[] straight, StreamResult[] proxied)
{
    var (a, b) = (First(straight), First(proxied));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    added to the first words: p50 {Pct(b, 50) - Pct(a, 50):+0.0;-0.0} ms, p99 {Pct(b, 99) - Pct(a, 99):+0.0;-0.0} ms"));
    return (Pct(b, 50) - Pct(a, 50), Pct(b, 99) - Pct(a, 99));
}

// Over HTTP/2 a few hundred streams at once open the connections all N will share; over HTTP/1.1 each needs its own.
int WarmUpStreams(StreamLoad load) => load.Http2 ? Math.Min(streams, 200) : streams;

static double Median(IEnumerable<double> values)
{
    var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
    return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static double Pct(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

static async Task<List<string>> SetUpAsync(ServerProcess server, string upstream, int keyCount, string mode)
{
    (await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" })).EnsureSuccessStatusCode();
    (await server.Admin.PostAsJsonAsync("/api/v1/users", new { email = "apps@example.org", role = "member", groups = new List<string> { "bench-pilot" } })).EnsureSuccessStatusCode();
    var spec = $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: bench-streams
        spec:
          owner: owner@example.org
          purpose: Draft replies to support tickets
          risk: low
          upstream:
            baseUrl: {upstream}
            model: bench-model
          config:
            systemPrompt: You draft polite replies.
          pilot:
            group: bench-pilot
            mode: {mode}
            ends: 2099-12-31
          evidence: {"{ durability: async }"}
        {(mode == "read_only" ? "  tools:\n    sideEffecting: [send_email]" : "")}
        """;
    using (var yaml = new StringContent(spec, Encoding.UTF8, "application/yaml"))
    {
        using var applied = await server.Admin.PostAsync("/api/v1/systems/apply", yaml);
        if (!applied.IsSuccessStatusCode) throw new InvalidOperationException("apply: " + await applied.Content.ReadAsStringAsync());
    }
    (await server.Admin.PostAsJsonAsync("/api/v1/systems/bench-streams/decisions", new { outcome = "pilot", reason = "bench" })).EnsureSuccessStatusCode();
    var keys = new List<string>();
    for (var i = 0; i < keyCount; i++)
    {
        using var created = await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "apps@example.org", name = $"app-{i}" });
        created.EnsureSuccessStatusCode();
        using var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        keys.Add(json.RootElement.GetProperty("key").GetString()!);
    }
    return keys;
}

List<(string Name, string Value)> Pairs(string option) =>
    [.. args.Select((a, i) => (a, i)).Where(x => x.a == option && x.i + 1 < args.Length).Select(x => args[x.i + 1].Split('=', 2)).Select(p => (p[0], p.Length > 1 ? p[1] : ""))];

static Dictionary<string, string> With(Dictionary<string, string> common, List<(string Name, string Value)> own)
{
    var all = new Dictionary<string, string>(common);
    foreach (var (name, value) in own) all[name] = value;
    return all;
}

static string Described(List<(string Name, string Value)> own) => own.Count == 0 ? "" : ", " + string.Join(" ", own.Select(p => $"{p.Name}={p.Value}"));

T Arg<T>(string name, T fallback)
{
    var i = Array.IndexOf(args, name);
    if (i < 0 || i + 1 >= args.Length) return fallback;
    return (T)Convert.ChangeType(args[i + 1], typeof(T), CultureInfo.InvariantCulture);
}
