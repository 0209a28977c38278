using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;

namespace Pilotage.Server.Storage;

/// <summary>
/// A refusal of a control-plane command, with the HTTP status it maps to and a message that says
/// what was wrong and how to fix it. Thrown inside a command, it rolls the whole command back.
/// </summary>
public sealed class CommandRefusedException(int status, string title, string detail, IReadOnlyDictionary<string, object?>? extensions = null)
    : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public IReadOnlyDictionary<string, object?>? Extensions { get; } = extensions;
}

/// <summary>What a command sees: the store, the clock, and the audit log it must write to.</summary>
public sealed class CommandContext(PilotageDbContext db, DateTimeOffset now, string actor)
{
    private readonly List<(string Action, string Subject, string? Before, string? After)> _audit = [];

    public PilotageDbContext Db { get; } = db;
    public DateTimeOffset Now { get; } = now;
    public string Actor { get; } = actor;

    /// <summary>Records a state change; it is chained into the audit trail in the command's own transaction.</summary>
    public void Audit(string action, string subject, string? before, string? after) =>
        _audit.Add((action, subject, before, after));

    internal IReadOnlyList<(string Action, string Subject, string? Before, string? After)> PendingAudit => _audit;
}

/// <summary>
/// Runs every state-changing command: one transaction that holds the audit head lock, applies the
/// change and appends its audit entries, so a change and its record commit together or not at all.
/// </summary>
/// <remarks>
/// Features above storage follow commands through the observers it defines: <see cref="ICommitObserver"/>
/// after the commit, <see cref="IAuditAppendObserver"/> inside the transaction.
/// </remarks>
public sealed class ControlPlane(PilotageStore store, TimeProvider time, IEnumerable<ICommitObserver> observers, IEnumerable<IAuditAppendObserver> auditObservers) : IDisposable
{
    private readonly ICommitObserver[] _observers = [.. observers];
    private readonly IAuditAppendObserver[] _auditObservers = [.. auditObservers];

    // Serialises commands inside this process; the head row lock does the same across replicas.
    private readonly SemaphoreSlim _gate = new(1, 1);

    public PilotageStore Store => store;

    /// <summary>
    /// The audit sequence of the last command this process committed. Its observers ran after it, so
    /// a replica notification for this sequence (or an older one) is already reflected here.
    /// </summary>
    public long LastCommittedSequence => Interlocked.Read(ref _lastCommitted);

    /// <summary>The PostgreSQL channel every committed change is announced on, with its audit sequence as payload.</summary>
    public const string ReplicaChannel = "pilotage_control";

    private long _lastCommitted;

    public async Task<T> ExecuteAsync<T>(string actor, Func<CommandContext, Task<T>> command, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = store.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var head = await LockHeadAsync(db, cancellationToken);
            var context = new CommandContext(db, AuditHasher.Normalise(time.GetUtcNow()), actor);
            var result = await command(context);
            var appended = AppendAudit(context, head);
            // Inside the transaction, before the save: what observers add commits with the entries or not at all.
            if (appended.Entries.Count > 0) foreach (var observer in _auditObservers) await observer.OnAppendedAsync(appended, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            if (context.PendingAudit.Count > 0 && db.Provider == StoreProvider.PostgreSql)
            {
                // Other replicas refresh their snapshots on this. Inside the transaction, PostgreSQL
                // delivers it on commit and never for a rolled-back change.
                var sequence = head.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await db.Database.ExecuteSqlAsync($"SELECT pg_notify({ReplicaChannel}, {sequence})", cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            if (context.PendingAudit.Count > 0)
            {
                InterlockedMax(ref _lastCommitted, head.Sequence);
                // Before the command answers: the next gateway request must already see the change.
                foreach (var observer in _observers) await observer.OnCommittedAsync(CancellationToken.None);
            }
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs work on the locked audit head in its own transaction, in turn with commands (the audit tree's catch-up).</summary>
    internal async Task<T> OnLockedHeadAsync<T>(Func<PilotageDbContext, AuditHeadRow, Task<T>> work, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = store.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var result = await work(db, await LockHeadAsync(db, cancellationToken));
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<AuditHeadRow> LockHeadAsync(PilotageDbContext db, CancellationToken cancellationToken)
    {
        var query = db.Provider == StoreProvider.PostgreSql
            ? db.AuditHead.FromSqlRaw("SELECT * FROM audit_head WHERE id = 1 FOR UPDATE")
            : db.AuditHead.Where(h => h.Id == 1);
        return await query.SingleAsync(cancellationToken);
    }

    private static AuditAppend AppendAudit(CommandContext context, AuditHeadRow head)
    {
        var entries = new List<AuditAppended>(context.PendingAudit.Count);
        foreach (var (action, subject, before, after) in context.PendingAudit)
        {
            var record = new AuditRecord(head.Sequence + 1, context.Now, context.Actor, action, subject, before, after, head.Hash);
            // One canonical encoding gives the chain hash and the Merkle leaf (docs/audit.md).
            var encoded = AuditHasher.Encode(record);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(encoded));
            var entry = new AuditEntryRow
            {
                Sequence = record.Sequence,
                At = record.At,
                Actor = record.Actor,
                Action = record.Action,
                Subject = record.Subject,
                Before = record.Before,
                After = record.After,
                PreviousHash = record.PreviousHash,
                Hash = hash,
            };
            context.Db.AuditEntries.Add(entry);
            entries.Add(new AuditAppended(entry, encoded));
            head.Sequence = record.Sequence;
            head.Hash = hash;
        }
        return new AuditAppend(context.Db, head, entries);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    public void Dispose() => _gate.Dispose();
}
