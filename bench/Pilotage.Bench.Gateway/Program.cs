using System.Diagnostics;
using System.Globalization;
using Pilotage.Bench.Gateway;

// Gateway overhead benchmark: an instant loopback upstream called directly, through a bare YARP
// reverse proxy, and through Pilotage (durable and async evidence), side by side in one run.
// Pilotage runs in this process; the upstream, YARP and the load generator run in child processes of the same
// executable (`--servers`, `--yarp-for`, `--load`), so their CPU, allocations and metrics are not counted as Pilotage's.
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Gateway -- [--seconds N] [--rate R] [--concurrency C] [--rounds K] [--warmup W] [--yarp-process own|shared]
// PILOTAGE_BENCH_POSTGRES=Host=…: a second pass with Pilotage on PostgreSQL (a throwaway database).

var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.WriteLine("""
        Pilotage gateway benchmark.
          --seconds N      length of each measured phase (default 5)
          --rate R         requests per second of the fixed-rate latency phase (default 200)
          --concurrency C  closed-loop workers of the throughput phase (default 32)
          --rounds K       rounds; targets rotate their order every round (default 3)
          --warmup W       seconds of closed-loop warm-up per target (default 3)
          --store S        sqlite | postgres | both (default both; postgres needs PILOTAGE_BENCH_POSTGRES)
          --responses      also the Responses API (/v1/responses) through YARP and through Pilotage (an
                           openai-responses upstream), compared with YARP carrying the same API
          --yarp-process P own (default): YARP in a process of its own, as Pilotage; shared: in the upstream's
          --mode alloc     instead: bytes allocated and CPU µs per request, in process (deterministic)
          --requests N     alloc mode: requests per target and round (default 4000; --concurrency, --rounds apply)
          --types          alloc mode: also list the most allocated types (sampled in process)
          --protocol P     alloc mode: chat (default) | responses | anthropic: direct, YARP and pilotage-async in that
                           API (its body passed through to an upstream of the same API), and pilotage-async-translated
                           (that API in front of a chat-completions upstream)
          --only NAME      only this target besides the baselines (direct; in bench mode YARP too): yarp,
                           pilotage-async, pilotage-durable, pilotage-boundary (async evidence, every built-in
                           data-boundary detector on requests and answers); repeatable
          --sweep          instead: capacity; steps connections (and keys, --connections-per-key, default 32) through
                           --steps (default 8,16,32,64,128,256) until throughput stops rising: YARP, durable, async
          --mixed          instead: a durable and an async system at once (--concurrency split between them)
          --replicas       instead: two `pilotage serve` processes on one PostgreSQL (PILOTAGE_BENCH_POSTGRES) vs one
          --prompt P       short (default: one line) | realistic (a 2 KB support conversation, same for every target)
          --suppress-auto-default-scheme
                           diagnostic: stop ASP.NET Core from making Pilotage's API-key scheme the
                           default, so it no longer authenticates (with a store query) every /v1 request
        PILOTAGE_BENCH_POSTGRES=<Npgsql connection string> adds a pass with Pilotage on PostgreSQL.
        """);
    return 0;
}
if (options.LoadMode)
{
    return await LoadGenerator.RunAsync(options);
}
if (options.ServersMode)
{
    return await ServerChild.RunAsync(options.UpstreamOnly);
}
if (options.YarpFor is { } yarpUpstream)
{
    return await ServerChild.RunYarpAsync(yarpUpstream);
}
if (options.CapacityLoad)
{
    return await CapacityLoad.RunAsync(options);
}
if (options.CapacityMode is not null)
{
    return await Capacity.RunAsync(options);
}

if (options.SuppressAutoDefaultScheme)
{
    AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
    Console.WriteLine("diagnostic: Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme = true");
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Pilotage gateway benchmark: {Environment.ProcessorCount} cores, {options.Seconds} s phases, {options.Rate} req/s fixed rate, {options.Concurrency} workers, {options.Rounds} rounds, {options.Warmup} s warm-up; GC server={System.Runtime.GCSettings.IsServerGC}"));
var total = Stopwatch.StartNew();
if (options.Mode == "alloc")
{
    // Alloc mode counts the bytes and CPU of one process, so every server is in it (see AllocMode).
    await using var upstream = await Servers.StartUpstreamAsync();
    await using var yarp = await Servers.StartYarpAsync(upstream.Url);
    Console.WriteLine($"upstream {upstream.Url}, YARP {yarp.Url} (in this process)");
    await using var measured = await PilotageUnderTest.StartSqliteAsync(upstream.Url + "/v1");
    await AllocMode.RunAsync(options, upstream.Url, yarp.Url, measured);
    return 0;
}
await using (var servers = await ServerChild.StartAsync(options.YarpInOwnProcess))
{
    var upstreamUrl = servers.UpstreamUrl;
    var yarpUrl = servers.YarpUrl;
    Console.WriteLine($"upstream {upstreamUrl}, YARP {yarpUrl} ({(options.YarpInOwnProcess ? "each in a child process of its own" : "one child process")})");
    var reports = new List<string>();
    if (options.Store != "postgres")
    {
        await using var pilotage = await PilotageUnderTest.StartSqliteAsync(upstreamUrl + "/v1");
        reports.Add(await Orchestrator.RunPassAsync("SQLite", options, upstreamUrl, yarpUrl, servers.YarpChild, pilotage));
    }
    var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
    if (options.Store == "sqlite")
    {
        reports.Add("PostgreSQL: not run (--store sqlite)\n");
    }
    else if (!string.IsNullOrWhiteSpace(postgres))
    {
        await using var pilotage = await PilotageUnderTest.StartPostgresAsync(postgres, upstreamUrl + "/v1");
        reports.Add(await Orchestrator.RunPassAsync("PostgreSQL", options, upstreamUrl, yarpUrl, servers.YarpChild, pilotage));
    }
    else
    {
        reports.Add("PostgreSQL: skipped (set PILOTAGE_BENCH_POSTGRES to a Host=… connection string)\n");
    }
    Console.WriteLine();
    foreach (var report in reports) Console.WriteLine(report);
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total {total.Elapsed.TotalSeconds:0} s"));
return 0;
