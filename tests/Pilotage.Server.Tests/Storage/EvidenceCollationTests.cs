using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Storage;

/// <summary>
/// On PostgreSQL the text keys of the evidence tables compare byte by byte (collation "C"), whatever the database's
/// own collation: index entries are cheaper to make, and ids sort in ordinal order as the code reads them (and as
/// SQLite and StringComparer.Ordinal sort them).
/// </summary>
public sealed class EvidenceCollationTests
{
    // A default collation that skips punctuation when it compares, as glibc's en_US.UTF-8 does: "-" counts for nothing.
    private const string PunctuationBlindDatabase = "LOCALE_PROVIDER icu ICU_LOCALE 'en-US-u-ka-shifted' TEMPLATE template0";

    [PostgresFact]
    public async Task Every_text_column_of_an_evidence_key_or_index_is_compared_bytewise_partitions_included()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var store = new PilotageStore(StoreLocation.Parse(database.ConnectionString));
        await store.MigrateAsync(CancellationToken.None);
        string[] tables;
        await using (var db = store.CreateDbContext())
        {
            tables = PilotageDbContext.EvidenceRows.Select(t => db.Model.FindEntityType(t)!.GetTableName()!).ToArray();
        }

        // Each text column of an index (primary keys included) of those tables and of the interactions' partitions,
        // with the collation the index compares it by.
        var columns = new List<(string Table, string Column, string Collation)>();
        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("""
                SELECT c.relname, a.attname, coalesce(co.collname, '')
                FROM pg_index i
                JOIN pg_class c ON c.oid = i.indrelid
                CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indcollation::oid[]) AS k(attnum, coll)
                JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                LEFT JOIN pg_collation co ON co.oid = k.coll
                WHERE a.atttypid IN ('text'::regtype, 'varchar'::regtype)
                  AND (c.relname = ANY($1) OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'interactions'::regclass))
                """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = tables });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) columns.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        Assert.Contains(("interactions", "id", "C"), columns);
        Assert.Contains(("interactions", "system", "C"), columns);
        Assert.Contains(("interactions_default", "id", "C"), columns);
        Assert.Contains(("reviews", "interaction_id", "C"), columns);
        Assert.Contains(("review_items", "interaction_id", "C"), columns);
        Assert.Contains(("feedback", "interaction_id", "C"), columns);
        Assert.Contains(("rollups", "kind", "C"), columns);
        Assert.DoesNotContain(columns, c => c.Collation != "C");
    }

    [PostgresFact]
    public async Task Ids_sort_in_ordinal_order_on_a_database_whose_collation_skips_punctuation()
    {
        await using var database = await PostgresDatabase.CreateAsync(PunctuationBlindDatabase);
        var store = new PilotageStore(StoreLocation.Parse(database.ConnectionString));
        await store.MigrateAsync(CancellationToken.None);
        // The gateway's ids (a UUIDv7, with dashes) and imported ones (12 hex of time, then the hash) of the same minute:
        // skipping the dash, "int_0193a1b2-f234…" sorts after "int_0193a1b2c3d4…"; ordinally "-" comes first.
        string[] ids =
        [
            "int_0193a1b2-f234-7abc-8def-0123456789ab",
            "int_0193a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "int_0193a1b2-a000-7abc-8def-0123456789ab",
            "int_0193a1b2b111e5f60718293a4b5c6d7e8f90",
            "int_0193a1b3-0000-7abc-8def-0123456789ab",
        ];
        await using (var db = store.CreateDbContext())
        {
            foreach (var id in ids)
            {
                db.ReviewItems.Add(new ReviewItemRow { InteractionId = id, System = "s", Kind = "draft", State = "done", EnqueuedAt = DateTimeOffset.UnixEpoch });
            }
            await db.SaveChangesAsync();
        }

        await using var read = store.CreateDbContext();
        // As the review queue and the oldest pending item read them (ReviewService, SystemMetrics).
        var sorted = await read.ReviewItems.AsNoTracking().Where(r => r.System == "s").OrderBy(r => r.InteractionId).Select(r => r.InteractionId).ToListAsync();
        Assert.Equal(ids.Order(StringComparer.Ordinal), sorted);
    }
}
