using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
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

    /// <summary>Writes the rows not recorded yet and returns them.</summary>
    public static async Task<List<ImportRow>> WriteAsync(PilotageDbContext db, IReadOnlyList<ImportRow> rows, ExistingRowsHint hint, CancellationToken ct)
    {
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() ?? throw new InvalidOperationException("a bulk import must run inside a transaction");
        return db.Database.GetDbConnection() switch
        {
            NpgsqlConnection postgres => await WriteOnPostgresAsync(postgres, (NpgsqlTransaction)transaction, rows, hint, ct),
            SqliteConnection sqlite => InsertRows(sqlite, rows),
            _ => throw new InvalidOperationException("unknown store"),
        };
    }

    /// <summary>
    /// While no row of the import was found recorded, a slice is copied straight away, without looking its keys up
    /// (the lookup was a sixth of the server's work per row): the primary keys refuse a row already there, the COPYs
    /// are rolled back to a savepoint, and the slice is written again with the lookup. After such a slice the next
    /// ones look first (a file posted again, or a longer version of it), until a lookup finds none.
    /// </summary>
    private static async Task<List<ImportRow>> WriteOnPostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ImportRow> rows, ExistingRowsHint hint, CancellationToken ct)
    {
        if (!hint.LookFirst)
        {
            await transaction.SaveAsync(CopySavepoint, ct);
            ct.ThrowIfCancellationRequested();
            try
            {
                Copy(connection, rows);
                return [.. rows];
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await transaction.RollbackAsync(CopySavepoint, ct);
            }
        }
        var fresh = await NewOnPostgresAsync(connection, transaction, rows, ct);
        hint.LookFirst = fresh.Count < rows.Count;
        ct.ThrowIfCancellationRequested();
        Copy(connection, fresh);
        return fresh;
    }

    // Synchronous COPYs encoded here: this runs on the import's own writer thread, and Npgsql's importer
    // (a parameter bound per value; awaited, one call per value) cost more CPU than the server spent storing the rows.
    private static void Copy(NpgsqlConnection connection, IReadOnlyList<ImportRow> rows)
    {
        if (rows.Count == 0) return;
        CopyInteractions(connection, rows);
        CopyReviews(connection, rows);
        CopyFeedback(connection, rows);
    }

    private static async Task<List<ImportRow>> NewOnPostgresAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<ImportRow> rows, CancellationToken ct)
    {
        var ids = new string[rows.Count];
        var ats = new DateTimeOffset[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            ids[i] = rows[i].Interaction.Id;
            ats[i] = EvidenceSink.Utc(rows[i].Interaction.CreatedAt);
        }
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
        if (existing.Count == 0) return [.. rows];
        return rows.Where(r => !existing.Contains(r.Interaction.Id)).ToList();
    }

    private static List<ImportRow> InsertRows(SqliteConnection connection, IReadOnlyList<ImportRow> rows)
    {
        Span<char> time = stackalloc char[SqliteText.MaxLength];
        var fresh = new List<ImportRow>(rows.Count);
        using (var insert = SqliteRawInsert.Interactions(connection, skipExisting: true))
        {
            foreach (var row in rows)
            {
                if (insert.Interaction(row.Interaction)) fresh.Add(row);
            }
        }
        using (var insert = new SqliteRawInsert(connection, "reviews", ReviewColumns))
        {
            foreach (var row in fresh)
            {
                if (row.Review is not { } r) continue;
                insert.Text(1, r.InteractionId);
                insert.Text(2, r.System);
                insert.Text(3, r.Outcome);
                insert.Text(4, r.FinalText);
                insert.Text(5, r.Reason);
                insert.Text(6, r.Tags);
                insert.Text(7, r.EscalatedTo);
                insert.Text(8, r.Reviewer);
                insert.Real(9, r.Seconds);
                insert.Real(10, r.Rework);
                insert.Real(11, r.ReworkSeconds);
                insert.Chars(12, SqliteText.Of(EvidenceSink.Utc(r.ReviewedAt), time));
                insert.Text(13, r.Source);
                insert.Step();
            }
        }
        using (var insert = new SqliteRawInsert(connection, "feedback", FeedbackColumns))
        {
            foreach (var row in fresh)
            {
                if (row.Feedback is not { } f) continue;
                insert.Text(1, f.InteractionId);
                insert.Integer(2, f.UserId);
                insert.Text(3, f.System);
                insert.Integer(4, f.Rating);
                insert.Text(5, f.Comment);
                insert.Chars(6, SqliteText.Of(EvidenceSink.Utc(f.At), time));
                insert.Step();
            }
        }
        return fresh;
    }

    private static void CopyInteractions(NpgsqlConnection connection, IReadOnlyList<ImportRow> rows)
    {
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY interactions ({EvidenceSink.Columns}) FROM STDIN (FORMAT BINARY)");
        foreach (var import in rows)
        {
            var row = import.Interaction;
            // EvidenceSink.Columns, in order.
            copy.Row(31);
            copy.Text(row.Id);
            copy.TimestampTz(EvidenceSink.Utc(row.CreatedAt));
            copy.Text(row.System);
            copy.Text(row.Phase);
            copy.Integer(row.Stage);
            copy.Integer(row.ConfigVersion);
            copy.Bigint(row.UserId);
            copy.Text(row.UserEmail);
            copy.Text(row.KeyId);
            copy.Text(row.Groups);
            copy.Text(row.Endpoint);
            copy.Text(row.Mode);
            copy.Text(row.Outcome);
            copy.Text(row.RefusalCode);
            copy.Text(row.RefusalReason);
            copy.Text(row.DetectorHits);
            copy.Boolean(row.Streamed);
            copy.Integer(row.TokensIn);
            copy.Integer(row.TokensOut);
            copy.Numeric(row.Cost);
            copy.Double(row.FirstByteMs);
            copy.Double(row.TotalMs);
            copy.Integer(row.UpstreamStatus);
            copy.Text(row.RequestHash);
            copy.Text(row.ResponseHash);
            copy.Text(row.RequestContent);
            copy.Text(row.ResponseContent);
            copy.Text(row.Error);
            copy.Text(row.Category);
            copy.Bigint(row.EvalRun);
            copy.Text(row.EvalCase);
        }
        copy.Complete();
    }

    private static void CopyReviews(NpgsqlConnection connection, IReadOnlyList<ImportRow> rows)
    {
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY reviews ({ReviewColumns}) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            if (row.Review is not { } r) continue;
            copy.Row(13);
            copy.Text(r.InteractionId);
            copy.Text(r.System);
            copy.Text(r.Outcome);
            copy.Text(r.FinalText);
            copy.Text(r.Reason);
            copy.Text(r.Tags);
            copy.Text(r.EscalatedTo);
            copy.Text(r.Reviewer);
            copy.Double(r.Seconds);
            copy.Double(r.Rework);
            copy.Double(r.ReworkSeconds);
            copy.TimestampTz(EvidenceSink.Utc(r.ReviewedAt));
            copy.Text(r.Source);
        }
        copy.Complete();
    }

    private static void CopyFeedback(NpgsqlConnection connection, IReadOnlyList<ImportRow> rows)
    {
        using var copy = PostgresCopyWriter.Begin(connection, $"COPY feedback ({FeedbackColumns}) FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            if (row.Feedback is not { } f) continue;
            copy.Row(6);
            copy.Text(f.InteractionId);
            copy.Bigint(f.UserId);
            copy.Text(f.System);
            copy.Integer(f.Rating);
            copy.Text(f.Comment);
            copy.TimestampTz(EvidenceSink.Utc(f.At));
        }
        copy.Complete();
    }
}

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
