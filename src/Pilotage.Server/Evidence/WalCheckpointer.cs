using Microsoft.Data.Sqlite;

namespace Pilotage.Server.Evidence;

/// <summary>
/// Copies the SQLite write-ahead log into the database file in the background, so that the evidence writer's
/// commits do not. Left to itself, SQLite checkpoints inside the commit that takes the log past 1,000 pages: every
/// few hundred durable commits, one also waited for the copy and the database file's fsync, and so did the
/// answers waiting on it (the durable p99 in docs/benchmarks.md). A passive checkpoint on another connection never
/// blocks the writer. The writer's own connection still checkpoints at <see cref="WriterBackstopPages"/>: under
/// continuous writes a passive checkpoint may never catch up with the log's end, which SQLite needs before it can
/// start the log over, and the log must not grow without bound (appending to a growing file made commits take
/// 100 ms at p99 on this disk). By then most of the log is already copied, so that checkpoint is short.
/// </summary>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    public const int WriterBackstopPages = 4_000;
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);

    private readonly string _connectionString;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _commits;

    public WalCheckpointer(string connectionString)
    {
        _connectionString = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            Mode = SqliteOpenMode.ReadWrite,
            // A checkpoint that meets another one (an EF Core connection's) gives up at once and tries at the next tick.
            DefaultTimeout = 1,
        }.ConnectionString;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>Called after each commit: a tick with nothing new to copy does not touch the database.</summary>
    public void Committed() => Interlocked.Increment(ref _commits);

    // The system clock, not an injected one: this is disk upkeep, and a test's frozen clock must not stop it.
    private async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Every);
        SqliteConnection? connection = null;
        var copied = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                var commits = Interlocked.Read(ref _commits);
                if (commits == copied) continue;
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_connectionString);
                        connection.Open();
                    }
                    using var command = connection.CreateCommand();
                    command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                    command.ExecuteNonQuery();
                    copied = commits;
                }
#pragma warning disable CA1031 // Upkeep must outlive any failure: the writer reports outages, and its backstop bounds the log meanwhile.
                catch (Exception)
#pragma warning restore CA1031
                {
                    // The store is busy or gone: try again, on a fresh connection, at the next tick.
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }
}
