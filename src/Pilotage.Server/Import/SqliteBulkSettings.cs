using Microsoft.Data.Sqlite;

namespace Pilotage.Server.Import;

/// <summary>
/// SQLite settings for the connection that writes an import, put back as they were when it is done (the connection
/// returns to the pool): a larger page cache, and commits that do not wait for the disk.
/// </summary>
/// <remarks>
/// Cache: imported ids are hashes, so each row lands at a random place in the primary-key index; with SQLite's
/// default 2 MB cache, most inserts into a large table read a page back.
/// <para>
/// <c>synchronous = NORMAL</c> in WAL mode keeps every commit atomic and the database consistent; what it gives up
/// is that the last commits before a power cut may be rolled back. An import's slices are made durable together
/// before it answers: its audit entry is committed afterwards on a connection in the default <c>FULL</c> mode,
/// which syncs the log, slices included. A power cut before that leaves whole slices, as any failure part-way
/// does, and the client, which had no answer, imports the file again.
/// </para>
/// </remarks>
internal sealed class SqliteBulkSettings : IDisposable
{
    private const int CacheKib = 64 * 1024;

    private readonly SqliteConnection _connection;
    private readonly long _cache;
    private readonly long _synchronous;

    private SqliteBulkSettings(SqliteConnection connection, long cache, long synchronous)
    {
        _connection = connection;
        _cache = cache;
        _synchronous = synchronous;
    }

    public static SqliteBulkSettings Apply(SqliteConnection connection)
    {
        var cache = Scalar(connection, "PRAGMA cache_size");
        var synchronous = Scalar(connection, "PRAGMA synchronous");
        Run(connection, $"PRAGMA cache_size = -{CacheKib}");
        Run(connection, "PRAGMA synchronous = NORMAL");
        return new SqliteBulkSettings(connection, cache, synchronous);
    }

    public void Dispose()
    {
        Run(_connection, $"PRAGMA cache_size = {_cache}");
        Run(_connection, $"PRAGMA synchronous = {_synchronous}");
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
