namespace Pilotage.Server.Policy;

/// <summary>How the policy snapshot serves systems whose owner is gone (<c>PILOTAGE_ORPHANED_SYSTEMS</c>).</summary>
public sealed record PolicyOptions(OrphanedSystems OrphanedSystems = OrphanedSystems.RestrictToApproval);
