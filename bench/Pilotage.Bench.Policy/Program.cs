using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pilotage.Server.Hosting;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

// The policy snapshot at scale: a store with N systems and M keys (default 10 k and 100 k, ten keys a user),
// then, on a cache of its own, a whole rebuild (what every replica did on every change) against a catch-up after
// one system's pause (what a change costs now: its entries read, one system row reloaded, one shard re-frozen).
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Policy -- [--systems 10000] [--keys 100000] [--rounds 5] [--store sqlite|postgres|both]
// PILOTAGE_BENCH_POSTGRES=Host=…: the PostgreSQL pass (a throwaway database, created and dropped).
var systems = Arg("--systems", 10_000);
var keys = Arg("--keys", 100_000);
var rounds = Arg("--rounds", 5);
var storeArg = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault() ?? "both";
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Policy snapshot bench: {Environment.ProcessorCount} cores, {systems:N0} systems, {keys:N0} keys ({keys / 10:N0} users), {rounds} rounds"));

if (storeArg != "postgres")
{
    var folder = Path.Combine(Path.GetTempPath(), "pilotage-policybench-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
    Directory.CreateDirectory(folder);
    try
    {
        await RunAsync("SQLite", Path.Combine(folder, "pilotage.db"));
    }
    finally
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }
}
var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
if (storeArg != "sqlite" && !string.IsNullOrWhiteSpace(postgres))
{
    var name = "pilotage_policybench_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];
    await AdminAsync(postgres, $"CREATE DATABASE \"{name}\"");
    try
    {
        await RunAsync("PostgreSQL", new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString);
    }
    finally
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync(postgres, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }
}
else if (storeArg != "sqlite")
{
    Console.WriteLine("PostgreSQL: skipped (set PILOTAGE_BENCH_POSTGRES)");
}
return 0;

async Task RunAsync(string label, string database)
{
    var app = PilotageApp.Build(new PilotageServerOptions
    {
        Database = database,
        Urls = "http://127.0.0.1:0",
        AdminToken = "bench",
        CredentialsPath = "",
        LogLevel = LogLevel.Warning,
        Announce = TextWriter.Null,
    });
    await using var _ = app;
    var url = await PilotageApp.StartAsync(app, CancellationToken.None);
    using var admin = new HttpClient { BaseAddress = new Uri(url) };
    admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "bench");
    (await admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner", groups = Array.Empty<string>() })).EnsureSuccessStatusCode();
    using (var yaml = new StringContent(Spec("bench-0"), Encoding.UTF8, "application/yaml"))
    {
        (await admin.PostAsync("/api/v1/systems/apply", yaml)).EnsureSuccessStatusCode();
    }
    var store = app.Services.GetRequiredService<PilotageStore>();
    var filling = Stopwatch.StartNew();
    await FillAsync(store, systems, keys);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"== {label}: filled in {filling.Elapsed.TotalSeconds:0.0} s"));

    // A cache of its own, not told of commands: each timing is its work alone.
    using var cache = new PolicyCache(store, NullLogger<PolicyCache>.Instance);
    var control = app.Services.GetRequiredService<ControlPlane>();
    var whole = new List<double>();
    var scoped = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        GC.Collect();
        var watch = Stopwatch.StartNew();
        await cache.RefreshAsync(CancellationToken.None);
        whole.Add(watch.Elapsed.TotalMilliseconds);
        var slug = $"bench-{1 + round * 7 % (systems - 1)}";
        await control.ExecuteAsync("bench", async command =>
        {
            var row = await command.Db.Systems.SingleAsync(s => s.Slug == slug);
            row.PausedAt = command.Now;
            row.PausedBy = "bench";
            row.PauseReason = $"round {round}";
            command.Audit("system.paused", $"system:{slug}", null, null);
            return true;
        }, CancellationToken.None);
        var before = cache.Current;
        GC.Collect();
        watch.Restart();
        await cache.CatchUpAsync(CancellationToken.None);
        scoped.Add(watch.Elapsed.TotalMilliseconds);
        if (cache.Current.Systems[slug].State.Pause is null) throw new InvalidOperationException("the catch-up missed the pause");
        var other = $"bench-{(round * 7 + 2) % systems}";
        if (other != slug && !ReferenceEquals(before.Systems[other], cache.Current.Systems[other])) throw new InvalidOperationException("another system was rebuilt");
    }
    var snapshot = cache.Current;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"snapshot: {snapshot.Systems.Count:N0} systems, {snapshot.Keys.Count:N0} keys, {snapshot.People.Count:N0} people; rebuilds whole {cache.Rebuilds.Whole}, scoped {cache.Rebuilds.Scoped}"));
    Console.WriteLine("| rebuild | median ms | min ms | max ms | per round ms |");
    Console.WriteLine("|---|---:|---:|---:|---|");
    foreach (var (name, times) in new[] { ("whole (every change before)", whole), ("one system's pause (catch-up)", scoped) })
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {Median(times):0.00} | {times.Min():0.00} | {times.Max():0.00} | {string.Join(" / ", times.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))} |"));
    }
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio whole / scoped: {Median(whole) / Median(scoped):0}x"));
    await app.StopAsync();
}

static async Task FillAsync(PilotageStore store, int systems, int keys)
{
    string specJson;
    await using (var db = store.CreateDbContext())
    {
        specJson = (await db.Systems.AsNoTracking().SingleAsync(s => s.Slug == "bench-0")).SpecJson;
    }
    // Rows as the catalog writes them, copied from the applied system with another name.
    for (var start = 1; start < systems; start += 2000)
    {
        await using var db = store.CreateDbContext();
        var template = await db.Systems.AsNoTracking().SingleAsync(s => s.Slug == "bench-0");
        for (var i = start; i < Math.Min(systems, start + 2000); i++)
        {
            var slug = $"bench-{i}";
            db.Systems.Add(Copy(template, slug, specJson.Replace("\"bench-0\"", $"\"{slug}\"", StringComparison.Ordinal)));
        }
        await db.SaveChangesAsync();
    }
    var users = keys / 10;
    var hash = new byte[32];
    for (var start = 0; start < users; start += 1000)
    {
        await using var db = store.CreateDbContext();
        var batch = Enumerable.Range(start, Math.Min(1000, users - start))
            .Select(i => new UserRow { Email = $"user{i}@example.org", Role = "member", CreatedAt = DateTimeOffset.UtcNow }).ToList();
        db.Users.AddRange(batch);
        await db.SaveChangesAsync();
        foreach (var user in batch)
        {
            for (var k = 0; k < 10; k++) db.ApiKeys.Add(new ApiKeyRow { Id = $"k{user.Id:x}x{k}", UserId = user.Id, SecretHash = hash, CreatedAt = DateTimeOffset.UtcNow });
        }
        await db.SaveChangesAsync();
    }
}

static AiSystemRow Copy(AiSystemRow t, string slug, string specJson)
{
    var row = (AiSystemRow)typeof(AiSystemRow).GetMethod("MemberwiseClone", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.Invoke(t, null)!;
    row.Id = 0;
    row.Slug = slug;
    row.SpecJson = specJson;
    return row;
}

static string Spec(string name) => $"""
    apiVersion: pilotage/v1
    kind: AiSystem
    metadata:
      name: {name}
    spec:
      owner: owner@example.org
      purpose: Policy snapshot benchmark
      risk: low
      upstream:
        baseUrl: http://127.0.0.1:9/v1
        model: bench-model
        pricePer1kInput: 0.5
        pricePer1kOutput: 1.5
      config:
        systemPrompt: You draft polite replies to support tickets.
        temperature: 0.2
      pilot:
        group: bench
        mode: full
        ends: 2099-12-31
    """;

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
}

static async Task AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

int Arg(string name, int fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
