using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Writes imported rows on the caller's open transaction in bulk: on PostgreSQL one binary COPY per table,
/// on SQLite one prepared insert per table stepped for every row (bound through SQLite's own API). Rows
/// are written as EF Core would write them, so they read back the same.
/// </summary>
internal static class EvidenceBulkWriter
{
    private const string ReviewColumns = "interaction_id, system, outcome, final_text, reason, tags, escalated_to, reviewer, seconds, rework, rework_seconds, reviewed_at, source";
    private const string FeedbackColumns = "interaction_id, user_id, system, rating, comment, at";

    public static async Task WriteAsync(PilotageDbContext db, IReadOnlyList<InteractionRow> interactions, IReadOnlyList<ReviewRow> reviews, IReadOnlyList<FeedbackRow> feedback, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null) throw new InvalidOperationException("a bulk import must run inside a transaction");
        switch (db.Database.GetDbConnection())
        {
            case NpgsqlConnection postgres:
                await PostgresEvidenceSink.CopyAsync(postgres, interactions, ct);
                await CopyReviewsAsync(postgres, reviews, ct);
                await CopyFeedbackAsync(postgres, feedback, ct);
                break;
            case SqliteConnection sqlite:
                InsertAll(sqlite, interactions, reviews, feedback);
                break;
            default:
                throw new InvalidOperationException("unknown store");
        }
    }

    /// <summary>
    /// Page cache for a slice, in KiB: imported ids are hashes, so each row lands at a random place in the
    /// primary-key index; with SQLite's default 2 MB cache, most inserts into a large table read a page back.
    /// </summary>
    private const int BulkCacheKib = 64 * 1024;

    private static void InsertAll(SqliteConnection connection, IReadOnlyList<InteractionRow> interactions, IReadOnlyList<ReviewRow> reviews, IReadOnlyList<FeedbackRow> feedback)
    {
        long cache;
        using (var pragma = connection.CreateCommand())
        {
            pragma.CommandText = "PRAGMA cache_size";
            cache = (long)pragma.ExecuteScalar()!;
            pragma.CommandText = $"PRAGMA cache_size = -{BulkCacheKib}";
            pragma.ExecuteNonQuery();
        }
        try
        {
            InsertRows(connection, interactions, reviews, feedback);
        }
        finally
        {
            // The connection goes back to the pool: its cache goes back to what it was.
            using var pragma = connection.CreateCommand();
#pragma warning disable CA2100 // a number read from SQLite itself
            pragma.CommandText = $"PRAGMA cache_size = {cache}";
#pragma warning restore CA2100
            pragma.ExecuteNonQuery();
        }
    }

    private static void InsertRows(SqliteConnection connection, IReadOnlyList<InteractionRow> interactions, IReadOnlyList<ReviewRow> reviews, IReadOnlyList<FeedbackRow> feedback)
    {
        Span<char> time = stackalloc char[SqliteText.MaxLength];
        using (var insert = SqliteRawInsert.Interactions(connection))
        {
            foreach (var row in interactions) insert.Interaction(row);
        }
        using (var insert = new SqliteRawInsert(connection, "reviews", ReviewColumns))
        {
            foreach (var r in reviews)
            {
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
            foreach (var f in feedback)
            {
                insert.Text(1, f.InteractionId);
                insert.Integer(2, f.UserId);
                insert.Text(3, f.System);
                insert.Integer(4, f.Rating);
                insert.Text(5, f.Comment);
                insert.Chars(6, SqliteText.Of(EvidenceSink.Utc(f.At), time));
                insert.Step();
            }
        }
    }

    private static async Task CopyReviewsAsync(NpgsqlConnection connection, IReadOnlyList<ReviewRow> reviews, CancellationToken ct)
    {
        if (reviews.Count == 0) return;
        await using var copy = await connection.BeginBinaryImportAsync($"COPY reviews ({ReviewColumns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var r in reviews)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(r.InteractionId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.System, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Outcome, NpgsqlDbType.Text, ct);
            await TextAsync(copy, r.FinalText, ct);
            await TextAsync(copy, r.Reason, ct);
            await TextAsync(copy, r.Tags, ct);
            await TextAsync(copy, r.EscalatedTo, ct);
            await copy.WriteAsync(r.Reviewer, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(r.Seconds, NpgsqlDbType.Double, ct);
            if (r.Rework is { } rework) await copy.WriteAsync(rework, NpgsqlDbType.Double, ct);
            else await copy.WriteNullAsync(ct);
            await copy.WriteAsync(r.ReworkSeconds, NpgsqlDbType.Double, ct);
            await copy.WriteAsync(EvidenceSink.Utc(r.ReviewedAt), NpgsqlDbType.TimestampTz, ct);
            await copy.WriteAsync(r.Source, NpgsqlDbType.Text, ct);
        }
        await copy.CompleteAsync(ct);
    }

    private static async Task CopyFeedbackAsync(NpgsqlConnection connection, IReadOnlyList<FeedbackRow> feedback, CancellationToken ct)
    {
        if (feedback.Count == 0) return;
        await using var copy = await connection.BeginBinaryImportAsync($"COPY feedback ({FeedbackColumns}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var f in feedback)
        {
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(f.InteractionId, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(f.UserId, NpgsqlDbType.Bigint, ct);
            await copy.WriteAsync(f.System, NpgsqlDbType.Text, ct);
            await copy.WriteAsync(f.Rating, NpgsqlDbType.Integer, ct);
            await TextAsync(copy, f.Comment, ct);
            await copy.WriteAsync(EvidenceSink.Utc(f.At), NpgsqlDbType.TimestampTz, ct);
        }
        await copy.CompleteAsync(ct);
    }

    private static Task TextAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken ct) =>
        value is null ? copy.WriteNullAsync(ct) : copy.WriteAsync(value, NpgsqlDbType.Text, ct);
}
