using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Bench.Ingest;

internal sealed record IngestOptions(int Interactions, string Store, int Writers, int Durable, int Small, int ReviewBatch, int MetricRuns, int[] BacklogProbe, int Import = 0, int ImportWarmup = 0)
{
    public static IngestOptions Parse(string[] args)
    {
        var options = new IngestOptions(1_000_000, "both", 32, 100_000, 10_000, 1_000, 20, [10_000, 100_000]);
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            options = args[i] switch
            {
                "--interactions" => options with { Interactions = Int() },
                "--store" => options with { Store = Next() },
                "--import" => options with { Import = Int() },
                "--import-warmup" => options with { ImportWarmup = Int() },
                "--writers" => options with { Writers = Int() },
                "--durable" => options with { Durable = Int() },
                "--small" => options with { Small = Int() },
                "--review-batch" => options with { ReviewBatch = Int() },
                "--metric-runs" => options with { MetricRuns = Int() },
                "--backlog-probe" => options with
                {
                    BacklogProbe = Next().Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
                },
                _ => throw new ArgumentException($"unknown option {args[i]}; see the header of Program.cs"),
            };
        }
        if (options.Store is not ("sqlite" or "postgres" or "both")) throw new ArgumentException("--store is sqlite, postgres or both");
        return options;
    }
}

/// <summary>One store's pass: a large database (ingest, reviews, metrics, backlog probe, durable run) and a small one (metrics).</summary>
internal static class IngestBench
{
    public static async Task RunAsync(string label, Func<string, Task<string>> createDatabase, Func<Task> dropDatabases, IngestOptions options)
    {
        try
        {
            Console.WriteLine($"== {label} ==");
            var large = await createDatabase("large");
            await using (var server = await BenchServer.StartAsync(large))
            {
                Console.WriteLine(Invariant($"{label}: store {server.Store.Location.Describe()}; system {server.System.Slug} ({server.System.Phase}, stage {server.System.Stage}, config v{server.System.ConfigVersion})"));
                var workload = new Workload(server.System, options.Interactions, options.Interactions + options.Durable, DateTimeOffset.UtcNow);
                await IngestAsync(label, server, workload, 0, options.Interactions, EvidenceDurability.Async, options.Writers);
                var reviewed = await ReviewAsync(label, server, workload, options.ReviewBatch);
                await DescribeAsync(label, server, options.Interactions, reviewed);
                await MetricsAsync(label, server, options.MetricRuns, $"{options.Interactions:N0} interactions");
                await AnalyzedMetricsAsync(label, server, options.MetricRuns, $"{options.Interactions:N0} interactions");
                await BacklogProbeAsync(label, server, options);
                if (options.Durable > 0)
                {
                    await IngestAsync(label, server, workload, options.Interactions, options.Durable, EvidenceDurability.Durable, options.Writers);
                }
            }
            if (options.Small > 0)
            {
                var small = await createDatabase("small");
                await using var server = await BenchServer.StartAsync(small);
                var workload = new Workload(server.System, options.Small, options.Small, DateTimeOffset.UtcNow);
                await IngestAsync(label, server, workload, 0, options.Small, EvidenceDurability.Async, options.Writers);
                var reviewed = await ReviewAsync(label, server, workload, options.ReviewBatch);
                await DescribeAsync(label, server, options.Small, reviewed);
                await MetricsAsync(label, server, options.MetricRuns, $"{options.Small:N0} interactions (fresh database)");
                await AnalyzedMetricsAsync(label, server, options.MetricRuns, $"{options.Small:N0} interactions (fresh database)");
            }
        }
        finally
        {
            await dropDatabases();
        }
    }

    /// <summary>
    /// Appends interactions <paramref name="first"/> … through the server's evidence writer from
    /// <paramref name="writers"/> concurrent tasks; the clock stops once the writer has committed them all.
    /// </summary>
    private static async Task IngestAsync(string label, BenchServer server, Workload workload, int first, int count, EvidenceDurability durability, int writers)
    {
        var writer = server.Writer;
        var before = writer.Stats;
        var latencies = durability == EvidenceDurability.Durable ? new double[count] : null;
        var next = first - 1;
        var end = first + count;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var progress = new CancellationTokenSource();
        var reporter = ReportAsync(label, writer, before.RecordsWritten, count, clock, progress.Token);
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < end)
            {
                var row = workload.NewInteraction(i);
                var started = Stopwatch.GetTimestamp();
                await writer.AppendAsync(row, durability, CancellationToken.None);
                if (latencies is not null) latencies[i - first] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })));
        var enqueued = clock.Elapsed;
        // Async appends return once queued: wait until the writer has committed (or lost) every record.
        while (true)
        {
            var now = writer.Stats;
            if (now.RecordsWritten - before.RecordsWritten + (now.AsyncRecordsLost - before.AsyncRecordsLost) >= count) break;
            await Task.Delay(2);
        }
        clock.Stop();
        await progress.CancelAsync();
        await reporter;
        var cpuUsed = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var after = writer.Stats;
        var batches = after.Batches - before.Batches;
        var written = after.RecordsWritten - before.RecordsWritten;
        var line = Invariant(
            $"{label}: INGEST {durability.ToString().ToLowerInvariant()} {count:N0} interactions, {writers} writers: {clock.Elapsed.TotalSeconds:0.0} s = {count / clock.Elapsed.TotalSeconds:N0} interactions/s (all queued after {enqueued.TotalSeconds:0.0} s); {batches:N0} commits, {(double)written / Math.Max(1, batches):0} records/commit; failures {after.Failures - before.Failures}, async lost {after.AsyncRecordsLost - before.AsyncRecordsLost}; process CPU {cpuUsed:0.0} s = {cpuUsed / clock.Elapsed.TotalSeconds:0.00} cores");
        if (latencies is not null)
        {
            Array.Sort(latencies);
            line += Invariant($"; append latency p50 {Percentile(latencies, 0.50):0.00} ms, p99 {Percentile(latencies, 0.99):0.00} ms, max {latencies[^1]:0.0} ms");
        }
        Console.WriteLine(line);
    }

    private static async Task ReportAsync(string label, EvidenceWriter writer, long baseline, int count, Stopwatch clock, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(15), ct);
                var written = writer.Stats.RecordsWritten - baseline;
                Console.WriteLine(Invariant($"{label}:   … {written:N0}/{count:N0} committed after {clock.Elapsed.TotalSeconds:0} s ({written / clock.Elapsed.TotalSeconds:N0}/s)"));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Records the reviews in bulk with ReviewService's roll-up logic: per batch one transaction that
    /// inserts the review rows, applies the <see cref="Pilotage.Core.Evidence.EvidenceTotals.ForReview"/> deltas with
    /// <see cref="RollupWriter.ApplyAsync"/> and closes the reviewed queue items. Every review is a first
    /// review, so the lookup of a previous one (and its retraction) is skipped.
    /// </summary>
    private static async Task<int> ReviewAsync(string label, BenchServer server, Workload workload, int batchSize)
    {
        var indexes = Enumerable.Range(0, workload.Count).Where(workload.IsReviewed).ToArray();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        for (var offset = 0; offset < indexes.Length; offset += batchSize)
        {
            var batch = indexes.AsSpan(offset, Math.Min(batchSize, indexes.Length - offset)).ToArray();
            await using var db = server.Store.CreateDbContext();
            // Begun before anything is read, as ReviewService does: BEGIN IMMEDIATE on SQLite.
            await using var transaction = await db.Database.BeginTransactionAsync();
            var delta = new RollupDelta();
            var doneAt = new Dictionary<string, DateTimeOffset>(batch.Length, StringComparer.Ordinal);
            foreach (var i in batch)
            {
                var row = workload.Recorded(i);
                var review = Workload.Review(row, i);
                delta.Add(RollupKey.Of(row), Workload.TotalsOf(review));
                db.Reviews.Add(review);
                doneAt[row.Id] = review.ReviewedAt;
            }
            await RollupWriter.ApplyAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), delta, CancellationToken.None);
            var ids = doneAt.Keys.ToList();
            foreach (var item in await db.ReviewItems.Where(r => ids.Contains(r.InteractionId)).ToListAsync())
            {
                if (item.State != "pending") continue;
                item.State = "done";
                item.DoneAt = doneAt[item.InteractionId];
            }
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
            if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(15))
            {
                lastReport = clock.Elapsed;
                Console.WriteLine(Invariant($"{label}:   … {offset + batch.Length:N0}/{indexes.Length:N0} reviews after {clock.Elapsed.TotalSeconds:0} s"));
            }
        }
        clock.Stop();
        var cpuUsed = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        Console.WriteLine(Invariant(
            $"{label}: REVIEWS {indexes.Length:N0} ({100.0 * indexes.Length / workload.Count:0.0} % of the interactions) in batches of {batchSize:N0}: {clock.Elapsed.TotalSeconds:0.0} s = {indexes.Length / clock.Elapsed.TotalSeconds:N0} reviews/s; process CPU {cpuUsed / clock.Elapsed.TotalSeconds:0.00} cores"));
        return indexes.Length;
    }

    /// <summary>What the metrics read, and a check that the roll-ups count every interaction and review.</summary>
    private static async Task DescribeAsync(string label, BenchServer server, int interactions, int reviews)
    {
        await using var db = server.Store.CreateDbContext();
        var slug = server.System.Slug;
        var rollups = await db.Rollups.CountAsync(r => r.System == slug);
        var latency = await db.RollupLatency.CountAsync(r => r.System == slug);
        var active = await db.ActiveUsers.CountAsync(a => a.System == slug);
        var pending = await db.ReviewItems.CountAsync(i => i.System == slug && i.State == "pending");
        var stored = await db.Interactions.CountAsync(i => i.System == slug);
        var view = await server.Metrics.ComputeAsync(slug, new MetricFilter(), CancellationToken.None);
        var ok = view.Totals.Requests == interactions && view.Totals.Reviewed == reviews && stored == interactions;
        Console.WriteLine(Invariant(
            $"{label}: DATA {stored:N0} interaction rows; metrics read {rollups:N0} roll-up rows, {latency:N0} latency rows, {active:N0} active-user rows, {pending:N0} pending queue items; roll-ups count {view.Totals.Requests:N0} requests and {view.Totals.Reviewed:N0} reviews ({(ok ? "match" : "MISMATCH")}); {view.Metrics.Count} metrics{await SizeAsync(server)}"));
        if (!ok) throw new InvalidOperationException("the roll-ups do not match the evidence written");
    }

    private static async Task<string> SizeAsync(BenchServer server)
    {
        var location = server.Store.Location;
        if (location.Provider == StoreProvider.Sqlite)
        {
            var path = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(location.ConnectionString).DataSource;
            long bytes = 0;
            foreach (var suffix in new[] { "", "-wal" })
            {
                if (File.Exists(path + suffix)) bytes += new FileInfo(path + suffix).Length;
            }
            return Invariant($"; database file {bytes / 1048576.0:N0} MiB");
        }
        await using var connection = new Npgsql.NpgsqlConnection(location.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT pg_database_size(current_database())", connection);
        var size = (long)(await command.ExecuteScalarAsync())!;
        return Invariant($"; database size {size / 1048576.0:N0} MiB");
    }

    /// <summary>One cold call, then <paramref name="runs"/> timed calls of the metrics the API serves.</summary>
    private static async Task<(double Median, double P95)> MetricsAsync(string label, BenchServer server, int runs, string what)
    {
        var metrics = server.Metrics;
        var slug = server.System.Slug;
        var clock = Stopwatch.StartNew();
        await metrics.ComputeAsync(slug, new MetricFilter(), CancellationToken.None);
        var cold = clock.Elapsed.TotalMilliseconds;
        var times = new double[runs];
        for (var r = 0; r < runs; r++)
        {
            clock.Restart();
            await metrics.ComputeAsync(slug, new MetricFilter(), CancellationToken.None);
            times[r] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        var median = runs % 2 == 1 ? times[runs / 2] : (times[runs / 2 - 1] + times[runs / 2]) / 2;
        var p95 = times[Math.Max(0, (int)Math.Ceiling(0.95 * runs) - 1)];
        Console.WriteLine(Invariant(
            $"{label}: METRICS after {what}: first call {cold:0.0} ms; {runs} calls median {median:0.0} ms, p95 {p95:0.0} ms, min {times[0]:0.0} ms, max {times[^1]:0.0} ms"));
        return (median, p95);
    }

    /// <summary>
    /// PostgreSQL plans from statistics that autovacuum refreshes some time after a bulk load: the same
    /// calls again once the tables the metrics read are analysed (the steady state of a running server).
    /// </summary>
    private static async Task AnalyzedMetricsAsync(string label, BenchServer server, int runs, string what)
    {
        if (server.Store.Location.Provider != StoreProvider.PostgreSql) return;
        await using (var db = server.Store.CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("ANALYZE rollups, rollup_latency, active_users, review_items");
        }
        await MetricsAsync(label, server, runs, what + ", tables analysed");
    }

    /// <summary>
    /// SystemMetrics also reads the enqueue time of every pending queue item: reopen reviewed items
    /// (queue state only, the roll-ups are untouched) to see what a larger backlog costs.
    /// </summary>
    private static async Task BacklogProbeAsync(string label, BenchServer server, IngestOptions options)
    {
        var reopened = 0;
        foreach (var extra in options.BacklogProbe.Order())
        {
            var more = extra - reopened;
            if (more <= 0) continue;
            await using (var db = server.Store.CreateDbContext())
            {
                await db.Database.ExecuteSqlAsync(
                    $"UPDATE review_items SET state = 'pending', done_at = NULL WHERE interaction_id IN (SELECT interaction_id FROM review_items WHERE state = 'done' ORDER BY interaction_id LIMIT {more})");
            }
            reopened = extra;
            await using (var db = server.Store.CreateDbContext())
            {
                var pending = await db.ReviewItems.CountAsync(i => i.System == server.System.Slug && i.State == "pending");
                // The kept count (enqueued per batch by the evidence writer, reopened by the trigger) must equal the scan.
                var kept = await db.ReviewBacklog.Where(b => b.System == server.System.Slug).Select(b => b.Pending).FirstOrDefaultAsync();
                if (kept != pending) throw new InvalidOperationException($"review_backlog says {kept} pending, the queue holds {pending}");
                await MetricsAsync(label, server, options.MetricRuns, $"{options.Interactions:N0} interactions with {pending:N0} pending queue items (probe)");
            }
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
