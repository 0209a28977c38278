namespace Pilotage.Server.Storage;

// Rows of the control-plane model. Mutable because EF Core materialises and tracks them; the domain
// works on the immutable Core records built from them.

public sealed class UserRow
{
    public long Id { get; set; }
    public required string Email { get; set; }
    public string? DisplayName { get; set; }
    public required string Role { get; set; }
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public List<GroupMembershipRow> Memberships { get; set; } = [];
}

public sealed class GroupRow
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<GroupMembershipRow> Memberships { get; set; } = [];
}

public sealed class GroupMembershipRow
{
    public long UserId { get; set; }
    public long GroupId { get; set; }
    public UserRow? User { get; set; }
    public GroupRow? Group { get; set; }
}

public sealed class ApiKeyRow
{
    public required string Id { get; set; }
    public long UserId { get; set; }
    public UserRow? User { get; set; }
    public string? Name { get; set; }
    /// <summary>SHA-256 of the whole token; the token itself is shown once and never stored.</summary>
    public required byte[] SecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

public sealed class AiSystemRow
{
    public long Id { get; set; }
    public required string Slug { get; set; }
    public required string Title { get; set; }
    public required string Owner { get; set; }
    public required string Risk { get; set; }
    public required string Purpose { get; set; }
    public required string Phase { get; set; }
    public int Stage { get; set; }
    public string? LastDecision { get; set; }
    public string? SuspendedPhase { get; set; }
    public int SuspendedStage { get; set; }
    /// <summary>Canonical JSON of the applied spec (see SpecCanonicalJson).</summary>
    public required string SpecJson { get; set; }
    public required string SpecHash { get; set; }
    public int ConfigVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>One version of a system's model configuration (config + upstream), kept for comparison and rollback.</summary>
public sealed class ConfigVersionRow
{
    public long SystemId { get; set; }
    public int Version { get; set; }
    public required string ConfigJson { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}

public sealed class AuditEntryRow
{
    public long Sequence { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
    public required string PreviousHash { get; set; }
    public required string Hash { get; set; }
}

/// <summary>
/// The last entry of the audit chain, updated with every append. Appenders lock this row, which
/// serialises them across replicas; verification compares it with the walk to catch a deleted tail.
/// </summary>
public sealed class AuditHeadRow
{
    public int Id { get; set; }
    public long Sequence { get; set; }
    public required string Hash { get; set; }
}
