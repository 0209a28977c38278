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
    Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null);
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
/// SQLite: one prepared INSERT whose parameters are rebound per row, all rows in one
/// BEGIN IMMEDIATE … COMMIT, so a batch costs one WAL fsync whatever its size.
/// </summary>
internal sealed class SqliteEvidenceSink : IEvidenceSink
{
    private readonly SqliteConnection _connection;
    private readonly SqliteCommand _insert;
    private readonly SqliteParameter[] _p;

    private SqliteEvidenceSink(SqliteConnection connection, SqliteCommand insert, SqliteParameter[] parameters)
    {
        _connection = connection;
        _insert = insert;
        _p = parameters;
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
            var insert = connection.CreateCommand();
            var names = EvidenceSink.Columns.Split(", ");
            insert.CommandText = $"INSERT INTO interactions ({EvidenceSink.Columns}) VALUES ({string.Join(", ", names.Select((_, i) => "$p" + i))})";
            // Explicit types: the DateTimeOffset and decimal values are then rendered as TEXT by
            // Microsoft.Data.Sqlite exactly as EF Core writes them, so EF reads them back unchanged.
            SqliteType[] types =
            [
                SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Integer, SqliteType.Integer,
                SqliteType.Integer, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text,
                SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Integer, SqliteType.Integer,
                SqliteType.Integer, SqliteType.Text, SqliteType.Real, SqliteType.Real, SqliteType.Integer, SqliteType.Text,
                SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Text, SqliteType.Integer, SqliteType.Text,
            ];
            var parameters = new SqliteParameter[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                parameters[i] = insert.Parameters.Add("$p" + i, types[i]);
            }
            insert.Prepare();
            return new SqliteEvidenceSink(connection, insert, parameters);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public async Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null)
    {
        // Microsoft.Data.Sqlite is synchronous underneath; the async API would only add overhead.
        using var transaction = _connection.BeginTransaction(deferred: false);
        if (skipExisting) rows = WithoutStored(transaction, rows);
        _insert.Transaction = transaction;
        for (var r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            var p = _p;
            p[0].Value = row.Id;
            p[1].Value = EvidenceSink.Utc(row.CreatedAt);
            p[2].Value = row.System;
            p[3].Value = row.Phase;
            p[4].Value = row.Stage;
            p[5].Value = row.ConfigVersion;
            p[6].Value = row.UserId;
            p[7].Value = row.UserEmail;
            p[8].Value = row.KeyId;
            p[9].Value = row.Groups;
            p[10].Value = row.Endpoint;
            p[11].Value = row.Mode;
            p[12].Value = row.Outcome;
            p[13].Value = (object?)row.RefusalCode ?? DBNull.Value;
            p[14].Value = (object?)row.RefusalReason ?? DBNull.Value;
            p[15].Value = (object?)row.DetectorHits ?? DBNull.Value;
            p[16].Value = row.Streamed;
            p[17].Value = row.TokensIn;
            p[18].Value = row.TokensOut;
            p[19].Value = row.Cost;
            p[20].Value = (object?)row.FirstByteMs ?? DBNull.Value;
            p[21].Value = row.TotalMs;
            p[22].Value = (object?)row.UpstreamStatus ?? DBNull.Value;
            p[23].Value = (object?)row.RequestHash ?? DBNull.Value;
            p[24].Value = (object?)row.ResponseHash ?? DBNull.Value;
            p[25].Value = (object?)row.RequestContent ?? DBNull.Value;
            p[26].Value = (object?)row.ResponseContent ?? DBNull.Value;
            p[27].Value = (object?)row.Error ?? DBNull.Value;
            p[28].Value = (object?)row.Category ?? DBNull.Value;
            p[29].Value = (object?)row.EvalRun ?? DBNull.Value;
            p[30].Value = (object?)row.EvalCase ?? DBNull.Value;
            _insert.ExecuteNonQuery();
        }
        // Roll-ups and queue items commit with the rows they count, or not at all.
        await BatchFollowUps.ApplyAsync(_connection, transaction, rows, cancellationToken, holds);
        transaction.Commit();
        _insert.Transaction = null;
        return rows;
    }

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

    public ValueTask DisposeAsync()
    {
        _insert.Dispose();
        _connection.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>PostgreSQL: one binary COPY per batch inside a transaction.</summary>
internal sealed class PostgresEvidenceSink : IEvidenceSink
{
    private const string Copy = $"COPY interactions ({EvidenceSink.Columns}) FROM STDIN (FORMAT BINARY)";

    private readonly NpgsqlConnection _connection;

    private PostgresEvidenceSink(NpgsqlConnection connection) => _connection = connection;

    public static async Task<PostgresEvidenceSink> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        // Not pooled: the writer holds this one connection for its lifetime, and a reopen after a
        // failure must not be handed the same dead physical connection back.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
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

    public async Task<IReadOnlyList<InteractionRow>> WriteAsync(IReadOnlyList<InteractionRow> rows, CancellationToken cancellationToken, bool skipExisting = false, IReadOnlyDictionary<string, EvidenceHold>? holds = null)
    {
        await using var transaction = await _connection.BeginTransactionAsync(cancellationToken);
        if (skipExisting) rows = await WithoutStoredAsync(transaction, rows, cancellationToken);
        await using (var copy = await _connection.BeginBinaryImportAsync(Copy, cancellationToken))
        {
            for (var r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(row.Id, NpgsqlDbType.Varchar, cancellationToken);
                await copy.WriteAsync(EvidenceSink.Utc(row.CreatedAt), NpgsqlDbType.TimestampTz, cancellationToken);
                await copy.WriteAsync(row.System, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Phase, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Stage, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.ConfigVersion, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.UserId, NpgsqlDbType.Bigint, cancellationToken);
                await copy.WriteAsync(row.UserEmail, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.KeyId, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Groups, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Endpoint, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Mode, NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(row.Outcome, NpgsqlDbType.Text, cancellationToken);
                await WriteTextAsync(copy, row.RefusalCode, cancellationToken);
                await WriteTextAsync(copy, row.RefusalReason, cancellationToken);
                await WriteTextAsync(copy, row.DetectorHits, cancellationToken);
                await copy.WriteAsync(row.Streamed, NpgsqlDbType.Boolean, cancellationToken);
                await copy.WriteAsync(row.TokensIn, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.TokensOut, NpgsqlDbType.Integer, cancellationToken);
                await copy.WriteAsync(row.Cost, NpgsqlDbType.Numeric, cancellationToken);
                await WriteValueAsync(copy, row.FirstByteMs, NpgsqlDbType.Double, cancellationToken);
                await copy.WriteAsync(row.TotalMs, NpgsqlDbType.Double, cancellationToken);
                await WriteValueAsync(copy, row.UpstreamStatus, NpgsqlDbType.Integer, cancellationToken);
                await WriteTextAsync(copy, row.RequestHash, cancellationToken);
                await WriteTextAsync(copy, row.ResponseHash, cancellationToken);
                await WriteTextAsync(copy, row.RequestContent, cancellationToken);
                await WriteTextAsync(copy, row.ResponseContent, cancellationToken);
                await WriteTextAsync(copy, row.Error, cancellationToken);
                await WriteTextAsync(copy, row.Category, cancellationToken);
                await WriteValueAsync(copy, row.EvalRun, NpgsqlDbType.Bigint, cancellationToken);
                await WriteTextAsync(copy, row.EvalCase, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }
        await BatchFollowUps.ApplyAsync(_connection, transaction, rows, cancellationToken, holds);
        await transaction.CommitAsync(cancellationToken);
        return rows;
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

    private static Task WriteTextAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellationToken) =>
        value is null ? copy.WriteNullAsync(cancellationToken) : copy.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);

    private static Task WriteValueAsync<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        where T : struct =>
        value is { } v ? copy.WriteAsync(v, type, cancellationToken) : copy.WriteNullAsync(cancellationToken);

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
