using Microsoft.Data.Sqlite;
using Pilotage.Server.Evidence;

namespace Pilotage.Server.Import;

/// <summary>
/// SQLite settings for the connection that writes an import, put back as they were when it is done (the connection
/// returns to the pool): a larger page cache, commits that do not wait for the disk, and the write-ahead log copied
/// into the database in the background instead of inside the slices' commits.
/// </summary>
/// <remarks>
/// Cache: a slice's rows, though in key order, land in several indexes (interactions by id, by system and time, by
/// user; reviews and feedback by interaction), each at its own place; SQLite's default 2 MB cache would read some of
/// those pages back for every slice.
/// <para>
/// Log: a slice of 10,000 rows writes some 2,000 pages to the log, so left to itself SQLite would checkpoint in every
/// slice's commit — copy the log into the database file and sync it — while the import waits. A
/// <see cref="WalCheckpointer"/> does that on its own connection while the next slice is written; the import's
/// connection still checkpoints past <see cref="WalCheckpointer.WriterBackstopPages"/>, so the log stays bounded.
/// </para>
/// <para>
/// <c>synchronous = NORMAL</c> in WAL mode keeps every commit atomic and the database consistent; what it gives up
/// is that the last commits before a power cut may be rolled back. An import's slices are made durable together
/// before it answers: its audit entry is committed afterwards on a connection in the default <c>FULL</c> mode,
/// which syncs the log, slices included. A power cut before that leaves whole slices, as any failure part-way
/// does, and the client, which had no answer, imports the file again.
/// </para>
/// </remarks>
internal sealed class SqliteBulkSettings : IAsyncDisposable
{
    private const int CacheKib = 64 * 1024;

    private readonly SqliteConnection _connection;
    private readonly long _cache;
    private readonly long _synchronous;
    private readonly long _autocheckpoint;
    private readonly WalCheckpointer _checkpointer;

    private SqliteBulkSettings(SqliteConnection connection, long cache, long synchronous, long autocheckpoint)
    {
        _connection = connection;
        _cache = cache;
        _synchronous = synchronous;
        _autocheckpoint = autocheckpoint;
        _checkpointer = new WalCheckpointer(connection.ConnectionString);
    }

    public static SqliteBulkSettings Apply(SqliteConnection connection)
    {
        var cache = Scalar(connection, "PRAGMA cache_size");
        var synchronous = Scalar(connection, "PRAGMA synchronous");
        var autocheckpoint = Scalar(connection, "PRAGMA wal_autocheckpoint");
        Run(connection, $"PRAGMA cache_size = -{CacheKib}");
        Run(connection, "PRAGMA synchronous = NORMAL");
        Run(connection, $"PRAGMA wal_autocheckpoint = {WalCheckpointer.WriterBackstopPages}");
        return new SqliteBulkSettings(connection, cache, synchronous, autocheckpoint);
    }

    /// <summary>After each slice's commit: the background checkpoint has something new to copy.</summary>
    public void Committed() => _checkpointer.Committed();

    public async ValueTask DisposeAsync()
    {
        await _checkpointer.DisposeAsync();
        Run(_connection, $"PRAGMA cache_size = {_cache}");
        Run(_connection, $"PRAGMA synchronous = {_synchronous}");
        Run(_connection, $"PRAGMA wal_autocheckpoint = {_autocheckpoint}");
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // fixed texts
        command.CommandText = sql;
#pragma warning restore CA2100
        return (long)command.ExecuteScalar()!;
    }

    private static void Run(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // fixed texts and numbers read from SQLite itself
        command.CommandText = sql;
#pragma warning restore CA2100
        command.ExecuteNonQuery();
    }
}
