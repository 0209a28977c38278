namespace Pilotage.Server.Storage;

/// <summary>Told after every committed control-plane command, so derived state can follow.</summary>
public interface ICommitObserver
{
    Task OnCommittedAsync(CancellationToken ct);
}

/// <summary>
/// Told of each audit entry a command appends, inside the command's transaction: whatever it adds to
/// the context commits with the entry or not at all (the webhook outbox, for one).
/// </summary>
public interface IAuditAppendObserver
{
    void OnAppended(PilotageDbContext db, AuditEntryRow entry);
}
