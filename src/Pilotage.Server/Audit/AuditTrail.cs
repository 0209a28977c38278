using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>Reads, verifies and exports the audit chain.</summary>
public sealed class AuditTrail(PilotageStore store, AuditLogKey? key = null)
{
    private const int Page = 2_000;

    /// <summary>The whole log: chain, tree, and the signed checkpoints in the witness file and the store (docs/audit.md).</summary>
    public Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken) => VerifyAsync(null, cancellationToken);

    /// <summary>As <see cref="VerifyAsync(CancellationToken)"/>, and against a signed checkpoint the caller kept, its signature checked first.</summary>
    public Task<AuditVerification> VerifyAsync(string? checkpoint, CancellationToken cancellationToken) =>
        new AuditLogVerifier(store, key?.Verifier, key?.WitnessPath).VerifyAsync(checkpoint, cancellationToken);

    public async Task<IReadOnlyList<AuditEntryRow>> ListAsync(long after, int limit, string? subject, CancellationToken cancellationToken)
    {
        await using var db = store.CreateDbContext();
        var query = db.AuditEntries.AsNoTracking().Where(a => a.Sequence > after);
        if (!string.IsNullOrEmpty(subject)) query = query.Where(a => a.Subject == subject);
        return await query.OrderBy(a => a.Sequence).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>The <paramref name="count"/> most recent entries, newest first.</summary>
    public async Task<IReadOnlyList<AuditEntryRow>> RecentAsync(int count, CancellationToken cancellationToken)
    {
        long head;
        await using (var db = store.CreateDbContext())
        {
            head = await db.AuditEntries.MaxAsync(a => (long?)a.Sequence, cancellationToken) ?? 0;
        }
        var page = await ListAsync(Math.Max(0, head - count), count, null, cancellationToken);
        return page.Reverse().ToList();
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
