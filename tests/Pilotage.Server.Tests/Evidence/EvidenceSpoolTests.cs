using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>The outage spool file and its replay: in order, exactly once, a torn tail dropped.</summary>
public sealed class EvidenceSpoolTests
{
    [Fact]
    public async Task A_spool_left_by_a_crash_is_replayed_on_start_in_order_without_doubling_records_already_stored()
    {
        using var folder = new TempDirectory();
        var store = new PilotageStore(StoreLocation.Parse(folder.File("evidence.db")));
        await store.MigrateAsync(CancellationToken.None);
        var rows = Enumerable.Range(1, 5).Select(EvidenceRows.Make).ToList();
        // The first two were committed by a replay that crashed before it emptied the spool.
        await using (var earlier = new EvidenceWriter(store, NullLogger<EvidenceWriter>.Instance))
        {
            foreach (var row in rows.Take(2)) await earlier.AppendAsync(row, EvidenceDurability.Durable, CancellationToken.None);
        }
        var spoolPath = folder.File("evidence.db.evidence-spool");
        using (var spool = EvidenceSpool.Open(spoolPath))
        {
            spool.Append(rows);
        }

        await using var writer = new EvidenceWriter(store, NullLogger<EvidenceWriter>.Instance, new EvidenceWriterOptions { SpoolPath = spoolPath });
        for (var i = 0; i < 200 && writer.StoreState.Spooled > 0; i++) await Task.Delay(25);

        Assert.Equal(0, writer.StoreState.Spooled);
        Assert.True(writer.StoreState.Reachable);
        Assert.Equal(3, writer.Stats.Replayed);
        Assert.Equal(0, new FileInfo(spoolPath).Length);
        await using var db = store.CreateDbContext();
        var stored = await db.Interactions.AsNoTracking().Select(i => i.Id).ToListAsync();
        Assert.Equal(rows.Select(r => r.Id).Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));
        var replayed = await db.Interactions.AsNoTracking().SingleAsync(i => i.Id == rows[4].Id);
        Assert.Equal(rows[4].RequestContent, replayed.RequestContent);
        Assert.Equal(rows[4].Cost, replayed.Cost);
        Assert.Equal(rows[4].CreatedAt, replayed.CreatedAt);
    }

    [Fact]
    public void A_torn_last_line_is_dropped_and_cut_off_so_later_appends_start_clean()
    {
        using var folder = new TempDirectory();
        var path = folder.File("spool");
        var rows = Enumerable.Range(1, 3).Select(EvidenceRows.Make).ToList();
        using (var spool = EvidenceSpool.Open(path))
        {
            spool.Append(rows.Take(2).ToList());
        }
        var intact = new FileInfo(path).Length;
        // A crash in the middle of an append: half a frame, no newline.
        File.AppendAllText(path, "0123456789abcdef\t{\"Id\":\"half");

        using var reopened = EvidenceSpool.Open(path);
        Assert.Equal(2, reopened.Count);
        Assert.Equal(1, reopened.Dropped);
        Assert.Equal(intact, new FileInfo(path).Length);
        reopened.Append([rows[2]]);
        Assert.Equal(rows.Select(r => r.Id), reopened.ReadAll().Select(r => r.Id));
    }

    [Fact]
    public void A_line_whose_checksum_does_not_match_is_not_replayed()
    {
        using var folder = new TempDirectory();
        var path = folder.File("spool");
        var rows = Enumerable.Range(1, 2).Select(EvidenceRows.Make).ToList();
        using (var spool = EvidenceSpool.Open(path))
        {
            spool.Append(rows);
        }
        var text = File.ReadAllText(path);
        File.WriteAllText(path, text.Replace(rows[0].KeyId, rows[0].KeyId + "x", StringComparison.Ordinal));

        using var reopened = EvidenceSpool.Open(path);
        Assert.Equal([rows[1].Id], reopened.ReadAll().Select(r => r.Id));
        Assert.Equal(1, reopened.Dropped);
    }

    [Theory]
    [InlineData("/data/pilotage.db", null, "/data/pilotage.db.evidence-spool")]
    [InlineData("/data/pilotage.db", "/spool", "/spool/pilotage.db.evidence-spool")]
    [InlineData("Host=db.internal;Port=5433;Username=p;Database=pilotage", "/spool", "/spool/evidence-db.internal-5433-pilotage.spool")]
    public void The_spool_lives_beside_sqlite_or_in_the_configured_folder(string database, string? directory, string expected)
    {
        Assert.Equal(expected, EvidenceSpool.DefaultPath(StoreLocation.Parse(database), directory));
    }

    [Fact]
    public void An_in_memory_store_has_no_spool()
    {
        Assert.Null(EvidenceSpool.DefaultPath(StoreLocation.Parse("Data Source=:memory:"), null));
    }
}
