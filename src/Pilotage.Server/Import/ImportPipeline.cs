using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Import;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Writes an import in slices, each its own transaction, while the next slice is read from the file, checked and
/// built on another thread: parsing, the data boundary, ids and hashes (CPU) overlap the database's writing instead
/// of taking turns with it, and the file's rows are never all held at once. Two slices at most wait between the two.
/// On PostgreSQL two connections write slices side by side (the server does most of a COPY's work, and it has cores
/// of its own); SQLite has one writer.
/// </summary>
internal static class ImportPipeline
{
    /// <summary>Rows per transaction: short enough that other writers wait well under a second.</summary>
    public const int SliceRows = 10_000;

    /// <summary>Connections writing slices at once on PostgreSQL.</summary>
    public const int PostgresWriters = 2;

    public static async Task<(int Imported, int AlreadyPresent)> RunAsync(PilotageStore store, EvidenceImporter importer, IEnumerable<EvidenceRecord> records, CancellationToken ct)
    {
        var slices = Channel.CreateBounded<ImportBatch>(new BoundedChannelOptions(2) { SingleReader = false, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                var slice = new ImportBatch(SliceRows);
                foreach (var record in records)
                {
                    importer.Add(slice, record);
                    if (slice.Read < SliceRows) continue;
                    EvidenceImporter.Seal(slice);
                    await slices.Writer.WriteAsync(slice, stop.Token);
                    slice = new ImportBatch(SliceRows);
                }
                if (slice.Read > 0)
                {
                    EvidenceImporter.Seal(slice);
                    await slices.Writer.WriteAsync(slice, stop.Token);
                }
                else
                {
                    slice.Dispose();
                }
                slices.Writer.TryComplete();
            }
            catch (Exception e)
            {
                slices.Writer.TryComplete(e);
            }
        }, stop.Token);

        var writers = store.Location.Provider == StoreProvider.PostgreSql ? PostgresWriters : 1;
        var totals = new (int Imported, int AlreadyPresent)[writers];
        try
        {
            var running = new Task[writers];
            for (var w = 0; w < writers; w++)
            {
                var index = w;
                running[w] = Task.Run(async () =>
                {
                    try
                    {
                        totals[index] = await WriteSlicesAsync(store, importer, slices.Reader, ct);
                    }
                    catch
                    {
                        // One writer's failure stops the others after their current slice.
                        await stop.CancelAsync();
                        throw;
                    }
                }, ct);
            }
            try
            {
                await Task.WhenAll(running);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                // The other writer stopped because one failed: the failure is the answer, not the stop.
                if (running.Select(t => t.Exception?.InnerException).FirstOrDefault(e => e is not null and not OperationCanceledException) is { } failure)
                {
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                }
                throw;
            }
        }
        finally
        {
            // A failed write stops the preparing side too; its own failure surfaces through the channel.
            await stop.CancelAsync();
            try
            {
                await producer;
            }
            catch (OperationCanceledException)
            {
            }
        }
        return (totals.Sum(t => t.Imported), totals.Sum(t => t.AlreadyPresent));
    }

    private static async Task<(int Imported, int AlreadyPresent)> WriteSlicesAsync(PilotageStore store, EvidenceImporter importer, ChannelReader<ImportBatch> slices, CancellationToken ct)
    {
        var imported = 0;
        var alreadyPresent = 0;
        await using var db = store.CreateDbContext();
        await db.Database.OpenConnectionAsync(ct);
        await using var statements = new SqlStatements(db.Database.GetDbConnection());
        await using var bulk = db.Database.GetDbConnection() is SqliteConnection sqlite ? SqliteBulkSettings.Apply(sqlite) : null;
        await foreach (var written in slices.ReadAllAsync(ct))
        {
            using var slice = written;
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            var (added, present) = await importer.WriteAsync(db, slice, statements, ct);
            await transaction.CommitAsync(ct);
            bulk?.Committed();
            imported += added;
            alreadyPresent += present;
        }
        return (imported, alreadyPresent);
    }
}
