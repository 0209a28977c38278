using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Identity;
using Pilotage.Server.Storage;

namespace Pilotage.Server.People;

/// <summary>
/// Applies the operator's group → role mapping (<see cref="DirectoryRoleMap"/>) to people. Every path that changes
/// someone's groups applies it inside its command through <see cref="DirectoryRoleRule"/>: the API and CLI (<c>users
/// add</c>, <c>groups add-member</c>…), SCIM, and the identity provider's tokens and sign-ins
/// (<c>Identity/DirectoryPeople</c>). A change of rights is audited as <c>user.role_from_directory</c>, naming the
/// group and the rule.
/// </summary>
public sealed class DirectoryRoles(DirectoryRoleMap map, ControlPlane control, ILogger<DirectoryRoles> logger)
{
    /// <summary>The audit actor for changes no person made: the mapping applied at start-up after the config changed.</summary>
    public const string MappingActor = "pilotage:directory-roles";

    public DirectoryRoleMap Map => map;

    /// <summary>Why <paramref name="user"/> has the role they have, from their current groups.</summary>
    public RoleDecision Explain(UserRow user) =>
        map.Decide(DirectoryRoleRule.AssignedOf(user), user.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name));

    /// <summary>
    /// Sets <paramref name="user"/>'s role in force from <paramref name="groups"/> (their groups after the change) and
    /// audits the change when their rights change. <paramref name="via"/> names the path (api, scim, token…).
    /// </summary>
    public RoleDecision Apply(CommandContext command, UserRow user, IEnumerable<string> groups, string via) =>
        DirectoryRoleRule.Apply(map, command, user, groups, via);

    /// <summary>Makes <paramref name="user"/>'s groups exactly <paramref name="names"/>, auditing each membership added or removed.</summary>
    internal static async Task SetGroupsAsync(CommandContext command, UserRow user, IReadOnlyCollection<string> names, CancellationToken ct)
    {
        foreach (var membership in user.Memberships.Where(m => m.Group is not null && !names.Contains(m.Group.Name)).ToList())
        {
            user.Memberships.Remove(membership);
            command.Db.Memberships.Remove(membership);
            command.Audit("group.member_removed", $"group:{membership.Group!.Name}", JsonSerializer.Serialize(user.Email, PeopleJsonContext.Default.String), null);
        }
        var have = user.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !have.Contains(n)))
        {
            var group = await PeopleRules.GetOrCreateGroupAsync(command, name, ct);
            user.Memberships.Add(new GroupMembershipRow { User = user, Group = group });
            command.Audit("group.member_added", $"group:{name}", null, JsonSerializer.Serialize(user.Email, PeopleJsonContext.Default.String));
        }
    }

    /// <summary>
    /// At start-up: applies the mapping in force to everyone, so a changed config takes effect (and is audited)
    /// before the first request, not when each person's groups next change.
    /// </summary>
    public async Task ReconcileAsync(CancellationToken ct)
    {
        var changed = await control.ExecuteAsync(MappingActor, async command =>
        {
            var users = await command.Db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).ToListAsync(ct);
            var count = 0;
            foreach (var user in users)
            {
                var before = user.Role;
                Apply(command, user, user.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name), "config");
                if (before != user.Role) count++;
            }
            return count;
        }, ct);
        if (changed > 0) logger.LogWarning("The directory role mapping changed the role of {Count} people at start-up (audited as user.role_from_directory)", changed);
    }

    /// <summary>
    /// Ends everything a deactivated person still holds that the policy snapshot does not cover: their dashboard
    /// sessions are deleted in the deactivating command (the snapshot, rebuilt after the commit, refuses their keys).
    /// </summary>
    public static Task EndSessionsAsync(CommandContext command, long userId, CancellationToken ct) =>
        command.Db.DashboardSessions.Where(s => s.UserId == userId).ExecuteDeleteAsync(ct);
}

/// <summary>People's own audit payloads.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(string))]
internal sealed partial class PeopleJsonContext : JsonSerializerContext;
