using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Audit;
using Pilotage.Server.Storage;

// The verifiable audit log's costs (docs/audit.md): what the Merkle tree adds to each append, the time to build
// an inclusion proof from the stored nodes, and a full verify. SQLite always; PostgreSQL when
// PILOTAGE_BENCH_POSTGRES names a server (a throwaway database is created on it and dropped afterwards).
// The baseline is the same append with the tree switched off in the same run: a head whose tree is not at
// the entry before is skipped by AuditTree.Append, exactly as during a start-up catch-up.
// Usage: dotnet run -c Release --project bench/Pilotage.Bench.Audit [entries] [appends] [sqlite|postgres|both]
var entries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
var appends = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2_000;
// Third argument: sqlite, postgres or both (the default), so a 1 M run of each fits in a few minutes.
var only = args.Length > 2 ? args[2] : "both";
const int Rounds = 9;

var folder = Path.Combine(Path.GetTempPath(), "pilotage-bench-audit-" + Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture));
Directory.CreateDirectory(folder);
try
{
    if (only != "postgres") await RunAsync("SQLite", () => Path.Combine(folder, Guid.NewGuid().ToString("N", CultureInfo.InvariantCulture) + ".db"), entries, appends);
}
finally
{
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(folder, recursive: true);
}

var postgres = Environment.GetEnvironmentVariable("PILOTAGE_BENCH_POSTGRES");
if (!string.IsNullOrWhiteSpace(postgres) && only != "sqlite")
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
    // Interleaved rounds, the median kept: a commit's fsync varies far more than the tree costs.
    // Wall time and this process's CPU time: on a shared machine the CPU time is the steadier measure of work.
    var (baseline, tree) = await CompareAsync(withoutTree.Control, withTree.Control, appends, 1);
    Console.WriteLine($"  append, 1 entry a command:     without the tree {baseline}, with it {tree}: +{Micros(tree.Wall - baseline.Wall)} µs wall, +{Micros(tree.Cpu - baseline.Cpu)} µs CPU an entry (median of {Rounds} rounds of {appends / Rounds} commands)");
    var (baseline100, tree100) = await CompareAsync(withoutTree.Control, withTree.Control, appends * 5, 100);
    Console.WriteLine($"  append, 100 entries a command: without the tree {baseline100}, with it {tree100}: +{Micros(tree100.Wall - baseline100.Wall)} µs wall, +{Micros(tree100.Cpu - baseline100.Cpu)} µs CPU an entry");

    // Fill the log to the size asked, then proofs and a full verify.
    var fill = Stopwatch.StartNew();
    var head = await withTree.Store.CreateDbContext().AuditHead.AsNoTracking().Select(h => h.Sequence).SingleAsync();
    if (entries > head) await AppendAsync(withTree.Control, (int)(entries - head), 2_000);
    head = await withTree.Store.CreateDbContext().AuditHead.AsNoTracking().Select(h => h.Sequence).SingleAsync();
    Console.WriteLine($"  filled to {head} entries in {fill.Elapsed.TotalSeconds:F1} s");

    var random = new Random(7);
    var proofs = 500;
    var clock = Stopwatch.StartNew();
    var cpu = CpuNow();
    for (var i = 0; i < proofs; i++)
    {
        await using var db = withTree.Store.CreateDbContext();
        var index = random.NextInt64(head);
        var path = await AuditTree.ProveAsync(db, MerkleProofs.InclusionRanges(index, head), CancellationToken.None);
        if (path.Count == 0 && head > 1) throw new InvalidOperationException("empty proof");
    }
    Console.WriteLine($"  inclusion proof from the stored nodes: {clock.Elapsed.TotalMilliseconds / proofs:F3} ms each, {(CpuNow() - cpu).TotalMilliseconds / proofs:F3} ms CPU ({proofs} at random leaves of {head})");
    clock.Restart();
    cpu = CpuNow();
    for (var i = 0; i < proofs; i++)
    {
        await using var db = withTree.Store.CreateDbContext();
        var old = 1 + random.NextInt64(head - 1);
        await AuditTree.ProveAsync(db, MerkleProofs.ConsistencyRanges(old, head), CancellationToken.None);
    }
    Console.WriteLine($"  consistency proof: {clock.Elapsed.TotalMilliseconds / proofs:F3} ms each, {(CpuNow() - cpu).TotalMilliseconds / proofs:F3} ms CPU");

    clock.Restart();
    cpu = CpuNow();
    var result = await new AuditLogVerifier(withTree.Store, null, null).VerifyAsync(null, CancellationToken.None);
    var seconds = clock.Elapsed.TotalSeconds;
    var cpuSeconds = (CpuNow() - cpu).TotalSeconds;
    if (!result.Ok) throw new InvalidOperationException("the benchmark log does not verify");
    Console.WriteLine($"  verify (chain + tree rebuilt) of {result.Entries} entries: {seconds:F2} s ({cpuSeconds:F2} s CPU on {Environment.ProcessorCount} cores), so {seconds / result.Entries * 1_000_000:F1} s per million at this rate ({cpuSeconds / result.Entries * 1_000_000:F1} s CPU)");
    await BreakdownAsync(withTree.Store);
    withoutTree.Control.Dispose();
    withTree.Control.Dispose();
}

static async Task<(PilotageStore Store, ControlPlane Control)> OpenAsync(string database)
{
    var store = new PilotageStore(StoreLocation.Parse(database));
    await store.MigrateAsync(CancellationToken.None);
    return (store, new ControlPlane(store, TimeProvider.System, [], [new AuditTreeAppender()]));
}

// <summary>Where a verify's time goes: reading the entries, hashing them (one core), rebuilding the tree from the leaves.</summary>
static async Task BreakdownAsync(PilotageStore store)
{
    await using var db = store.CreateDbContext();
    await db.Database.OpenConnectionAsync();
    var records = new List<(AuditRecord Record, string Hash)>();
    var clock = Stopwatch.StartNew();
    var cpu = CpuNow();
    await using (var command = db.Database.GetDbConnection().CreateCommand())
    {
        command.CommandText = "SELECT sequence, at, actor, action, subject, before, after, previous_hash, hash FROM audit_entries ORDER BY sequence";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            records.Add((new AuditRecord(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetString(7)), reader.GetString(8)));
        }
    }
    var read = clock.Elapsed;
    var readCpu = CpuNow() - cpu;
    clock.Restart();
    cpu = CpuNow();
    var leaves = new byte[records.Count][];
    using (var hasher = new AuditEntryHasher())
    {
        Span<byte> content = stackalloc byte[32];
        for (var i = 0; i < records.Count; i++)
        {
            leaves[i] = new byte[32];
            hasher.Hash(records[i].Record, content, leaves[i]);
        }
    }
    var hash = clock.Elapsed;
    var hashCpu = CpuNow() - cpu;
    clock.Restart();
    cpu = CpuNow();
    var tree = new MerkleFrontier();
    foreach (var leaf in leaves) tree.Append(leaf, null);
    var build = clock.Elapsed;
    var buildCpu = CpuNow() - cpu;
    double PerMillion(TimeSpan t) => t.TotalSeconds / records.Count * 1_000_000;
    Console.WriteLine($"  verify's parts, per million entries: read {PerMillion(read):F1} s ({PerMillion(readCpu):F1} s CPU, one query), hash both ways {PerMillion(hash):F1} s ({PerMillion(hashCpu):F1} s CPU, one core), tree rebuilt {PerMillion(build):F1} s ({PerMillion(buildCpu):F1} s CPU)");
}

// <summary>The median time an entry without and with the tree, over interleaved rounds of <paramref name="count"/> entries in all.</summary>
static async Task<(Cost Without, Cost With)> CompareAsync(ControlPlane without, ControlPlane with, int count, int perCommand)
{
    var a = new List<Cost>();
    var b = new List<Cost>();
    for (var round = 0; round < Rounds; round++)
    {
        a.Add(await AppendAsync(without, count / Rounds, perCommand));
        b.Add(await AppendAsync(with, count / Rounds, perCommand));
    }
    return (Median(a), Median(b));
}

// <summary>Appends <paramref name="count"/> entries, <paramref name="perCommand"/> a command; returns the time an entry.</summary>
static async Task<Cost> AppendAsync(ControlPlane control, int count, int perCommand)
{
    var clock = Stopwatch.StartNew();
    var cpu = CpuNow();
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
    return new Cost(clock.Elapsed / count, (CpuNow() - cpu) / count);
}

static Cost Median(List<Cost> costs) => new(costs.Select(c => c.Wall).Order().ElementAt(costs.Count / 2), costs.Select(c => c.Cpu).Order().ElementAt(costs.Count / 2));

static TimeSpan CpuNow()
{
    using var process = Process.GetCurrentProcess();
    return process.TotalProcessorTime;
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

// <summary>The time an entry took: on the clock, and on this process's CPUs.</summary>
internal readonly record struct Cost(TimeSpan Wall, TimeSpan Cpu)
{
    public override string ToString() => $"{Wall.TotalMicroseconds.ToString("F1", CultureInfo.InvariantCulture)} µs ({Cpu.TotalMicroseconds.ToString("F1", CultureInfo.InvariantCulture)} µs CPU)";
}
