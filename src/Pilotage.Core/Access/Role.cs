using System.Text.Json.Serialization;

namespace Pilotage.Core.Access;

/// <summary>The roles of design.md: what a person may do through the control API and dashboard.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Role>))]
public enum Role
{
    /// <summary>Uses the gateway within their groups; gives feedback and files complaints.</summary>
    Member = 0,
    /// <summary>Works the review queues of the systems they review.</summary>
    Reviewer = 1,
    /// <summary>Owns systems: specs, decisions, pause, changes.</summary>
    Owner = 2,
    /// <summary>Reads everything, verifies and exports the audit trail, changes nothing.</summary>
    Auditor = 3,
    /// <summary>Everything.</summary>
    Admin = 4,
}

public static class Roles
{
    public static IReadOnlyList<Role> All { get; } = [Role.Admin, Role.Owner, Role.Reviewer, Role.Auditor, Role.Member];

    public static string ToName(this Role role) => role switch
    {
        Role.Admin => "admin",
        Role.Owner => "owner",
        Role.Reviewer => "reviewer",
        Role.Auditor => "auditor",
        _ => "member",
    };

    public static bool TryParse(string? text, out Role role)
    {
        foreach (var r in All)
        {
            if (string.Equals(r.ToName(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                role = r;
                return true;
            }
        }
        role = Role.Member;
        return false;
    }
}
