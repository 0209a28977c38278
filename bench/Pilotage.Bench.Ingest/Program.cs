using System.Globalization;
using System.Runtime.InteropServices;
using Npgsql;
using Pilotage.Bench.Ingest;

// Evidence at scale: N interactions (default 1 million, spread over 60 days) appended through the
// server's EvidenceWriter in async durability by many concurrent writers, reviews for about 70 % of
// them written in bulk with ReviewService's roll-up logic, then the time SystemMetrics takes to compute
// every metric of the system; the same after 10 k interactions on a fresh database; and a durable run.
// SQLite in a temp folder; PostgreSQL when PILOTAGE_BENCH_POSTGRES names a server (throwaway databases).
//
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Ingest -- [--interactions 1000000]
//   [--store sqlite|postgres|both] [--writers 32] [--durable 100000] [--small 10000]
//   [--review-batch 1000] [--metric-runs 20] [--backlog-probe 10000,100000]
// With --import N, only the bulk import path is measured instead: N rows posted as CSV files to the import endpoint;
// --import-warmup M imports M other rows first, untimed, so the figures are of code the JIT has finished optimising.
var options = IngestOptions.Parse(args);
var cpuModel = File.Exists("/proc/cpuinfo")
    ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
    : null;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"machine: {Environment.ProcessorCount} CPUs ({cpuModel ?? RuntimeInformation.ProcessArchitecture.ToString()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}; " +
    $"{options.Interactions:N0} interactions, {options.Writers} writers, durable run {options.Durable:N0}, small run {options.Small:N0}"));

if (options.Store is "sqlite" or "both")
{
    var folder = Path.Combine(Path.GetTempPath(), "pilotage-ingest-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
    Directory.CreateDirectory(folder);
    await Run("SQLite",
        name => Task.FromResult(Path.Combine(folder, name + ".db")),
        () =>
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
            return Task.CompletedTask;
        },
        options);
}

if (options.Store is "postgres" or "both")
{
    var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
    if (string.IsNullOrWhiteSpace(postgres))
    {
        Console.WriteLine("PostgreSQL: skipped (set PILOTAGE_BENCH_POSTGRES to a Host=… connection string)");
    }
    else
    {
        var created = new List<string>();
        await Run("PostgreSQL",
            async label =>
            {
                var name = "pilotage_ingest_" + label + "_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture)[..12];
                await AdminAsync(postgres, $"CREATE DATABASE \"{name}\"");
                created.Add(name);
                return new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
            },
            async () =>
            {
                NpgsqlConnection.ClearAllPools();
                foreach (var name in created) await AdminAsync(postgres, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            },
            options);
    }
}

static Task Run(string label, Func<string, Task<string>> create, Func<Task> drop, IngestOptions o) =>
    o.Import > 0 ? ImportBench.RunAsync(label, create, drop, o.Import, o.ImportWarmup) : IngestBench.RunAsync(label, create, drop, o);

static async Task AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
#pragma warning disable CA2100 // The database name is generated from a GUID, never input.
    await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
    await command.ExecuteNonQueryAsync();
}
