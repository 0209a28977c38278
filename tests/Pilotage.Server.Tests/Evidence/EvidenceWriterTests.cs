using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>The evidence writer: batching, durability, failures and back-pressure (columns: EvidenceWriterTests.Columns.cs).</summary>
public sealed partial class EvidenceWriterTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    [Fact]
    public async Task Sqlite_durable_appends_from_many_tasks_are_readable_on_return_batched_and_read_back_unchanged()
    {
        using var folder = new TempDirectory();
        await DurableConcurrentAsync(await StoreAsync(folder.File("evidence.db")));
    }

    [PostgresFact]
    public async Task Postgres_durable_appends_from_many_tasks_are_readable_on_return_batched_and_read_back_unchanged()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await DurableConcurrentAsync(await StoreAsync(database.ConnectionString));
    }

    [Fact]
    public async Task Sqlite_durable_append_faults_while_the_table_is_missing_and_succeeds_once_it_is_back()
    {
        using var folder = new TempDirectory();
        await BrokenTableAsync(await StoreAsync(folder.File("evidence.db")));
    }

    [PostgresFact]
    public async Task Postgres_durable_append_faults_while_the_table_is_missing_and_succeeds_once_it_is_back()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await BrokenTableAsync(await StoreAsync(database.ConnectionString));
    }

    [Fact]
    public async Task Sqlite_roll_ups_queue_items_and_approvals_commit_with_their_batch_or_not_at_all()
    {
        using var folder = new TempDirectory();
        await FollowUpsAsync(await StoreAsync(folder.File("evidence.db")));
    }

    [PostgresFact]
    public async Task Postgres_roll_ups_queue_items_and_approvals_commit_with_their_batch_or_not_at_all()
    {
        // On PostgreSQL these statements go to the server in one round trip after the COPY.
        await using var database = await PostgresDatabase.CreateAsync();
        await FollowUpsAsync(await StoreAsync(database.ConnectionString));
    }

    [PostgresFact]
    public async Task Postgres_writer_reconnects_transparently_when_its_connection_was_terminated()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var store = await StoreAsync(database.ConnectionString);
        await using var writer = NewWriter(store);
        var first = EvidenceRows.Make(1);
        await writer.AppendAsync(first, EvidenceDurability.Durable, Ct);

        await using (var admin = new NpgsqlConnection(database.ConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", admin);
            Assert.True((long)(await kill.ExecuteScalarAsync())! >= 1);
        }
        // EF's pooled connections were terminated too; the test reads through fresh ones.
        NpgsqlConnection.ClearAllPools();

        var second = EvidenceRows.Make(2);
        await writer.AppendAsync(second, EvidenceDurability.Durable, Ct);
        Assert.Equal(0, writer.Stats.Failures);
        Assert.Equal(2, await CountAsync(store));
    }

    [Fact]
    public async Task Sqlite_write_ahead_log_is_copied_into_the_database_in_the_background_not_in_the_writers_commits()
    {
        using var folder = new TempDirectory();
        var path = folder.File("evidence.db");
        var store = await StoreAsync(path);
        await using var writer = NewWriter(store);
        // One commit each: a few hundred pages of log, below SQLite's own checkpoint (1,000) and the writer's backstop.
        for (var i = 0; i < 60; i++) await writer.AppendAsync(EvidenceRows.Make(i), EvidenceDurability.Durable, Ct);

        // The WAL index (SQLite's file format, "WAL-index format"): the log's last frame (mxFrame, offset 16) and
        // how many frames were copied into the database (nBackfill, offset 96), little-endian on this machine.
        (uint Last, uint Copied) Log()
        {
            using var shm = new FileStream(path + "-shm", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var header = new byte[100];
            shm.ReadExactly(header);
            return (BitConverter.ToUInt32(header, 16), BitConverter.ToUInt32(header, 96));
        }
        var log = Log();
        Assert.True(log.Last > 0, "the commits went to the log");
        for (var wait = 0; wait < 50 && log.Copied != log.Last; wait++)
        {
            await Task.Delay(100, Ct);
            log = Log();
        }
        Assert.Equal(log.Last, log.Copied);
    }

    [Fact]
    public async Task Async_append_returns_before_the_commit_and_the_record_appears_after_it()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        await using var writer = NewWriter(store);

        // Another connection holds the write lock, so the writer cannot commit until it lets go.
        await using var blocker = new SqliteConnection(store.Location.ConnectionString);
        await blocker.OpenAsync();
        var lockTransaction = blocker.BeginTransaction(deferred: false);

        var queued = EvidenceRows.Make(1);
        var asyncAppend = writer.AppendAsync(queued, EvidenceDurability.Async, Ct);
        Assert.True(asyncAppend.IsCompletedSuccessfully, "an async append completes as soon as the record is queued");
        var durableAppend = writer.AppendAsync(EvidenceRows.Make(2), EvidenceDurability.Durable, Ct).AsTask();
        await Task.Delay(300);
        Assert.False(durableAppend.IsCompleted, "a durable append must wait for the commit");
        Assert.Equal(0, await CountAsync(store));

        lockTransaction.Rollback();
        lockTransaction.Dispose();
        await durableAppend;
        await using var db = store.CreateDbContext();
        EvidenceRows.AssertSame(queued, await db.Interactions.SingleAsync(i => i.Id == queued.Id));
    }

    [Fact]
    public async Task Each_commit_is_timed_from_the_start_of_its_write_and_says_whether_it_waited_for_the_disk()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        await using var writer = NewWriter(store);
        var timings = new ConcurrentQueue<BatchCommitTiming>();
        writer.CommitTimed = timings.Enqueue;

        await writer.AppendAsync(EvidenceRows.Make(1), EvidenceDurability.Async, Ct);
        while (writer.Stats.Batches < 1) await Task.Delay(10, Ct);

        // Another connection holds the write lock: the durable batch's write starts, then waits for it.
        await using var blocker = new SqliteConnection(store.Location.ConnectionString);
        await blocker.OpenAsync(Ct);
        var lockTransaction = blocker.BeginTransaction(deferred: false);
        var durable = writer.AppendAsync(EvidenceRows.Make(2), EvidenceDurability.Durable, Ct).AsTask();
        await Task.Delay(400, Ct);
        lockTransaction.Rollback();
        lockTransaction.Dispose();
        await durable;
        // The writer releases the waiters before it tells the listeners (answers come first): wait for the listener.
        await UntilAsync(() => timings.Count >= 2);

        Assert.Collection(timings.ToArray(),
            first =>
            {
                Assert.Equal(1, first.Records);
                Assert.False(first.Flushed, "a batch of asynchronous records does not wait for the disk");
                Assert.True(first.Duration > TimeSpan.Zero);
            },
            second =>
            {
                Assert.Equal(1, second.Records);
                Assert.True(second.Flushed, "a batch holding a durable record waits for the disk");
                Assert.True(second.Duration >= TimeSpan.FromMilliseconds(300), $"the wait for the lock is part of the commit: {second.Duration}");
            });
    }

    [Fact]
    public async Task Commit_listeners_that_throw_do_not_stop_the_writer()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        await using var writer = NewWriter(store);
        var timed = 0;
        var committed = 0;
        writer.CommitTimed = _ =>
        {
            Interlocked.Increment(ref timed);
            throw new InvalidOperationException("a broken metrics listener");
        };
        writer.Committed = _ =>
        {
            Interlocked.Increment(ref committed);
            throw new InvalidOperationException("a broken pause-rule feed");
        };

        for (var i = 0; i < 3; i++) await writer.AppendAsync(EvidenceRows.Make(i), EvidenceDurability.Durable, Ct);
        // Listeners are told after the waiters are released.
        await UntilAsync(() => Volatile.Read(ref timed) >= 3 && Volatile.Read(ref committed) >= 3);

        Assert.Equal(3, await CountAsync(store));
        Assert.Equal(3, Volatile.Read(ref timed));
        Assert.Equal(3, Volatile.Read(ref committed)); // each listener is told, whatever the other did
    }

    [Fact]
    public async Task Asynchronous_records_wait_for_company_and_a_durable_record_ends_the_wait_at_once()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        // A linger far longer than the test: anything written early was written because the wait ended.
        await using var writer = new EvidenceWriter(store, NullLogger<EvidenceWriter>.Instance, new EvidenceWriterOptions { AsyncLinger = TimeSpan.FromMinutes(5) });

        var early = EvidenceRows.Make(1);
        await writer.AppendAsync(early, EvidenceDurability.Async, Ct);
        await writer.AppendAsync(EvidenceRows.Make(2), EvidenceDurability.Async, Ct);
        await Task.Delay(300);
        Assert.Equal(0, writer.Stats.RecordsWritten);
        Assert.Equal(0, await CountAsync(store));

        var watch = Stopwatch.StartNew();
        await writer.AppendAsync(EvidenceRows.Make(3), EvidenceDurability.Durable, Ct);
        Assert.True(watch.Elapsed < TimeSpan.FromMinutes(1), "a durable append must not wait out an asynchronous batch's linger");
        Assert.Equal(3, await CountAsync(store));
        Assert.Equal(1, writer.Stats.Batches); // the waiting records went with the durable one, in one commit
    }

    [Fact]
    public async Task Dispose_writes_everything_queued_then_refuses_new_records()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        var writer = NewWriter(store);
        const int count = 5_000;
        for (var i = 0; i < count; i++)
        {
            await writer.AppendAsync(EvidenceRows.Make(i), EvidenceDurability.Async, Ct);
        }
        await writer.DisposeAsync();

        Assert.Equal(count, await CountAsync(store));
        Assert.Equal(count, writer.Stats.RecordsWritten);
        Assert.Equal(0, writer.Stats.Queued);
        var late = await Assert.ThrowsAsync<EvidenceUnavailableException>(
            () => writer.AppendAsync(EvidenceRows.Make(count), EvidenceDurability.Durable, Ct).AsTask());
        Assert.Contains("stopped", late.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_full_queue_makes_appenders_wait_then_fail_with_queue_full()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        var options = new EvidenceWriterOptions { QueueCapacity = 2, MaxBatchSize = 1, EnqueueTimeout = TimeSpan.FromMilliseconds(300) };
        await using var writer = new EvidenceWriter(store, NullLogger<EvidenceWriter>.Instance, options);
        await using var blocker = new SqliteConnection(store.Location.ConnectionString);
        await blocker.OpenAsync();
        var lockTransaction = blocker.BeginTransaction(deferred: false);

        var accepted = 0;
        EvidenceUnavailableException? full = null;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 10 && full is null; i++)
        {
            clock.Restart();
            try
            {
                await writer.AppendAsync(EvidenceRows.Make(i), EvidenceDurability.Async, Ct);
                accepted++;
            }
            catch (EvidenceUnavailableException e)
            {
                full = e;
            }
        }
        Assert.NotNull(full);
        Assert.Contains("evidence queue full", full.Message, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), $"the appender gave up after {clock.Elapsed}, before the timeout");
        Assert.InRange(accepted, 2, 3);

        lockTransaction.Rollback();
        lockTransaction.Dispose();
        await writer.DisposeAsync();
        Assert.Equal(accepted, await CountAsync(store));
    }

    [Fact]
    public void Interaction_ids_are_prefixed_fit_the_column_and_sort_by_time()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));
        var ids = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(InteractionId.New(time));
            time.Advance(TimeSpan.FromMilliseconds(1));
        }
        Assert.All(ids, id =>
        {
            Assert.StartsWith("int_", id, StringComparison.Ordinal);
            Assert.Equal(36, id.Length);
            Assert.Matches("^int_[0-9a-f]{32}$", id);
        });
        Assert.Equal(ids, ids.Order(StringComparer.Ordinal));
        Assert.NotEqual(InteractionId.New(), InteractionId.New());

        // A standard UUIDv7 (RFC 9562) whose leading 48 bits are the clock's milliseconds.
        var uuid = Guid.ParseExact(ids[0][InteractionId.Prefix.Length..], "N");
        Assert.Equal(7, uuid.Version);
        Assert.Equal(0b1000, uuid.Variant & 0b1100);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), Convert.ToInt64(ids[0][4..16], 16));
        // Unique within one millisecond: 74 random bits each.
        Assert.Equal(10_000, Enumerable.Range(0, 10_000).Select(_ => InteractionId.New(time)).Distinct(StringComparer.Ordinal).Count());
    }

    private async Task DurableConcurrentAsync(PilotageStore store)
    {
        const int tasks = 50;
        const int perTask = 20;
        await using var writer = NewWriter(store);
        var written = new ConcurrentBag<InteractionRow>();
        await Task.WhenAll(Enumerable.Range(0, tasks).Select(t => Task.Run(async () =>
        {
            for (var k = 0; k < perTask; k++)
            {
                var row = EvidenceRows.Make(t * perTask + k);
                await writer.AppendAsync(row, EvidenceDurability.Durable, Ct);
                // Durable means committed: the row is visible to any other connection right now.
                await using var db = store.CreateDbContext();
                Assert.True(await db.Interactions.AnyAsync(i => i.Id == row.Id), $"{row.Id} is not readable after its durable append returned");
                written.Add(row);
            }
        })));

        var stats = writer.Stats;
        Assert.Equal(tasks * perTask, stats.RecordsWritten);
        Assert.Equal(0, stats.Failures);
        Assert.True(stats.Batches < stats.RecordsWritten, $"no group commit: {stats.Batches} batches for {stats.RecordsWritten} records");

        await using var read = store.CreateDbContext();
        var back = await read.Interactions.AsNoTracking().ToDictionaryAsync(i => i.Id);
        Assert.Equal(written.Count, back.Count);
        foreach (var row in written)
        {
            EvidenceRows.AssertSame(row, back[row.Id]);
        }
    }

    private async Task FollowUpsAsync(PilotageStore store)
    {
        await using var writer = NewWriter(store);
        var draft = EvidenceRows.Make(2); // chat, served
        draft.Mode = "draft";
        var held = EvidenceRows.Make(4);
        held.Outcome = "held";
        var plain = EvidenceRows.Make(6);
        var hold = new EvidenceHold(held.System, "{\"held\":true}", held.CreatedAt);
        // An asynchronous batch of its own first (committed without waiting for the disk), then a durable one.
        await writer.AppendAsync(plain, EvidenceDurability.Async, Ct);
        while (writer.Stats.RecordsWritten < 1) await Task.Delay(10, Ct);
        await Task.WhenAll(
            writer.AppendAsync(draft, EvidenceDurability.Durable, Ct).AsTask(),
            writer.AppendAsync(held, EvidenceDurability.Durable, Pilotage.Core.Specs.StoreOutage.FailClosed, hold, Ct).AsTask());

        await using (var db = store.CreateDbContext())
        {
            Assert.Equal(3, await db.Rollups.SumAsync(r => r.Requests));
            Assert.Equal(3, await db.RollupLatency.SumAsync(r => r.Count));
            Assert.Equal(3, await db.ActiveUsers.CountAsync());
            Assert.Equal(["approval", "draft"], (await db.ReviewItems.Select(r => r.Kind).ToListAsync()).Order(StringComparer.Ordinal));
            var approval = Assert.Single(await db.Approvals.ToListAsync());
            Assert.Equal((held.Id, "pending"), (approval.InteractionId, approval.State));
        }

        // A follow-up that fails takes its rows with it, and the next batch is written in full.
        await ExecuteAsync(store, "ALTER TABLE active_users RENAME TO active_users_away");
        var lost = EvidenceRows.Make(8);
        await Assert.ThrowsAsync<EvidenceUnavailableException>(() => writer.AppendAsync(lost, EvidenceDurability.Durable, Ct).AsTask());
        await ExecuteAsync(store, "ALTER TABLE active_users_away RENAME TO active_users");
        var after = EvidenceRows.Make(12);
        await writer.AppendAsync(after, EvidenceDurability.Durable, Ct);
        await using (var db = store.CreateDbContext())
        {
            Assert.False(await db.Interactions.AnyAsync(i => i.Id == lost.Id));
            Assert.True(await db.Interactions.AnyAsync(i => i.Id == after.Id));
            Assert.Equal(4, await db.Rollups.SumAsync(r => r.Requests));
            Assert.Equal(4, await db.ActiveUsers.CountAsync());
        }
    }

    private async Task BrokenTableAsync(PilotageStore store)
    {
        await using var writer = NewWriter(store);
        var before = EvidenceRows.Make(1);
        await writer.AppendAsync(before, EvidenceDurability.Durable, Ct);

        await ExecuteAsync(store, "ALTER TABLE interactions RENAME TO interactions_away");
        var lost = EvidenceRows.Make(2);
        var error = await Assert.ThrowsAsync<EvidenceUnavailableException>(
            () => writer.AppendAsync(lost, EvidenceDurability.Durable, Ct).AsTask());
        Assert.Contains("could not be committed", error.Message, StringComparison.Ordinal);
        Assert.Contains("interactions", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, writer.Stats.Failures);

        await ExecuteAsync(store, "ALTER TABLE interactions_away RENAME TO interactions");
        var after = EvidenceRows.Make(3);
        await writer.AppendAsync(after, EvidenceDurability.Durable, Ct);

        await using var db = store.CreateDbContext();
        var ids = await db.Interactions.Select(i => i.Id).ToListAsync();
        Assert.Equal([before.Id, after.Id], ids.Order(StringComparer.Ordinal));
        Assert.Equal(2, writer.Stats.RecordsWritten);
    }

    private async Task<PilotageStore> StoreAsync(string location)
    {
        var store = new PilotageStore(StoreLocation.Parse(location));
        await store.MigrateAsync(Ct);
        return store;
    }

    private static EvidenceWriter NewWriter(PilotageStore store) => new(store, NullLogger<EvidenceWriter>.Instance);

    private static async Task ExecuteAsync(PilotageStore store, string sql)
    {
        await using var db = store.CreateDbContext();
#pragma warning disable EF1002 // Constant SQL written by the test.
        await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
    }

    private static async Task<int> CountAsync(PilotageStore store)
    {
        await using var db = store.CreateDbContext();
        return await db.Interactions.CountAsync();
    }

    // One deadline per test (xunit makes an instance per test): a hung writer fails the test instead of the run.
    private CancellationToken Ct => _timeout.Token;

    /// <summary>Polls until the condition holds or the test's timeout ends; the assertions that follow say what was missing.</summary>
    private async Task UntilAsync(Func<bool> condition)
    {
        while (!condition() && !Ct.IsCancellationRequested) await Task.Delay(10, CancellationToken.None);
    }

    public void Dispose() => _timeout.Dispose();

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
