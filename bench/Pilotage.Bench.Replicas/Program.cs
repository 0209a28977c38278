using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Npgsql;
using Pilotage.Testing;

// Replica propagation: two (three) `pilotage serve` processes on one PostgreSQL database. Replica A
// takes N pause/resume toggles; after each command answers, replica B's gateway is polled tightly
// (one chat request, then a short sleep) until it refuses (423) after a pause or serves (200) after a
// resume. The time from A's answer to B's first changed answer is the propagation delay. A second
// phase does the same against replica C, started with LISTEN off: the safety-net check alone.
//
// Usage: PILOTAGE_BENCH_POSTGRES='Host=127.0.0.1;Port=55433;Username=postgres;Database=postgres' \
//   dotnet run -c Release --project bench/Pilotage.Bench.Replicas -- [--toggles 100] [--poll-ms 2]
//   [--net-toggles 30] [--net-check-seconds 1]
var toggles = Arg("--toggles", 100);
var pollMs = Arg("--poll-ms", 2);
var netToggles = Arg("--net-toggles", 30);
var netCheck = Arg("--net-check-seconds", 1.0);

var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
if (string.IsNullOrWhiteSpace(postgres))
{
    Console.WriteLine("skipped: set PILOTAGE_BENCH_POSTGRES to a Host=… connection string (a throwaway database is created and dropped)");
    return 1;
}
var cpuModel = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
    : null;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"machine: {Environment.ProcessorCount} CPUs ({cpuModel ?? RuntimeInformation.ProcessArchitecture.ToString()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; " +
    $"{toggles} toggles, poll every {pollMs} ms; safety net: {netToggles} toggles, check every {netCheck} s"));

var name = "pilotage_replicas_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];
await AdminAsync(postgres, $"CREATE DATABASE \"{name}\"");
try
{
    var database = new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
    await using var upstream = await FakeUpstream.StartAsync();
    await using var a = await ServerProcess.StartAsync(database);
    await using var b = await ServerProcess.StartAsync(database);
    var netOnly = new Dictionary<string, string>
    {
        ["PILOTAGE_REPLICA_LISTEN"] = "off",
        ["PILOTAGE_REPLICA_CHECK_SECONDS"] = netCheck.ToString(CultureInfo.InvariantCulture),
    };
    await using var c = await ServerProcess.StartAsync(database, environment: netOnly);
    var key = await SetUpAsync(a, upstream.BaseUrl);
    var onB = b.ClientFor(key);
    var onC = c.ClientFor(key);
    await WaitAsync(onB, HttpStatusCode.OK, pollMs, TimeSpan.FromSeconds(30));
    await WaitAsync(onC, HttpStatusCode.OK, pollMs, TimeSpan.FromSeconds(30));

    var (listenPause, listenResume, commands) = await ToggleAsync(a, onB, toggles, pollMs, TimeSpan.Zero);
    Report("LISTEN/NOTIFY (replica B)", listenPause, listenResume);
    Report("pause/resume command on A (for scale)", commands, []);
    // A random pause before each command: otherwise every toggle follows the check that caught up
    // with the previous one, and each delay is a whole interval (the worst case, not the typical one).
    var (netPause, netResume, _) = await ToggleAsync(a, onC, netToggles, pollMs, TimeSpan.FromSeconds(netCheck));
    Report($"safety net only, check every {netCheck} s (replica C, LISTEN off)", netPause, netResume);
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await AdminAsync(postgres, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
}
return 0;

static async Task<(List<double> Pause, List<double> Resume, List<double> Commands)> ToggleAsync(ServerProcess a, HttpClient replica, int toggles, int pollMs, TimeSpan jitter)
{
    var pause = new List<double>();
    var resume = new List<double>();
    var commands = new List<double>();
    for (var i = 0; i < toggles; i++)
    {
        await Jitter(jitter);
        commands.Add(await CommandAsync(a, "pause", $"toggle {i}"));
        pause.Add((await WaitAsync(replica, (HttpStatusCode)423, pollMs, TimeSpan.FromSeconds(30))).TotalMilliseconds);
        await Jitter(jitter);
        commands.Add(await CommandAsync(a, "resume", $"toggle {i} over"));
        resume.Add((await WaitAsync(replica, HttpStatusCode.OK, pollMs, TimeSpan.FromSeconds(30))).TotalMilliseconds);
    }
    return (pause, resume, commands);
}

#pragma warning disable CA5394 // Timing jitter, not security.
static Task Jitter(TimeSpan upTo) => upTo <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(upTo * Random.Shared.NextDouble());
#pragma warning restore CA5394

static async Task<double> CommandAsync(ServerProcess a, string verb, string reason)
{
    var clock = Stopwatch.StartNew();
    using var response = await a.Admin.PostAsJsonAsync($"/api/v1/systems/bench-drafts/{verb}", new { reason });
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{verb}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    return clock.Elapsed.TotalMilliseconds;
}

// Polls the replica's gateway until it answers the expected status; the time that took.
static async Task<TimeSpan> WaitAsync(HttpClient client, HttpStatusCode expected, int pollMs, TimeSpan within)
{
    var clock = Stopwatch.StartNew();
    while (clock.Elapsed < within)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "bench-drafts", messages = new object[] { new { role = "user", content = "Where is my order?" } } });
        if (response.StatusCode == expected) return clock.Elapsed;
        if (pollMs > 0) await Task.Delay(pollMs);
    }
    throw new TimeoutException($"the replica did not answer {(int)expected} within {within}");
}

static async Task<string> SetUpAsync(ServerProcess a, string upstream)
{
    (await a.Admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner" })).EnsureSuccessStatusCode();
    (await a.Admin.PostAsJsonAsync("/api/v1/users", new { email = "mia@example.org", role = "member", groups = new List<string> { "bench-pilot" } })).EnsureSuccessStatusCode();
    using var key = await a.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "mia@example.org" });
    key.EnsureSuccessStatusCode();
    using var body = JsonDocument.Parse(await key.Content.ReadAsStringAsync());
    var spec = $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: bench-drafts
        spec:
          owner: owner@example.org
          purpose: Draft replies to support tickets
          risk: low
          upstream:
            baseUrl: {upstream}
            model: fake-model
          config:
            systemPrompt: You draft polite replies.
          pilot:
            group: bench-pilot
            mode: full
            ends: 2099-12-31
        """;
    using var content = new StringContent(spec, Encoding.UTF8, "application/yaml");
    using var applied = await a.Admin.PostAsync("/api/v1/systems/apply", content);
    if (!applied.IsSuccessStatusCode) throw new InvalidOperationException($"apply: {await applied.Content.ReadAsStringAsync()}");
    using var decided = await a.Admin.PostAsJsonAsync("/api/v1/systems/bench-drafts/decisions", new { outcome = "pilot", reason = "benchmark" });
    if (!decided.IsSuccessStatusCode) throw new InvalidOperationException($"pilot: {await decided.Content.ReadAsStringAsync()}");
    return body.RootElement.GetProperty("key").GetString()!;
}

static void Report(string what, List<double> pause, List<double> resume)
{
    var all = pause.Concat(resume).ToList();
    Console.WriteLine($"{what}:");
    Line("  all", all);
    if (resume.Count > 0)
    {
        Line("  pause → refused", pause);
        Line("  resume → served", resume);
    }
}

static void Line(string label, List<double> samples)
{
    var sorted = samples.Order().ToList();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label,-20} n={sorted.Count,4}  p50 {P(sorted, 0.50),8:0.0} ms  p95 {P(sorted, 0.95),8:0.0} ms  p99 {P(sorted, 0.99),8:0.0} ms  max {sorted[^1],8:0.0} ms  mean {sorted.Average(),8:0.0} ms"));
}

// Nearest rank.
static double P(List<double> sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

static async Task AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

T Arg<T>(string flag, T fallback) where T : IParsable<T>
{
    var i = Array.IndexOf(args, flag);
    if (i < 0) return fallback;
    if (i + 1 >= args.Length || !T.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value))
    {
        throw new ArgumentException($"{flag} needs a value, e.g. {flag} {fallback}");
    }
    return value;
}
