using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>Answers held in approval mode, until a reviewer releases or rejects them (written with their record by the evidence writer).</summary>
public sealed class ApprovalStore(PilotageStore store)
{
    public async Task<ApprovalRow?> FindAsync(string interactionId, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.Approvals.AsNoTracking().SingleOrDefaultAsync(a => a.InteractionId == interactionId, ct);
    }
}
