using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>Reads, verifies and exports the audit chain.</summary>
public sealed class AuditTrail(PilotageStore store)
{
    private const int Page = 2_000;

    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var verifier = new AuditChainVerifier();
        // Paged by sequence rather than one long reader, so SQLite writers are not held off by a long scan.
        long after = 0;
        while (!verifier.Failed)
        {
            var page = await db.AuditEntries.AsNoTracking()
                .Where(a => a.Sequence > after)
                .OrderBy(a => a.Sequence)
                .Take(Page)
                .ToListAsync(cancellationToken);
            foreach (var row in page)
            {
                verifier.Add(ToRecord(row), row.Hash);
            }
            if (page.Count < Page) break;
            after = page[^1].Sequence;
        }
        var head = await db.AuditHead.AsNoTracking().SingleAsync(h => h.Id == 1, cancellationToken);
        return verifier.Complete(head.Sequence, head.Hash);
    }

    public async Task<IReadOnlyList<AuditEntryRow>> ListAsync(long after, int limit, string? subject, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var query = db.AuditEntries.AsNoTracking().Where(a => a.Sequence > after);
        if (!string.IsNullOrEmpty(subject)) query = query.Where(a => a.Subject == subject);
        return await query.OrderBy(a => a.Sequence).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>Streams every entry in order, a page at a time.</summary>
    public async IAsyncEnumerable<AuditEntryRow> ExportAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = 0;
        while (true)
        {
            var page = await ListAsync(after, Page, null, cancellationToken);
            foreach (var row in page) yield return row;
            if (page.Count < Page) yield break;
            after = page[^1].Sequence;
        }
    }

    public static AuditRecord ToRecord(AuditEntryRow row) =>
        new(row.Sequence, row.At, row.Actor, row.Action, row.Subject, row.Before, row.After, row.PreviousHash);
}
