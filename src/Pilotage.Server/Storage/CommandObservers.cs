namespace Pilotage.Server.Storage;

/// <summary>Told after every committed control-plane command, so derived state can follow.</summary>
public interface ICommitObserver
{
    Task OnCommittedAsync(CancellationToken ct);
}

/// <summary>
/// Told of the audit entries a command appends, inside the command's transaction and before it saves:
/// whatever it adds to the context or writes on its connection commits with the entries or not at all
/// (the Merkle tree's nodes, the webhook outbox).
/// </summary>
public interface IAuditAppendObserver
{
    Task OnAppendedAsync(AuditAppend append, CancellationToken ct);
}

/// <summary>One command's audit entries: its context, the locked head (already past them), and each entry.</summary>
public sealed record AuditAppend(PilotageDbContext Db, AuditHeadRow Head, IReadOnlyList<AuditAppended> Entries);

/// <summary>An appended audit entry: the row and its canonical encoding (docs/audit.md).</summary>
public sealed record AuditAppended(AuditEntryRow Entry, byte[] Encoded);
