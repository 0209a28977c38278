using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>One open connection that writes a whole batch of interactions in one transaction.</summary>
internal interface IEvidenceSink : IAsyncDisposable
{
    /// <param name="skipExisting">
    /// Replay of the spool: rows whose id is already stored are left out (with their roll-ups), in the
    /// same transaction, so a replay interrupted after its commit but before the spool was emptied
    /// writes nothing twice.
    /// </param>
    /// <returns>The rows written (all of them unless <paramref name="skipExisting"/>).</returns>
    /// <param name="holds">Approval-mode answers by interaction id, inserted into <c>approvals</c> in the same transaction.</param>
    /// <param name="flush">
    /// True (the default): the commit returns once the log is on disk. False for a batch nobody waits for
    /// (asynchronous records, already acknowledged): the commit may return before the flush, so an operating
    /// system crash or power cut can lose the last such batches, as the asynchronous contract allows; a process
    /// crash loses nothing committed. A later flushed commit also flushes them.
    /// </param>
    Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null, bool flush = true);
}

internal static class EvidenceSink
{
    /// <summary>The <c>interactions</c> columns, in the order both sinks write them.</summary>
    public const string Columns =
        "id, created_at, system, phase, stage, config_version, user_id, user_email, key_id, groups, endpoint, mode, outcome, " +
        "refusal_code, refusal_reason, detector_hits, streamed, tokens_in, tokens_out, cost, first_byte_ms, total_ms, " +
        "upstream_status, request_hash, response_hash, request_content, response_content, error, category, eval_run, eval_case";

    public static async Task<IEvidenceSink> OpenAsync(StoreLocation location, CancellationToken cancellationToken) =>
        location.Provider == StoreProvider.Sqlite
            ? SqliteEvidenceSink.Open(location.ConnectionString)
            : await PostgresEvidenceSink.OpenAsync(location.ConnectionString, cancellationToken);

    // One clock offset for every row: SQLite compares created_at as text, so mixed offsets would
    // sort wrongly in range scans; PostgreSQL (timestamptz) only accepts UTC from Npgsql anyway.
    public static DateTimeOffset Utc(DateTimeOffset value) => value.ToUniversalTime();
}

/// <summary>
/// SQLite: one prepared INSERT whose values are bound by position for each row, all rows in one
/// BEGIN IMMEDIATE … COMMIT, so a batch costs one WAL fsync whatever its size (<see cref="SqliteRawInsert"/>).
/// </summary>
internal sealed class SqliteEvidenceSink : IEvidenceSink
{
    private readonly SqliteConnection _connection;
    private readonly SqliteRawInsert _insert;
    private readonly SqlStatements _statements;
    private readonly WalCheckpointer _checkpointer;
    private bool? _flushing; // set explicitly on the first batch: durable batches never rely on a build's default

    private SqliteEvidenceSink(SqliteConnection connection, SqliteRawInsert insert, WalCheckpointer checkpointer)
    {
        _connection = connection;
        _insert = insert;
        _statements = new SqlStatements(connection);
        _checkpointer = checkpointer;
    }

    public static SqliteEvidenceSink Open(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            // A reopen after a failure must be a real reopen, not a pooled handle to the same broken state;
            // ReadWrite (not ReadWriteCreate) so a vanished file fails loudly instead of becoming an empty database.
            Pooling = false,
            Mode = SqliteOpenMode.ReadWrite,
        };
        var connection = new SqliteConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            // The log is copied into the database by WalCheckpointer, not inside this connection's commits.
            using (var backstop = connection.CreateCommand())
            {
                backstop.CommandText = $"PRAGMA wal_autocheckpoint={WalCheckpointer.WriterBackstopPages}";
                backstop.ExecuteNonQuery();
            }
            return new SqliteEvidenceSink(connection, SqliteRawInsert.Interactions(connection), new WalCheckpointer(builder.ConnectionString));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public async Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null, bool flush = true)
    {
        // In WAL mode, FULL syncs the log at every commit; NORMAL leaves it to the next checkpoint (or the next FULL commit).
        if (flush != _flushing)
        {
            await using var pragma = StatementLease.Of(_statements, _connection, null, flush ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
            await pragma.ExecuteAsync(cancellationToken);
            _flushing = flush;
        }
        // Microsoft.Data.Sqlite is synchronous underneath; the async API would only add overhead.
        using var transaction = _connection.BeginTransaction(deferred: false);
        if (skipExisting) rows = WithoutStored(transaction, rows);
        for (var r = 0; r < rows.Count; r++) Insert(rows[r]);
        // Roll-ups and queue items commit with the rows they count, or not at all.
        await BatchFollowUps.ApplyAsync(_connection, transaction, rows, _statements, cancellationToken, holds);
        transaction.Commit();
        _checkpointer.Committed();
        return rows;
    }

    private void Insert(InteractionRow row) => _insert.Interaction(row);

    private List<InteractionRow> WithoutStored(SqliteTransaction transaction, IReadOnlyList<InteractionRow> rows)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in rows.Chunk(500))
        {
            using var select = _connection.CreateCommand();
            select.Transaction = transaction;
            var names = new List<string>(chunk.Length);
            for (var i = 0; i < chunk.Length; i++)
            {
                names.Add("$id" + i);
                select.Parameters.AddWithValue("$id" + i, chunk[i].Id);
            }
#pragma warning disable CA2100 // Only parameter names are concatenated.
            select.CommandText = $"SELECT id FROM interactions WHERE id IN ({string.Join(", ", names)})";
#pragma warning restore CA2100
            using var reader = select.ExecuteReader();
            while (reader.Read()) stored.Add(reader.GetString(0));
        }
        return rows.Where(r => !stored.Contains(r.Id)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _checkpointer.DisposeAsync();
        await _statements.DisposeAsync();
        _insert.Dispose(); // finalizes the statement before the connection closes
        _connection.Dispose();
    }
}

/// <summary>
/// PostgreSQL: a small batch is one round trip (<c>BEGIN</c>, an insert per row, the follow-ups, <c>COMMIT</c>,
/// pipelined up to one Sync); a larger one, and a spool replay, is one binary COPY inside a transaction.
/// </summary>
/// <remarks>
/// Why two ways: a durable answer waits for its batch's commit, and at a moderate rate a batch is one record. As a
/// COPY that record cost four round trips (BEGIN and COPY start, COPY data and end, follow-ups, COMMIT), each a
/// wake-up of the server and of this process on a shared machine, and a record arriving meanwhile waited for all
/// of them before its own commit could start (docs/benchmarks.md). COPY stays for batches it is made for.
/// A write that throws leaves the connection in whatever state the failure left (an aborted transaction, perhaps):
/// the writer discards a sink whose write failed.
/// </remarks>
internal sealed class PostgresEvidenceSink : IEvidenceSink
{
    private const string Copy = $"COPY interactions ({EvidenceSink.Columns}) FROM STDIN (FORMAT BINARY)";

    /// <summary>Batches of up to this many rows are written in one round trip; larger ones by COPY.</summary>
    internal const int PipelinedRows = 16;

    // Positional parameters: Npgsql sends the text as it is, without rewriting named placeholders each time.
    private static readonly string Insert =
        $"INSERT INTO interactions ({EvidenceSink.Columns}) VALUES ({string.Join(", ", Enumerable.Range(1, EvidenceSink.Columns.Split(", ").Length).Select(i => "$" + i))})";

    private readonly NpgsqlConnection _connection;
    private readonly SqlStatements _statements;

    private PostgresEvidenceSink(NpgsqlConnection connection)
    {
        _connection = connection;
        _statements = new SqlStatements(connection);
    }

    public static async Task<PostgresEvidenceSink> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        // Not pooled: the writer holds this one connection for its lifetime, and a reopen after a
        // failure must not be handed the same dead physical connection back.
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            Pooling = false,
            // The insert, roll-up upserts and queue items are the same few statements in every batch: prepared on
            // this connection after their second use, the server stops parsing and planning them each time (the
            // 31-parameter roll-up upsert was most of a one-record batch's commit; docs/benchmarks.md).
            MaxAutoPrepare = 32,
            AutoPrepareMinUsages = 2,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return new PostgresEvidenceSink(connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null, bool flush = true)
    {
        if (!skipExisting && rows.Count <= PipelinedRows)
        {
            await WritePipelinedAsync(rows, holds, flush, cancellationToken);
            return rows;
        }
        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        if (skipExisting) rows = await WithoutStoredAsync(transaction, rows, cancellationToken);
        await CopyAsync(rows, cancellationToken);
        // Everything after the COPY goes in one round trip: the roll-ups, queue items and approvals (one
        // statement each, which were as many round trips as statements, before the commit could even start).
        _statements.Defer();
        try
        {
            if (!flush) _statements.AddDeferred(NoFlush);
            await BatchFollowUps.ApplyAsync(_connection, transaction, rows, _statements, cancellationToken, holds);
        }
        catch
        {
            await _statements.DiscardDeferredAsync(); // the transaction rolls back; the next batch starts clean
            throw;
        }
        await _statements.RunDeferredAsync(transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return rows;
    }

    // This transaction only: its commit does not wait for the WAL flush (read at COMMIT, so it may come last).
    private const string NoFlush = "SET LOCAL synchronous_commit = off";

    /// <summary>
    /// The whole transaction in one batch: the server runs its statements in order and answers once, after the
    /// COMMIT (and its WAL flush, unless <paramref name="flush"/> is false). A statement that fails makes the server
    /// skip the rest, COMMIT included: nothing of the batch is stored.
    /// </summary>
    private async Task WritePipelinedAsync(IReadOnlyList<InteractionRow> rows, IReadOnlyDictionary<string, EvidenceHold>? holds, bool flush, CancellationToken cancellationToken)
    {
        _statements.Defer();
        try
        {
            _statements.AddDeferred("BEGIN");
            if (!flush) _statements.AddDeferred(NoFlush);
            for (var r = 0; r < rows.Count; r++) await WriteRowAsync(new ParameterValues(_statements.AddDeferred(Insert).Parameters), rows[r], cancellationToken);
            await BatchFollowUps.ApplyAsync(_connection, null, rows, _statements, cancellationToken, holds);
            _statements.AddDeferred("COMMIT");
        }
        catch
        {
            await _statements.DiscardDeferredAsync();
            throw;
        }
        await _statements.RunDeferredAsync(null, cancellationToken);
    }

    private Task CopyAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken) => CopyAsync(_connection, rows, cancellationToken);

    /// <summary>The rows as one binary COPY on <paramref name="connection"/>, inside whatever transaction it has open.</summary>
    internal static async Task CopyAsync(NpgsqlConnection connection, IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(Copy, cancellationToken);
        var values = new CopyValues(copy);
        for (var r = 0; r < rows.Count; r++)
        {
            await copy.StartRowAsync(cancellationToken);
            await WriteRowAsync(values, rows[r], cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>The row's values in <see cref="EvidenceSink.Columns"/> order, typed alike for the COPY and the insert.</summary>
    private static async ValueTask WriteRowAsync<TValues>(TValues values, InteractionRow row, CancellationToken ct)
        where TValues : IRowValues
    {
        await values.AddAsync(row.Id, NpgsqlDbType.Varchar, ct);
        await values.AddAsync(EvidenceSink.Utc(row.CreatedAt), NpgsqlDbType.TimestampTz, ct);
        await values.AddAsync(row.System, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Phase, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Stage, NpgsqlDbType.Integer, ct);
        await values.AddAsync(row.ConfigVersion, NpgsqlDbType.Integer, ct);
        await values.AddAsync(row.UserId, NpgsqlDbType.Bigint, ct);
        await values.AddAsync(row.UserEmail, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.KeyId, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Groups, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Endpoint, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Mode, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Outcome, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.RefusalCode, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.RefusalReason, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.DetectorHits, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Streamed, NpgsqlDbType.Boolean, ct);
        await values.AddAsync(row.TokensIn, NpgsqlDbType.Integer, ct);
        await values.AddAsync(row.TokensOut, NpgsqlDbType.Integer, ct);
        await values.AddAsync(row.Cost, NpgsqlDbType.Numeric, ct);
        await values.AddNullableAsync(row.FirstByteMs, NpgsqlDbType.Double, ct);
        await values.AddAsync(row.TotalMs, NpgsqlDbType.Double, ct);
        await values.AddNullableAsync(row.UpstreamStatus, NpgsqlDbType.Integer, ct);
        await values.AddAsync(row.RequestHash, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.ResponseHash, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.RequestContent, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.ResponseContent, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Error, NpgsqlDbType.Text, ct);
        await values.AddAsync(row.Category, NpgsqlDbType.Text, ct);
        await values.AddNullableAsync(row.EvalRun, NpgsqlDbType.Bigint, ct);
        await values.AddAsync(row.EvalCase, NpgsqlDbType.Text, ct);
    }

    /// <summary>Where a row's values go: the COPY stream, or the parameters of one insert.</summary>
    private interface IRowValues
    {
        /// <summary>A value; a null reference is NULL.</summary>
        ValueTask AddAsync<T>(T value, NpgsqlDbType type, CancellationToken ct);

        ValueTask AddNullableAsync<T>(T? value, NpgsqlDbType type, CancellationToken ct)
            where T : struct;
    }

    private readonly struct CopyValues(NpgsqlBinaryImporter copy) : IRowValues
    {
        public ValueTask AddAsync<T>(T value, NpgsqlDbType type, CancellationToken ct) =>
            new(value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, type, ct));

        public ValueTask AddNullableAsync<T>(T? value, NpgsqlDbType type, CancellationToken ct)
            where T : struct =>
            new(value is { } v ? copy.WriteAsync(v, type, ct) : copy.WriteNullAsync(ct));
    }

    /// <remarks>
    /// Typed even when null, so the prepared insert's parameter types never change from row to row (a change
    /// would make Npgsql prepare it again).
    /// </remarks>
    private readonly struct ParameterValues(DbParameterCollection parameters) : IRowValues
    {
        public ValueTask AddAsync<T>(T value, NpgsqlDbType type, CancellationToken ct)
        {
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = type, Value = (object?)value ?? DBNull.Value });
            return ValueTask.CompletedTask;
        }

        public ValueTask AddNullableAsync<T>(T? value, NpgsqlDbType type, CancellationToken ct)
            where T : struct => AddAsync(value, type, ct);
    }

    private async Task<List<InteractionRow>> WithoutStoredAsync(NpgsqlTransaction transaction, IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var select = new NpgsqlCommand("SELECT id FROM interactions WHERE id = ANY(@ids)", _connection, transaction))
        {
            select.Parameters.AddWithValue("ids", rows.Select(r => r.Id).ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) stored.Add(reader.GetString(0));
        }
        return rows.Where(r => !stored.Contains(r.Id)).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        await _statements.DisposeAsync();
        await _connection.DisposeAsync();
    }
}

/// <summary>
/// Values as Microsoft.Data.Sqlite writes them as TEXT (and EF Core reads them back): a
/// <see cref="DateTimeOffset"/> as <c>yyyy-MM-dd HH:mm:ss.FFFFFFFzzz</c>, a <see cref="decimal"/> with at least
/// one decimal place; rendered into a caller's buffer, without a string.
/// </summary>
internal static class SqliteText
{
    public const int MaxLength = 64;

    public static ReadOnlySpan<char> Of(DateTimeOffset value, Span<char> buffer) =>
        value.TryFormat(buffer, out var written, @"yyyy\-MM\-dd HH\:mm\:ss.FFFFFFFzzz", CultureInfo.InvariantCulture)
            ? buffer[..written]
            : throw new InvalidOperationException("a timestamp did not fit its buffer");

    public static ReadOnlySpan<char> Of(decimal value, Span<char> buffer) =>
        value.TryFormat(buffer, out var written, "0.0###########################", CultureInfo.InvariantCulture)
            ? buffer[..written]
            : throw new InvalidOperationException("an amount did not fit its buffer");
}
