using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

// Durable-mode throughput of the evidence writer: many concurrent appenders, each waiting for its commit,
// as the gateway does per request. SQLite always; PostgreSQL when PILOTAGE_BENCH_POSTGRES names a server
// (a throwaway database is created on it and dropped afterwards).
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Evidence [records] [writers]
var records = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
var writers = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;

var folder = Path.Combine(Path.GetTempPath(), "pilotage-bench-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
Directory.CreateDirectory(folder);
try
{
    await RunAsync("SQLite", Path.Combine(folder, "evidence.db"), records, writers);
}
finally
{
    Directory.Delete(folder, recursive: true);
}

var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
if (!string.IsNullOrWhiteSpace(postgres))
{
    var name = "pilotage_bench_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);
    await AdminAsync(postgres, $"CREATE DATABASE \"{name}\"");
    try
    {
        var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
        await RunAsync("PostgreSQL", connectionString, records, writers);
    }
    finally
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync(postgres, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }
}
else
{
    Console.WriteLine("PostgreSQL: skipped (set PILOTAGE_BENCH_POSTGRES to a Host=… connection string)");
}

static async Task RunAsync(string label, string location, int records, int writers)
{
    var store = new PilotageStore(StoreLocation.Parse(location));
    await store.MigrateAsync(CancellationToken.None);
    if (store.Location.Provider == StoreProvider.Sqlite)
    {
        // Durability settings the figures depend on: a fresh connection shows the writer's defaults.
        await using var probe = new Microsoft.Data.Sqlite.SqliteConnection(store.Location.ConnectionString);
        await probe.OpenAsync();
        await using var pragma = probe.CreateCommand();
        pragma.CommandText = "SELECT (SELECT journal_mode FROM pragma_journal_mode) || ', synchronous=' || (SELECT synchronous FROM pragma_synchronous)";
        Console.WriteLine($"{label}: journal_mode={await pragma.ExecuteScalarAsync()}");
    }
    var latencies = new double[records];
    var next = -1;
    var writer = new EvidenceWriter(store, NullLogger<EvidenceWriter>.Instance);
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < records)
        {
            var row = Row(i);
            var started = Stopwatch.GetTimestamp();
            await writer.AppendAsync(row, EvidenceDurability.Durable, CancellationToken.None);
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
    })));
    clock.Stop();
    var stats = writer.Stats;
    await writer.DisposeAsync();

    Array.Sort(latencies);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label}: {records:N0} durable records from {writers} writers in {clock.Elapsed.TotalSeconds:0.00} s = {records / clock.Elapsed.TotalSeconds:N0} records/s; " +
        $"{stats.Batches:N0} batches, mean {(double)stats.RecordsWritten / stats.Batches:0.0} records/batch, failures {stats.Failures}; " +
        $"append latency p50 {Percentile(latencies, 0.50):0.00} ms, p99 {Percentile(latencies, 0.99):0.00} ms, max {latencies[^1]:0.00} ms"));
}

static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

// A typical served chat request with hashes and a short content; roughly 600 bytes per row.
static InteractionRow Row(int i) => new()
{
    Id = InteractionId.New(),
    CreatedAt = DateTimeOffset.UtcNow,
    System = "support-bot-" + (i % 8).ToString(CultureInfo.InvariantCulture),
    Phase = "pilot",
    Stage = 2,
    ConfigVersion = 7,
    UserId = i % 500,
    UserEmail = "user" + (i % 500).ToString(CultureInfo.InvariantCulture) + "@example.org",
    KeyId = "key_0123456789abcdef",
    Groups = "[\"support\",\"emea\"]",
    Endpoint = "chat",
    Mode = "live",
    Outcome = "served",
    Streamed = i % 2 == 0,
    TokensIn = 420,
    TokensOut = 180,
    Cost = 0.00123456m,
    FirstByteMs = 210.5,
    TotalMs = 1_830.25,
    UpstreamStatus = 200,
    RequestHash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ResponseHash = "sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
    RequestContent = "{\"model\":\"gpt\",\"messages\":[{\"role\":\"user\",\"content\":\"Where is my parcel 42?\"}]}",
    ResponseContent = "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"It left the depot this morning.\"}}]}",
};

static async Task AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
#pragma warning disable CA2100 // The database name is generated from a GUID, never input.
    await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
    await command.ExecuteNonQueryAsync();
}
