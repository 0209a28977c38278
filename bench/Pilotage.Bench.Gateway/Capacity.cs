using System.Globalization;
using System.Net;
using System.Text;
using Npgsql;
using Pilotage.Testing;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// Capacity modes, each beside the bare YARP proxy in front of the same instant upstream:
/// <c>--sweep</c> steps connections (and keys with them) until throughput stops rising, for durable and async evidence;
/// <c>--mixed</c> runs a durable and an async system at once; <c>--replicas</c> puts two <c>pilotage serve</c> processes
/// on one PostgreSQL database behind the load generator's round-robin and compares them with one.
/// The load runs in a <c>--capacity-load</c> child (see <see cref="CapacityLoad"/>).
/// </summary>
internal static class Capacity
{
    private const string Durable = "pilotage-durable";
    private const string Async = "pilotage-async";
    private static readonly int[] DefaultSteps = [8, 16, 32, 64, 128, 256];

    public static async Task<int> RunAsync(BenchOptions o)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Pilotage gateway capacity ({o.CapacityMode}): {Environment.ProcessorCount} cores, {o.Seconds} s steps after {o.Warmup} s warm-up, {o.ConnectionsPerKey} connections per key"));
        await using var servers = await ServerChild.StartAsync(o.YarpInOwnProcess);
        var yarp = new LoadTarget("yarp", servers.YarpUrl + "/", "", "bench-model");
        Console.WriteLine($"upstream {servers.UpstreamUrl}, YARP {servers.YarpUrl}");
        if (o.CapacityMode == "replicas")
        {
            Console.WriteLine(await ReplicasAsync(o, servers.UpstreamUrl, yarp));
            return 0;
        }
        await using var pilotage = o.Store == "postgres"
            ? await PilotageUnderTest.StartPostgresAsync(PostgresServer(), servers.UpstreamUrl + "/v1")
            : await PilotageUnderTest.StartSqliteAsync(servers.UpstreamUrl + "/v1");
        Console.WriteLine($"Pilotage on {pilotage.Store} at {pilotage.Url} (in this process)");
        Console.WriteLine(o.CapacityMode == "sweep" ? await SweepAsync(o, pilotage, yarp) : await MixedAsync(o, pilotage, yarp));
        return 0;
    }

    private static int KeysFor(int connections, BenchOptions o) => Math.Max(1, (connections + o.ConnectionsPerKey - 1) / o.ConnectionsPerKey);

    private static double Rps(PhaseResult r) => r.Count / r.Seconds;

    private static string Cell(PhaseResult r) => string.Create(CultureInfo.InvariantCulture, $"{r.P50:0.00} / {r.P99:0.00}");

    private static async Task<List<string>> KeysAsync(PilotageUnderTest pilotage, int count)
    {
        using var admin = pilotage.Admin();
        return [pilotage.Key, .. await PilotageUnderTest.KeysAsync(admin, count - 1)];
    }

    private static async Task<string> SweepAsync(BenchOptions o, PilotageUnderTest pilotage, LoadTarget yarp)
    {
        var steps = o.Steps.Count > 0 ? o.Steps : [.. DefaultSteps];
        var keys = await KeysAsync(pilotage, KeysFor(steps.Max(), o));
        var s = new StringBuilder();
        s.AppendLine("| connections | keys | YARP req/s | durable req/s | async req/s | durable / YARP | async / YARP | YARP p50 / p99 ms | durable p50 / p99 ms | async p50 / p99 ms | errors |");
        s.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var (bestDurable, bestAsync) = (0.0, 0.0);
        var flat = 0;
        foreach (var connections in steps)
        {
            var bearer = string.Join(',', keys.Take(KeysFor(connections, o)));
            LoadTarget[] targets = [yarp, new(Durable, pilotage.Url + "/", bearer, PilotageUnderTest.Durable), new(Async, pilotage.Url + "/", bearer, PilotageUnderTest.Async)];
            await Orchestrator.DrainAsync(pilotage);
            var r = await RunChildAsync(o, connections, together: false, targets);
            var (y, d, a) = (r["yarp"], r[Durable], r[Async]);
            var row = string.Create(CultureInfo.InvariantCulture,
                $"| {connections} | {KeysFor(connections, o)} | {Rps(y):0} | {Rps(d):0} | {Rps(a):0} | {Rps(d) / Rps(y):0.00} | {Rps(a) / Rps(y):0.00} | {Cell(y)} | {Cell(d)} | {Cell(a)} | {y.Errors + d.Errors + a.Errors} |");
            s.AppendLine(row);
            Console.WriteLine(row);
            // Stops once neither Pilotage target gained 3 % over its own best for two steps running: saturated.
            var rose = Rps(d) > bestDurable * 1.03 || Rps(a) > bestAsync * 1.03;
            (bestDurable, bestAsync) = (Math.Max(bestDurable, Rps(d)), Math.Max(bestAsync, Rps(a)));
            flat = rose ? 0 : flat + 1;
            if (flat == 2)
            {
                s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"\nStopped at {connections} connections: two steps without 3 % more throughput (best durable {bestDurable:0}, async {bestAsync:0} req/s)."));
                break;
            }
        }
        return s.ToString();
    }

    private static async Task<string> MixedAsync(BenchOptions o, PilotageUnderTest pilotage, LoadTarget yarp)
    {
        var connections = o.Concurrency;
        var keys = await KeysAsync(pilotage, KeysFor(connections, o));
        // Half the keys and half the connections each: the two systems share the server, not a key.
        var half = Math.Max(1, keys.Count / 2);
        LoadTarget Target(string name, string model, IEnumerable<string> with) => new(name, pilotage.Url + "/", string.Join(',', with), model);
        await Orchestrator.DrainAsync(pilotage);
        var alone = await RunChildAsync(o, connections, together: false, [yarp, Target(Durable, PilotageUnderTest.Durable, keys), Target(Async, PilotageUnderTest.Async, keys)]);
        await Orchestrator.DrainAsync(pilotage);
        var mixed = await RunChildAsync(o, Math.Max(1, connections / 2), together: true,
            [Target(Durable, PilotageUnderTest.Durable, keys.Take(half)), Target(Async, PilotageUnderTest.Async, keys.Count > 1 ? keys.Skip(half) : keys)]);
        var y = Rps(alone["yarp"]);
        var total = Rps(mixed[Durable]) + Rps(mixed[Async]);
        var s = new StringBuilder();
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Mixed load: {connections} connections and {keys.Count} keys; mixed, each system gets half the connections and half the keys (both the same key when there is one)"));
        s.AppendLine();
        s.AppendLine("| load | req/s | / YARP alone | p50 / p99 ms | errors |");
        s.AppendLine("|---|---:|---:|---:|---:|");
        void Row(string name, PhaseResult r) => s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {Rps(r):0} | {Rps(r) / y:0.00} | {Cell(r)} | {r.Errors} |"));
        Row($"YARP alone, {connections} connections", alone["yarp"]);
        Row($"durable alone, {connections} connections", alone[Durable]);
        Row($"async alone, {connections} connections", alone[Async]);
        Row($"mixed: durable, {connections / 2} connections", mixed[Durable]);
        Row($"mixed: async, {connections / 2} connections", mixed[Async]);
        s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| mixed: both | {total:0} | {total / y:0.00} | – | {mixed[Durable].Errors + mixed[Async].Errors} |"));
        return s.ToString();
    }

    /// <summary>Two <c>pilotage serve</c> processes on one throwaway PostgreSQL database against one of them, same connections and keys.</summary>
    private static async Task<string> ReplicasAsync(BenchOptions o, string upstreamUrl, LoadTarget yarp)
    {
        var server = PostgresServer();
        var name = "pilotage_capacity_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];
        await PilotageUnderTest.AdminSqlAsync(server, $"CREATE DATABASE \"{name}\"");
        try
        {
            var database = new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
            await using var a = await ServerProcess.StartAsync(database);
            await using var b = await ServerProcess.StartAsync(database);
            var first = await PilotageUnderTest.SetUpAsync(a.Admin, upstreamUrl + "/v1");
            var keys = new List<string> { first };
            keys.AddRange(await PilotageUnderTest.KeysAsync(a.Admin, KeysFor(o.Concurrency, o) - 1));
            // Replica B learns of the systems and keys from A's commits.
            await ServesAsync(b.ClientFor(keys[^1]), TimeSpan.FromSeconds(30));
            var bearer = string.Join(',', keys);
            string One = a.Url + "/", Two = a.Url + "/," + b.Url + "/";
            var r = await RunChildAsync(o, o.Concurrency, together: false,
            [
                yarp,
                new("durable-1", One, bearer, PilotageUnderTest.Durable), new("durable-2", Two, bearer, PilotageUnderTest.Durable),
                new("async-1", One, bearer, PilotageUnderTest.Async), new("async-2", Two, bearer, PilotageUnderTest.Async),
            ]);
            var y = Rps(r["yarp"]);
            var s = new StringBuilder();
            s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Replicas on PostgreSQL (database {name}): {o.Concurrency} connections, {keys.Count} keys, each replica a `pilotage serve` process; two replicas share the connections round-robin."));
            s.AppendLine();
            s.AppendLine("| evidence | replicas | req/s | / YARP | p50 / p99 ms | errors |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|");
            s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| YARP (bare proxy) | – | {y:0} | 1.00 | {Cell(r["yarp"])} | {r["yarp"].Errors} |"));
            foreach (var (label, target) in new[] { ("durable", "durable-1"), ("durable", "durable-2"), ("async", "async-1"), ("async", "async-2") })
            {
                var x = r[target];
                s.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {label} | {target[^1]} | {Rps(x):0} | {Rps(x) / y:0.00} | {Cell(x)} | {x.Errors} |"));
            }
            return s.ToString();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await PilotageUnderTest.AdminSqlAsync(server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        }
    }

    private static async Task ServesAsync(HttpClient client, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            using var content = new ByteArrayContent(BenchPrompt.Body("short", PilotageUnderTest.Async));
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync("/v1/chat/completions", content);
            if (response.StatusCode == HttpStatusCode.OK) return;
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"replica B still answers {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(100);
        }
    }

    private static string PostgresServer() =>
        Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES") is { Length: > 0 } server ? server
        : throw new InvalidOperationException("set PILOTAGE_BENCH_POSTGRES to a Host=… connection string (a throwaway database is created and dropped)");

    /// <summary>Runs the load child for these targets and returns each one's result by name.</summary>
    private static async Task<Dictionary<string, PhaseResult>> RunChildAsync(BenchOptions o, int connections, bool together, LoadTarget[] targets)
    {
        string[] arguments =
        [
            "--capacity-load",
            "--seconds", o.Seconds.ToString(CultureInfo.InvariantCulture),
            "--warmup", o.Warmup.ToString(CultureInfo.InvariantCulture),
            "--concurrency", connections.ToString(CultureInfo.InvariantCulture),
            .. together ? new[] { "--together" } : [],
            .. targets.SelectMany(t => new[] { "--target", t.Format() }),
        ];
        using var child = Orchestrator.StartChild(arguments);
        child.StandardInput.Close();
        var results = new Dictionary<string, PhaseResult>(StringComparer.Ordinal);
        while (await child.StandardOutput.ReadLineAsync() is { } line)
        {
            var p = line.Split(' ');
            if (p[0] != "RESULT")
            {
                Console.WriteLine("load: " + line);
                continue;
            }
            double D(int i) => double.Parse(p[i], CultureInfo.InvariantCulture);
            results[p[1]] = new PhaseResult(int.Parse(p[2], CultureInfo.InvariantCulture), int.Parse(p[3], CultureInfo.InvariantCulture), D(4), D(5), D(6), D(7), D(8));
        }
        await child.WaitForExitAsync();
        if (child.ExitCode != 0) throw new InvalidOperationException($"the load generator failed with exit code {child.ExitCode}");
        return results;
    }
}
