using System.Text.Json;
using System.Text.Json.Serialization;
using Pilotage.Core.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Identity;

/// <summary>A person's role as the audit trail records a change made by the directory mapping.</summary>
public sealed record DirectoryRoleChange(string Email, string Role, string Source, string? Group, string? Rule, string Reason, string Via);

/// <summary>
/// The operator's group → role mapping applied to one person inside a command: the one place that sets a role from
/// groups and audits it (<c>user.role_from_directory</c>), whichever path changed the groups (API, SCIM, a token).
/// </summary>
public static class DirectoryRoleRule
{
    /// <summary>
    /// Sets <paramref name="user"/>'s role in force from <paramref name="groups"/> (their groups after the change) and
    /// audits the change when their rights change. <paramref name="via"/> names the path (api, scim, token…).
    /// </summary>
    public static RoleDecision Apply(DirectoryRoleMap map, CommandContext command, UserRow user, IEnumerable<string> groups, string via)
    {
        var assigned = AssignedOf(user);
        var decision = map.Decide(assigned, groups);
        var now = decision.Role.ToName();
        if (string.Equals(user.Role, now, StringComparison.Ordinal)) return decision;
        var before = new DirectoryRoleChange(user.Email, user.Role, user.AssignedRole is null || user.AssignedRole == user.Role ? "assigned" : "directory", null, null, $"{user.Role} before the change", via);
        // The admin's choice is kept apart from the role in force, so leaving every mapped group restores it.
        user.AssignedRole ??= assigned.ToName();
        user.Role = now;
        var after = new DirectoryRoleChange(user.Email, now, decision.Source == RoleSource.DirectoryGroup ? "directory" : "assigned",
            decision.Rule?.Group, decision.Rule?.ToString(), decision.Reason, via);
        command.Audit("user.role_from_directory", $"user:{user.Email}", Json(before), Json(after));
        return decision;
    }

    /// <summary>The role an admin gave: the stored choice, or the role itself for people the mapping never changed.</summary>
    public static Role AssignedOf(UserRow user) =>
        Roles.TryParse(user.AssignedRole ?? user.Role, out var role) ? role : Role.Member;

    public static string Json(DirectoryRoleChange change) => JsonSerializer.Serialize(change, DirectoryRoleJsonContext.Default.DirectoryRoleChange);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DirectoryRoleChange))]
internal sealed partial class DirectoryRoleJsonContext : JsonSerializerContext;
