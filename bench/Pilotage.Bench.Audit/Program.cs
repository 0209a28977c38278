using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Audit;
using Pilotage.Server.Storage;

// The verifiable audit log's costs (docs/audit.md): what the Merkle tree adds to each append, the time to build
// an inclusion proof from the stored nodes, and a full verify. SQLite always; PostgreSQL when
// PILOTAGE_BENCH_POSTGRES names a server (a throwaway database is created on it and dropped afterwards).
// The baseline is the same append with the tree switched off in the same run: a head whose tree is not at
// the entry before is skipped by AuditTree.Append, exactly as during a start-up catch-up.
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Audit [entries] [appends]
var entries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var appends = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;

var folder = Path.Combine(Path.GetTempPath(), "pilotage-bench-audit-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
Directory.CreateDirectory(folder);
try
{
    await RunAsync("SQLite", () => Path.Combine(folder, Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + ".db"), entries, appends);
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(folder, recursive: true);
}

var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
if (!string.IsNullOrWhiteSpace(postgres))
{
    var names = new List<string>();
    try
    {
        await RunAsync("PostgreSQL", () =>
        {
            var name = "pilotage_bench_" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture);
            names.Add(name);
            AdminAsync(postgres, $"CREATE DATABASE \"{name}\"").GetAwaiter().GetResult();
            return new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
        }, entries, appends);
    }
    finally
    {
        NpgsqlConnection.ClearAllPools();
        foreach (var name in names) await AdminAsync(postgres, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }
}

static async Task RunAsync(string label, Func<string> newDatabase, int entries, int appends)
{
    Console.WriteLine($"{label}:");
    // Appends: one command, one entry, as the control plane writes them; tree off (baseline) then on.
    var withoutTree = await OpenAsync(newDatabase());
    await withoutTree.Store.CreateDbContext().AuditHead.Where(h => h.Id == 1).ExecuteUpdateAsync(s => s.SetProperty(h => h.TreeSize, -1));
    var withTree = await OpenAsync(newDatabase());
    await AppendAsync(withoutTree.Control, 200, 1);
    await AppendAsync(withTree.Control, 200, 1);
    var baseline = await AppendAsync(withoutTree.Control, appends, 1);
    var tree = await AppendAsync(withTree.Control, appends, 1);
    Console.WriteLine($"  append, 1 entry a command:    {Micros(baseline)} µs without the tree, {Micros(tree)} µs with it: +{Micros(tree - baseline)} µs an entry ({appends} commands each)");
    var baseline100 = await AppendAsync(withoutTree.Control, appends * 5, 100);
    var tree100 = await AppendAsync(withTree.Control, appends * 5, 100);
    Console.WriteLine($"  append, 100 entries a command: {Micros(baseline100)} µs without the tree, {Micros(tree100)} µs with it: +{Micros(tree100 - baseline100)} µs an entry");

    // Fill the log to the size asked, then proofs and a full verify.
    var fill = Stopwatch.StartNew();
    var head = await withTree.Store.CreateDbContext().AuditHead.AsNoTracking().Select(h => h.Sequence).SingleAsync();
    if (entries > head) await AppendAsync(withTree.Control, (int)(entries - head), 2_000);
    head = await withTree.Store.CreateDbContext().AuditHead.AsNoTracking().Select(h => h.Sequence).SingleAsync();
    Console.WriteLine($"  filled to {head} entries in {fill.Elapsed.TotalSeconds:F1} s");

    var random = new Random(7);
    var proofs = 500;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < proofs; i++)
    {
        await using var db = withTree.Store.CreateDbContext();
        var index = random.NextInt64(head);
        var path = await AuditTree.ProveAsync(db, MerkleProofs.InclusionRanges(index, head), CancellationToken.None);
        if (path.Count == 0 && head > 1) throw new InvalidOperationException("empty proof");
    }
    Console.WriteLine($"  inclusion proof from the stored nodes: {clock.Elapsed.TotalMilliseconds / proofs:F3} ms each ({proofs} at random leaves of {head})");
    clock.Restart();
    for (var i = 0; i < proofs; i++)
    {
        await using var db = withTree.Store.CreateDbContext();
        var old = 1 + random.NextInt64(head - 1);
        await AuditTree.ProveAsync(db, MerkleProofs.ConsistencyRanges(old, head), CancellationToken.None);
    }
    Console.WriteLine($"  consistency proof: {clock.Elapsed.TotalMilliseconds / proofs:F3} ms each");

    clock.Restart();
    var result = await new AuditLogVerifier(withTree.Store, null, null).VerifyAsync(null, CancellationToken.None);
    var seconds = clock.Elapsed.TotalSeconds;
    if (!result.Ok) throw new InvalidOperationException("the benchmark log does not verify");
    Console.WriteLine($"  verify (chain + tree rebuilt) of {result.Entries} entries: {seconds:F2} s, so {seconds / result.Entries * 1_000_000:F1} s per million at this rate");
    withoutTree.Control.Dispose();
    withTree.Control.Dispose();
}

static async Task<(PilotageStore Store, ControlPlane Control)> OpenAsync(string database)
{
    var store = new PilotageStore(StoreLocation.Parse(database));
    await store.MigrateAsync(CancellationToken.None);
    return (store, new ControlPlane(store, TimeProvider.System, [], [new AuditTreeAppender()]));
}

// <summary>Appends <paramref name="count"/> entries, <paramref name="perCommand"/> a command; returns the time an entry.</summary>
static async Task<TimeSpan> AppendAsync(ControlPlane control, int count, int perCommand)
{
    var clock = Stopwatch.StartNew();
    var done = 0;
    while (done < count)
    {
        var batch = Math.Min(perCommand, count - done);
        await control.ExecuteAsync("bench@example.org", context =>
        {
            for (var i = 0; i < batch; i++) context.Audit("user.updated", $"user:{done + i}", "role: member", "role: reviewer");
            return Task.FromResult(0);
        }, CancellationToken.None);
        done += batch;
    }
    return clock.Elapsed / count;
}

static string Micros(TimeSpan t) => (t.TotalMicroseconds).ToString("F1", CultureInfo.InvariantCulture);

static async Task AdminAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
#pragma warning disable CA2100 // The database name is generated from a GUID, never input.
    await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
    await command.ExecuteNonQueryAsync();
}
