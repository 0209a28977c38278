using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>Answers held in approval mode, until a reviewer releases or rejects them.</summary>
public sealed class ApprovalStore(PilotageStore store)
{
    public async Task HoldAsync(string interactionId, string system, string response, DateTimeOffset at, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        db.Approvals.Add(new ApprovalRow { InteractionId = interactionId, System = system, State = "pending", HeldResponse = response, HeldAt = at });
        await db.SaveChangesAsync(ct);
    }

    public async Task<ApprovalRow?> FindAsync(string interactionId, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.Approvals.AsNoTracking().SingleOrDefaultAsync(a => a.InteractionId == interactionId, ct);
    }
}
