using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using Pilotage.Core.Evidence;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Writes imported rows on the caller's open transaction in bulk, skipping those already recorded: on
/// PostgreSQL one binary COPY per table, preceded by a lookup of the slice's keys only when rows already recorded
/// are expected (see <see cref="ExistingRowsHint"/>); on SQLite one prepared insert
/// per table stepped for every row (bound through SQLite's own API), the interactions' insert skipping a
/// row already there, so no lookup is needed. Rows are written as EF Core would write them, so they read back the same.
/// </summary>
internal static class EvidenceBulkWriter
{
    private const string ReviewColumns = "interaction_id, system, outcome, final_text, reason, tags, escalated_to, reviewer, seconds, rework, rework_seconds, reviewed_at, source";
    private const string FeedbackColumns = "interaction_id, user_id, system, rating, comment, at";

    // By the whole primary key (id, created_at): each key is one index probe in the partition of its month.
    private const string ExistingSql =
        "SELECT i.id FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at) JOIN interactions i ON i.id = u.id AND i.created_at = u.at";

    // The lookup must stay one index probe per key. Right after a bulk load a partition's statistics lag (rows of
    // past months wait in the DEFAULT partition until the daily split), and the planner then chose a parallel
    // sequential scan of the whole partition with a merge join: at 1 M rows, 0.3-0.6 s per 10 k-row slice, most of
    // an import's time, growing with the table. Seeing the plans in the server's log showed it.
    // With the planner's costs raised that way, the plan's cost passes jit_above_cost, and compiling it (inlined and
    // optimised) would cost more than the probes: it is a plan of index probes, JIT has nothing to win.
    private const string IndexProbesOnlySql = "SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off";
    private const string PlannerDefaultsSql = "RESET enable_seqscan; RESET enable_hashjoin; RESET enable_mergejoin; RESET jit";

    private const string CopySavepoint = "import_copy";

    // An imported interaction belongs to no group (as the gateway records a caller without groups).
    private const string NoGroups = "[]";

    /// <summary>Writes the rows of <paramref name="batch"/> not recorded yet and keeps only those in it.</summary>
    public static async Task WriteAsync(PilotageDbContext db, ImportBatch batch, ImportPosition position, ExistingRowsHint hint, CancellationToken ct)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() ?? throw new InvalidOperationException("a bulk import must run inside a transaction");
        switch (db.Database.GetDbConnection())
        {
            case NpgsqlConnection postgres:
                await WriteOnPostgresAsync(postgres, (NpgsqlTransaction)transaction, batch, position, hint, ct);
                break;
            case SqliteConnection sqlite:
                InsertRows(sqlite, batch, position);
                break;
            default:
                throw new InvalidOperationException("unknown store");
        }
    }

    /// <summary>
    /// While no row of the import was found recorded, a slice is copied straight away, without looking its keys up
    /// (the lookup was a sixth of the server's work per row): the primary keys refuse a row already there, the COPYs
    /// are rolled back to a savepoint, and the slice is written again with the lookup. After such a slice the next
    /// ones look first (a file posted again, or a longer version of it), until a lookup finds none.
    /// </summary>
    private static async Task WriteOnPostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ImportBatch batch, ImportPosition position, ExistingRowsHint hint, CancellationToken ct)
    {
        if (!hint.LookFirst)
        {
            await transaction.SaveAsync(CopySavepoint, ct);
            ct.ThrowIfCancellationRequested();
            try
            {
                Copy(connection, batch, position);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await transaction.RollbackAsync(CopySavepoint, ct);
            }
        }
        var given = batch.Count;
        await KeepNewOnPostgresAsync(connection, transaction, batch, ct);
        hint.LookFirst = batch.Count < given;
        ct.ThrowIfCancellationRequested();
        Copy(connection, batch, position);
    }

    // Synchronous COPYs encoded here: this runs on the import's own writer thread, and Npgsql's importer
    // (a parameter bound per value; awaited, one call per value) cost more CPU than the server spent storing the rows.
    private static void Copy(NpgsqlConnection connection, ImportBatch batch, ImportPosition position)
    {
        var rows = batch.Rows;
        if (rows.Length == 0) return;
        CopyInteractions(connection, batch, position);
        CopyReviews(connection, rows, position);
        CopyFeedback(connection, rows, position);
    }

    /// <summary>Looks the slice's keys up and keeps in it only the rows not recorded yet (ids as strings only here).</summary>
    private static async Task KeepNewOnPostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ImportBatch batch, CancellationToken ct)
    {
        var (ids, ats) = Keys(batch.Rows);
        var existing = new HashSet<string>(StringComparer.Ordinal);
        await using (var probesOnly = new NpgsqlCommand(IndexProbesOnlySql, connection, transaction))
        {
            await probesOnly.ExecuteNonQueryAsync(ct);
        }
        await using (var command = new NpgsqlCommand(ExistingSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = ats, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) existing.Add(reader.GetString(0));
        }
        await using (var restore = new NpgsqlCommand(PlannerDefaultsSql, connection, transaction))
        {
            await restore.ExecuteNonQueryAsync(ct);
        }
        if (existing.Count > 0) Keep(batch, ids, existing);
    }

    private static (string[] Ids, DateTimeOffset[] Ats) Keys(ReadOnlySpan<ImportRow> rows)
    {
        var ids = new string[rows.Length];
        var ats = new DateTimeOffset[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            ids[i] = rows[i].Id.ToString();
            ats[i] = EvidenceSink.Utc(rows[i].CreatedAt);
        }
        return (ids, ats);
    }

    private static void Keep(ImportBatch batch, string[] ids, HashSet<string> existing)
    {
        var rows = batch.Rows;
        var kept = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            if (!existing.Contains(ids[i])) rows[kept++] = rows[i];
        }
        batch.Truncate(kept);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InsertRows(SqliteConnection connection, ImportBatch batch, ImportPosition position)
    {
        Span<char> time = stackalloc char[SqliteText.MaxLength];
        Span<byte> id = stackalloc byte[ImportId.Length];
        Span<byte> hex = stackalloc byte[2 * Sha256Value.Bytes];
        var rows = batch.Rows;
        var fresh = 0;
        using (var insert = SqliteRawInsert.Interactions(connection, skipExisting: true))
        {
            for (var i = 0; i < rows.Length; i++)
            {
                ref readonly var row = ref rows[i];
                // EvidenceSink.Columns, in order; what an imported interaction does not have is left NULL or 0.
                insert.Utf8(1, row.Id.Write(id));
                insert.Chars(2, SqliteText.Of(EvidenceSink.Utc(row.CreatedAt), time));
                insert.Text(3, position.System);
                insert.Text(4, position.Phase);
                insert.Integer(5, position.Stage);
                insert.Integer(6, position.ConfigVersion);
                insert.Integer(7, row.UserId);
                insert.Text(8, row.UserEmail ?? "");
                insert.Text(9, "");
                insert.Text(10, NoGroups);
                insert.Text(11, InteractionEndpointNames.Chat);
                insert.Text(12, EvidenceImporter.Mode);
                insert.Text(13, InteractionOutcomes.Served);
                insert.Text(14, null);
                insert.Text(15, null);
                insert.Text(16, null);
                insert.Integer(17, 0);
                insert.Integer(18, 0);
                insert.Integer(19, 0);
                insert.Chars(20, SqliteText.Of(0m, time));
                insert.Real(21, null);
                insert.Real(22, 0);
                insert.Integer(23, null);
                Hex.Write(row.RequestHash, hex);
                insert.Utf8(24, hex);
                Hex.Write(row.ResponseHash, hex);
                insert.Utf8(25, hex);
                if (row.KeepsContent)
                {
                    insert.Utf8(26, batch.Text(row.RequestContent));
                    insert.Utf8(27, batch.Text(row.ResponseContent));
                }
                else
                {
                    insert.Text(26, null);
                    insert.Text(27, null);
                }
                insert.Text(28, null);
                insert.Text(29, row.Category);
                insert.Integer(30, null);
                insert.Text(31, null);
                // The rows written move to the front; the batch keeps only those.
                if (insert.Step()) rows[fresh++] = row;
            }
        }
        batch.Truncate(fresh);
        rows = batch.Rows;
        using (var insert = new SqliteRawInsert(connection, "reviews", ReviewColumns))
        {
            foreach (ref readonly var r in rows)
            {
                if (!r.Reviewed) continue;
                insert.Utf8(1, r.Id.Write(id));
                insert.Text(2, position.System);
                insert.Text(3, r.Outcome.Name());
                insert.Text(4, r.FinalText);
                insert.Text(5, null);
                insert.Text(6, null);
                insert.Text(7, null);
                insert.Text(8, r.UserEmail ?? EvidenceImporter.Mode);
                insert.Real(9, r.ReviewSeconds);
                insert.Real(10, r.Rework);
                insert.Real(11, 0);
                insert.Chars(12, SqliteText.Of(EvidenceSink.Utc(r.CreatedAt), time));
                insert.Text(13, EvidenceImporter.Mode);
                insert.Step();
            }
        }
        using (var insert = new SqliteRawInsert(connection, "feedback", FeedbackColumns))
        {
            foreach (ref readonly var f in rows)
            {
                if (f.Rating is not { } rating) continue;
                insert.Utf8(1, f.Id.Write(id));
                insert.Integer(2, f.UserId);
                insert.Text(3, position.System);
                insert.Integer(4, rating);
                insert.Text(5, null);
                insert.Chars(6, SqliteText.Of(EvidenceSink.Utc(f.CreatedAt), time));
                insert.Step();
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyInteractions(NpgsqlConnection connection, ImportBatch batch, ImportPosition position)
    {
        var rows = batch.Rows;
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY interactions ({EvidenceSink.Columns}) FROM STDIN (FORMAT BINARY)");
        Span<byte> id = stackalloc byte[ImportId.Length];
        foreach (ref readonly var row in rows)
        {
            // EvidenceSink.Columns, in order; what an imported interaction does not have is left NULL or 0.
            copy.Row(31);
            copy.Utf8(row.Id.Write(id));
            copy.TimestampTz(EvidenceSink.Utc(row.CreatedAt));
            copy.Text(position.System);
            copy.Text(position.Phase);
            copy.Integer(position.Stage);
            copy.Integer(position.ConfigVersion);
            copy.Bigint(row.UserId);
            copy.Text(row.UserEmail ?? "");
            copy.Text("");
            copy.Text(NoGroups);
            copy.Text(InteractionEndpointNames.Chat);
            copy.Text(EvidenceImporter.Mode);
            copy.Text(InteractionOutcomes.Served);
            copy.Null();
            copy.Null();
            copy.Null();
            copy.Boolean(false);
            copy.Integer(0);
            copy.Integer(0);
            copy.Numeric(0m);
            copy.Null();
            copy.Double(0);
            copy.Null();
            copy.Hex(row.RequestHash);
            copy.Hex(row.ResponseHash);
            if (row.KeepsContent)
            {
                copy.Utf8(batch.Text(row.RequestContent));
                copy.Utf8(batch.Text(row.ResponseContent));
            }
            else
            {
                copy.Null();
                copy.Null();
            }
            copy.Null();
            copy.Text(row.Category);
            copy.Null();
            copy.Null();
        }
        copy.Complete();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyReviews(NpgsqlConnection connection, ReadOnlySpan<ImportRow> rows, ImportPosition position)
    {
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY reviews ({ReviewColumns}) FROM STDIN (FORMAT BINARY)");
        Span<byte> id = stackalloc byte[ImportId.Length];
        foreach (ref readonly var r in rows)
        {
            if (!r.Reviewed) continue;
            copy.Row(13);
            copy.Utf8(r.Id.Write(id));
            copy.Text(position.System);
            copy.Text(r.Outcome.Name());
            copy.Text(r.FinalText);
            copy.Null();
            copy.Null();
            copy.Null();
            copy.Text(r.UserEmail ?? EvidenceImporter.Mode);
            copy.Double(r.ReviewSeconds);
            copy.Double(r.Rework);
            copy.Double(0);
            copy.TimestampTz(EvidenceSink.Utc(r.CreatedAt));
            copy.Text(EvidenceImporter.Mode);
        }
        copy.Complete();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyFeedback(NpgsqlConnection connection, ReadOnlySpan<ImportRow> rows, ImportPosition position)
    {
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY feedback ({FeedbackColumns}) FROM STDIN (FORMAT BINARY)");
        Span<byte> id = stackalloc byte[ImportId.Length];
        foreach (ref readonly var f in rows)
        {
            if (f.Rating is not { } rating) continue;
            copy.Row(6);
            copy.Utf8(f.Id.Write(id));
            copy.Bigint(f.UserId);
            copy.Text(position.System);
            copy.Integer(rating);
            copy.Null();
            copy.TimestampTz(EvidenceSink.Utc(f.CreatedAt));
        }
        copy.Complete();
    }
}

/// <summary>Where every row of an import is recorded: its system and that system's lifecycle position and config version.</summary>
internal sealed record ImportPosition(string System, string Phase, int Stage, int ConfigVersion);

/// <summary>
/// Whether an import's next slice looks up the rows already recorded before copying (PostgreSQL): set when a slice
/// found some, cleared when a lookup found none. Shared by the import's writers; a stale read costs one slice's detour.
/// </summary>
internal sealed class ExistingRowsHint
{
    private volatile bool _lookFirst;

    public bool LookFirst
    {
        get => _lookFirst;
        set => _lookFirst = value;
    }
}
