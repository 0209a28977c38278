using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>The writer stores every column exactly as EF Core would, on both providers.</summary>
public sealed partial class EvidenceWriterTests
{
    [Fact]
    public async Task Sqlite_dates_and_decimals_are_stored_exactly_as_ef_core_stores_them()
    {
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        var viaEf = EvidenceRows.Make(3);
        viaEf.CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234567);
        viaEf.Cost = 12.5m;
        var viaWriter = EvidenceRows.Make(3);
        viaWriter.CreatedAt = viaEf.CreatedAt;
        viaWriter.Cost = viaEf.Cost;
        await using (var db = store.CreateDbContext())
        {
            db.Interactions.Add(viaEf);
            await db.SaveChangesAsync();
        }
        await using (var writer = NewWriter(store))
        {
            await writer.AppendAsync(viaWriter, EvidenceDurability.Durable, Ct);
        }

        await using var connection = new SqliteConnection(store.Location.ConnectionString);
        await connection.OpenAsync();
        async Task<string> RawAsync(string id)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT created_at || '|' || typeof(created_at) || '|' || cost || '|' || typeof(cost) || '|' || streamed FROM interactions WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return (string)(await command.ExecuteScalarAsync())!;
        }
        Assert.Equal(await RawAsync(viaEf.Id), await RawAsync(viaWriter.Id));
        Assert.Equal("2026-01-02 03:04:05.1234567+00:00|text|12.5|text|1", await RawAsync(viaWriter.Id));
    }

    [Fact]
    public async Task Sqlite_writer_stores_every_column_exactly_as_ef_core_does()
    {
        // The writer binds values itself (SQLitePCLRaw, by position): every column of every kind of row must
        // come out as EF Core writes it: same text, same storage class, NULL only where EF writes NULL.
        using var folder = new TempDirectory();
        var store = await StoreAsync(folder.File("evidence.db"));
        var pairs = new List<(InteractionRow ViaEf, InteractionRow ViaWriter)>();
        for (var i = 0; i < 24; i++)
        {
            var viaEf = EvidenceRows.Make(i);
            var viaWriter = EvidenceRows.Make(i);
            if (i == 5)
            {
                // A refusal before any key or system is known: empty strings, not NULLs.
                viaEf.System = viaWriter.System = "";
                viaEf.UserEmail = viaWriter.UserEmail = "";
                viaEf.KeyId = viaWriter.KeyId = "";
                viaEf.RequestContent = viaWriter.RequestContent = "";
            }
            if (i == 6)
            {
                viaEf.CreatedAt = viaWriter.CreatedAt = new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.FromHours(-9.5));
                viaEf.Cost = viaWriter.Cost = 0m;
                viaEf.TotalMs = viaWriter.TotalMs = double.Epsilon;
            }
            if (i == 7)
            {
                // Text is transcoded to UTF-8 by the writer: accents, CJK, an emoji (a surrogate pair), and half a pair.
                viaEf.RequestContent = viaWriter.RequestContent = "Grüße aus 東京 🚀, and half a pair: \ud800.";
                viaEf.UserEmail = viaWriter.UserEmail = "zoë@example.org";
            }
            if (i == 8)
            {
                // Longer than the writer's reused buffer (16 KB of UTF-8): the pooled path.
                viaEf.ResponseContent = viaWriter.ResponseContent = string.Concat(Enumerable.Repeat("déjà vu 🚀 ", 2_000));
            }
            if (i is >= 9 and <= 13)
            {
                // The gateway records its contents as the UTF-8 it sent and received, which the writer binds as they are:
                // stored as the text they decode to, as EF stores that text. Invalid UTF-8 is kept as its decoded text.
                byte[][] sent =
                [
                    "{\"messages\":[{\"content\":\"Grüße aus 東京 🚀\"}]}"u8.ToArray(),
                    Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("déjà vu 🚀 ", 2_000))),
                    [],
                    [0x7B, 0xC3, 0x28, 0x7D, 0xED, 0xA0, 0x80],
                    "plain ASCII"u8.ToArray(),
                ];
                var request = sent[i - 9];
                var response = sent[(i - 9 + 1) % sent.Length];
                viaWriter.SetRequestContent(request);
                viaWriter.SetResponseContent(response);
                viaEf.RequestContent = Encoding.UTF8.GetString(request);
                viaEf.ResponseContent = Encoding.UTF8.GetString(response);
            }
            // The writer stores every timestamp in UTC (one offset keeps text comparisons in order); EF is given it in UTC.
            viaEf.CreatedAt = viaEf.CreatedAt.ToUniversalTime();
            pairs.Add((viaEf, viaWriter));
        }
        await using (var db = store.CreateDbContext())
        {
            db.Interactions.AddRange(pairs.Select(p => p.ViaEf));
            await db.SaveChangesAsync();
        }
        await using (var writer = NewWriter(store))
        {
            foreach (var (_, viaWriter) in pairs) await writer.AppendAsync(viaWriter, EvidenceDurability.Durable, Ct);
        }

        await using var connection = new SqliteConnection(store.Location.ConnectionString);
        await connection.OpenAsync();
        var columns = EvidenceSink.Columns.Split(", ").Where(c => c != "id").ToArray();
        async Task<string> RowAsync(string id)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"SELECT {string.Join(" || '|' || ", columns.Select(c => $"quote({c}) || ':' || typeof({c})"))} FROM interactions WHERE id = $id";
            command.Parameters.AddWithValue("$id", id);
            return (string)(await command.ExecuteScalarAsync())!;
        }
        // The UTF-8 contents were bound as bytes: nothing read them as text on the way.
        Assert.NotNull(pairs[9].ViaWriter.RequestContentUtf8);
        Assert.NotNull(pairs[10].ViaWriter.ResponseContentUtf8);
        foreach (var (viaEf, viaWriter) in pairs) Assert.Equal(await RowAsync(viaEf.Id), await RowAsync(viaWriter.Id));
        Assert.StartsWith("'2000-01-01 09:29:59+00:00':text", await RowAsync(pairs[6].ViaWriter.Id), StringComparison.Ordinal);
        Assert.Contains("'':text", await RowAsync(pairs[5].ViaWriter.Id), StringComparison.Ordinal);
        await using (var db = store.CreateDbContext())
        {
            var accents = await db.Interactions.AsNoTracking().SingleAsync(r => r.Id == pairs[7].ViaWriter.Id);
            Assert.Equal("Grüße aus 東京 🚀, and half a pair: \ufffd.", accents.RequestContent);
            Assert.Equal("zoë@example.org", accents.UserEmail);
            var longText = await db.Interactions.AsNoTracking().SingleAsync(r => r.Id == pairs[8].ViaWriter.Id);
            Assert.Equal(pairs[8].ViaWriter.ResponseContent, longText.ResponseContent);
        }
    }

    [PostgresFact]
    public async Task Postgres_small_batches_in_one_round_trip_and_copied_batches_store_every_column_as_ef_core_does()
    {
        // A batch of up to PipelinedRows rows is sent as BEGIN, inserts, follow-ups and COMMIT in one round trip;
        // a larger one as a binary COPY. Both must store what EF Core stores, null for null, value for value.
        await using var database = await PostgresDatabase.CreateAsync();
        var store = await StoreAsync(database.ConnectionString);
        var copied = PostgresEvidenceSink.PipelinedRows + 4;
        var viaEf = new List<InteractionRow>();
        var small = new List<InteractionRow>();
        var large = new List<InteractionRow>();
        for (var i = 0; i < copied; i++)
        {
            var rows = new[] { EvidenceRows.Make(i), EvidenceRows.Make(i), EvidenceRows.Make(i) };
            foreach (var row in rows)
            {
                if (i == 1)
                {
                    row.System = row.UserEmail = row.KeyId = row.RequestContent = "";
                    row.EvalRun = 42;
                    row.EvalCase = "case-1";
                    row.Category = "edge";
                }
                if (i == 2)
                {
                    row.CreatedAt = new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.FromHours(-9.5)).AddTicks(7);
                    row.Cost = 98765.00001234m;
                    row.TotalMs = double.Epsilon;
                    row.RequestContent = "Grüße aus 東京 🚀 and a quote ' and a backslash \\";
                }
                if (i == 3) row.ResponseContent = string.Concat(Enumerable.Repeat("déjà vu 🚀 ", 4_000));
                // EF Core (Npgsql) accepts only UTC for timestamptz; both sinks convert.
                row.CreatedAt = row.CreatedAt.ToUniversalTime();
            }
            viaEf.Add(rows[0]);
            small.Add(rows[1]);
            large.Add(rows[2]);
        }
        await using (var db = store.CreateDbContext())
        {
            db.Interactions.AddRange(viaEf);
            await db.SaveChangesAsync(Ct);
        }
        await using (var sink = await PostgresEvidenceSink.OpenAsync(store.Location.ConnectionString, Ct))
        {
            // One row, then a full pipelined batch, then one batch too large for it.
            await sink.WriteAsync(small.Take(1).ToList(), Ct);
            await sink.WriteAsync(small.Skip(1).Take(PostgresEvidenceSink.PipelinedRows).ToList(), Ct);
            await sink.WriteAsync(small.Skip(1 + PostgresEvidenceSink.PipelinedRows).ToList(), Ct, flush: false);
            await sink.WriteAsync(large, Ct);
        }

        await using var connection = new NpgsqlConnection(store.Location.ConnectionString);
        await connection.OpenAsync(Ct);
        async Task<string> RowAsync(string id)
        {
            await using var command = new NpgsqlCommand("SELECT (to_jsonb(i) - 'id')::text FROM interactions i WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", id);
            return (string)(await command.ExecuteScalarAsync(Ct))!;
        }
        for (var i = 0; i < copied; i++)
        {
            var expected = await RowAsync(viaEf[i].Id);
            Assert.Equal(expected, await RowAsync(small[i].Id));
            Assert.Equal(expected, await RowAsync(large[i].Id));
        }
        Assert.Contains("\"cost\": 98765.00001234", await RowAsync(small[2].Id), StringComparison.Ordinal);
        Assert.Contains("\"refusal_code\": null", await RowAsync(small[1].Id), StringComparison.Ordinal);
        await using var db2 = store.CreateDbContext();
        // Each batch's roll-ups were written with it: three writers' worth of requests less EF's (it writes none).
        Assert.Equal(2 * copied, await db2.Rollups.SumAsync(r => r.Requests, Ct));
    }

    [Fact]
    public void The_writer_writes_every_column_of_the_interactions_model()
    {
        // A property added to InteractionRow without teaching the writer would silently be left at its default.
        using var db = new PilotageStore(StoreLocation.Parse("Data Source=unused.db")).CreateDbContext();
        var model = db.Model.FindEntityType(typeof(InteractionRow))!.GetProperties().Select(p => p.GetColumnName()).Order(StringComparer.Ordinal);
        Assert.Equal(model, EvidenceSink.Columns.Split(", ").Order(StringComparer.Ordinal));
    }
}
