using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Policy;

/// <summary>
/// Holds the current <see cref="PolicySnapshot"/> and moves it forward after each committed change, here or
/// on another replica. It knows the audit sequence its snapshot reflects and catches up from there: the
/// entries committed since name what changed (<see cref="PolicyChange"/>), so a pause at 10 k systems
/// reloads one system row, not 10 k. Whatever order commits and notifications arrive in, each catch-up reads
/// every entry after the snapshot's own sequence, so no change is skipped.
/// </summary>
public sealed class PolicyCache(PilotageStore store, ILogger<PolicyCache> logger, PolicyOptions? options = null) : ICommitObserver, IDisposable
{
    /// <summary>More entries than this since the snapshot (a bulk import, a replica that was away): one whole rebuild costs less.</summary>
    internal const int MaxScopedEntries = 256;

    private readonly bool _restrictOrphans = (options?.OrphanedSystems ?? OrphanedSystems.RestrictToApproval) == OrphanedSystems.RestrictToApproval;

    private readonly SemaphoreSlim _rebuild = new(1, 1);
    private PolicySnapshot _current = PolicySnapshot.Empty;
    private long _version;

    // The audit sequence the current snapshot reflects; -1 until the first whole build.
    private long _sequence = -1;
    private long _wholeRebuilds;
    private long _scopedRebuilds;

    /// <summary>The snapshot in force: read once per request.</summary>
    public PolicySnapshot Current => Volatile.Read(ref _current);

    /// <summary>The audit sequence the current snapshot reflects.</summary>
    public long Sequence => Interlocked.Read(ref _sequence);

    /// <summary>How many snapshots were built whole, and how many from the previous one (for logs, tests and the bench).</summary>
    public (long Whole, long Scoped) Rebuilds => (Interlocked.Read(ref _wholeRebuilds), Interlocked.Read(ref _scopedRebuilds));

    public Task OnCommittedAsync(CancellationToken ct) => CatchUpAsync(ct);

    /// <summary>Rebuilds the snapshot whole from the store (at start, and after a change made outside commands).</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        // Serialised so that a slow rebuild cannot overwrite a newer one.
        await _rebuild.WaitAsync(ct);
        try
        {
            await RebuildWholeAsync(await HeadAsync(ct), ct);
        }
        finally
        {
            _rebuild.Release();
        }
    }

    /// <summary>Brings the snapshot up to the store's audit head, rebuilding only what the entries since name.</summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        await _rebuild.WaitAsync(ct);
        try
        {
            var from = Interlocked.Read(ref _sequence);
            // The head is read before the rows: whatever is loaded next reflects at least it.
            var head = await HeadAsync(ct);
            if (from >= 0 && head <= from) return;
            var entries = from < 0 || head - from > MaxScopedEntries ? null : await EntriesAsync(from, head, ct);
            var change = entries is null ? null : PolicyChange.Of(entries);
            var next = change is null ? null : await change.ApplyAsync(Current, store, Interlocked.Increment(ref _version), _restrictOrphans, ct);
            if (next is null)
            {
                await RebuildWholeAsync(head, ct);
                return;
            }
            Swap(next, head);
            Interlocked.Increment(ref _scopedRebuilds);
        }
        finally
        {
            _rebuild.Release();
        }
    }

    private async Task RebuildWholeAsync(long head, CancellationToken ct)
    {
        Swap(await PolicySnapshot.LoadAsync(store, Interlocked.Increment(ref _version), ct, _restrictOrphans), head);
        Interlocked.Increment(ref _wholeRebuilds);
    }

    private void Swap(PolicySnapshot snapshot, long head)
    {
        Volatile.Write(ref _current, snapshot);
        Interlocked.Exchange(ref _sequence, head);
        logger.LogDebug("Policy snapshot {Version} at audit sequence {Sequence}: {Systems} systems, {Keys} keys", snapshot.Version, head, snapshot.Systems.Count, snapshot.Keys.Count);
    }

    private async Task<long> HeadAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.AuditHead.AsNoTracking().Where(h => h.Id == 1).Select(h => h.Sequence).FirstOrDefaultAsync(ct);
    }

    /// <summary>The entries after <paramref name="from"/> up to <paramref name="head"/>; null when any is missing (then the rebuild is whole).</summary>
    private async Task<List<CommittedEntry>?> EntriesAsync(long from, long head, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        // Before and after only for memberships (they name the person); a spec's before and after can be large.
        var entries = await db.AuditEntries.AsNoTracking().Where(e => e.Sequence > from && e.Sequence <= head).OrderBy(e => e.Sequence)
            .Select(e => new CommittedEntry(e.Action, e.Subject,
                e.Action == "group.member_removed" ? e.Before : null,
                e.Action == "group.member_added" ? e.After : null))
            .ToListAsync(ct);
        return entries.Count == head - from ? entries : null;
    }

    public void Dispose() => _rebuild.Dispose();
}
