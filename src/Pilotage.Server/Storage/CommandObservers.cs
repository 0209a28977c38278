namespace Pilotage.Server.Storage;

/// <summary>Told after every committed control-plane command, so derived state can follow.</summary>
public interface ICommitObserver
{
    Task OnCommittedAsync(CancellationToken ct);
}

/// <summary>
/// Told of each audit entry a command appends, inside the command's transaction and before the head moves
/// past it: whatever it adds to the context commits with the entry or not at all (the Merkle tree's nodes,
/// the webhook outbox).
/// </summary>
public interface IAuditAppendObserver
{
    void OnAppended(AuditAppended appended);
}

/// <summary>An audit entry being appended: the command's context, the locked head, the row, and its canonical encoding (docs/audit.md).</summary>
public sealed record AuditAppended(PilotageDbContext Db, AuditHeadRow Head, AuditEntryRow Entry, byte[] Encoded);
