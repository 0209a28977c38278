using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Import;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Writes an import in slices, each its own transaction, while the next slice is checked and built on
/// another thread: the data boundary, ids and hashes (CPU) overlap the database's writing instead of
/// taking turns with it. Two slices at most wait between the two, so memory stays bounded by the file.
/// </summary>
internal static class ImportPipeline
{
    /// <summary>Rows per transaction: short enough that other writers wait well under a second.</summary>
    public const int SliceRows = 10_000;

    public static async Task<(int Imported, int AlreadyPresent)> RunAsync(PilotageStore store, EvidenceImporter importer, IReadOnlyList<EvidenceRecord> records, CancellationToken ct)
    {
        var slices = Channel.CreateBounded<ImportBatch>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var producer = Task.Run(async () =>
        {
            try
            {
                for (var first = 0; first < records.Count; first += SliceRows)
                {
                    var count = Math.Min(SliceRows, records.Count - first);
                    var slice = records is List<EvidenceRecord> list
                        ? importer.Prepare(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list).Slice(first, count))
                        : importer.Prepare(records.Skip(first).Take(count).ToArray());
                    await slices.Writer.WriteAsync(slice, stop.Token);
                }
                slices.Writer.TryComplete();
            }
            catch (Exception e)
            {
                slices.Writer.TryComplete(e);
            }
        }, stop.Token);

        var imported = 0;
        var alreadyPresent = 0;
        try
        {
            await using var db = store.CreateDbContext();
            await db.Database.OpenConnectionAsync(ct);
            await using var statements = new SqlStatements(db.Database.GetDbConnection());
            await foreach (var slice in slices.Reader.ReadAllAsync(ct))
            {
                await using var transaction = await db.Database.BeginTransactionAsync(ct);
                var (added, present) = await importer.WriteAsync(db, slice, statements, ct);
                await transaction.CommitAsync(ct);
                imported += added;
                alreadyPresent += present;
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
        return (imported, alreadyPresent);
    }
}
