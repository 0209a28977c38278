using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

using static Pilotage.Server.People.PeopleRules;

namespace Pilotage.Server.People;

/// <summary>
/// Adding and changing people, groups and memberships, each one audited command. Every change of someone's groups
/// applies the operator's group → role mapping inside the command (<see cref="DirectoryRoles"/>).
/// </summary>
public sealed class PeopleCommands(ControlPlane control, DirectoryRoles roles)
{
    /// <summary>Adds a person (default role member), creating the groups named that do not exist yet.</summary>
    public Task<UserView> CreateUserAsync(CreateUserRequest? request, Actor actor, CancellationToken ct)
    {
        var email = NormaliseEmail(request?.Email);
        var role = ParseRole(request?.Role ?? "member");
        var groupNames = (request?.Groups ?? []).Select(g => NormaliseGroupName(g)).Distinct(StringComparer.Ordinal).ToList();
        return control.ExecuteAsync(actor.Email, async command =>
        {
            if (await command.Db.Users.AnyAsync(u => u.Email == email, ct))
            {
                throw Problems.Conflict($"a user {email} already exists; change it with PATCH /api/v1/users/{email}");
            }
            var user = new UserRow { Email = email, Role = role.ToName(), AssignedRole = role.ToName(), DisplayName = request?.DisplayName, CreatedAt = command.Now };
            command.Db.Users.Add(user);
            foreach (var name in groupNames)
            {
                var group = await GetOrCreateGroupAsync(command, name, ct);
                user.Memberships.Add(new GroupMembershipRow { User = user, Group = group });
            }
            var view = ToView(user, roles);
            command.Audit("user.created", $"user:{email}", null, JsonSerializer.Serialize(view, PeopleApiJsonContext.Default.UserView));
            roles.Apply(command, user, groupNames, "api");
            return ToView(user, roles);
        }, ct);
    }

    /// <summary>Changes a person's role, active flag or name; nobody deactivates or demotes themselves.</summary>
    public Task<UserView> UpdateUserAsync(string email, UpdateUserRequest? request, Actor actor, CancellationToken ct)
    {
        if (request is null || (request.Role is null && request.Active is null && request.DisplayName is null))
        {
            throw Problems.BadRequest("send at least one of role, active, displayName");
        }
        Role? role = request.Role is null ? null : ParseRole(request.Role);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var user = await FindUserAsync(command.Db, email, ct);
            var before = ToView(user, roles);
            if (user.Id == actor.UserId && (request.Active == false || (role is not null && role != Role.Admin)))
            {
                throw Problems.Conflict("you cannot deactivate or demote yourself; ask another admin");
            }
            if (role is not null)
            {
                // The admin's choice; a mapped directory group of theirs still decides the role in force.
                user.AssignedRole = role.Value.ToName();
                user.Role = roles.Explain(user).Role.ToName();
            }
            if (request.Active is not null) user.Active = request.Active.Value;
            if (request.Active == false) await DirectoryRoles.EndSessionsAsync(command, user.Id, ct);
            if (request.DisplayName is not null) user.DisplayName = request.DisplayName;
            var after = ToView(user, roles);
            if (!Equals(JsonSerializer.Serialize(before, PeopleApiJsonContext.Default.UserView), JsonSerializer.Serialize(after, PeopleApiJsonContext.Default.UserView)))
            {
                command.Audit("user.updated", $"user:{user.Email}",
                    JsonSerializer.Serialize(before, PeopleApiJsonContext.Default.UserView), JsonSerializer.Serialize(after, PeopleApiJsonContext.Default.UserView));
            }
            return after;
        }, ct);
    }

    public Task<GroupView> CreateGroupAsync(CreateGroupRequest? request, Actor actor, CancellationToken ct)
    {
        var name = NormaliseGroupName(request?.Name);
        return control.ExecuteAsync(actor.Email, async command =>
        {
            if (await command.Db.Groups.AnyAsync(g => g.Name == name, ct)) throw Problems.Conflict($"a group '{name}' already exists");
            var group = new GroupRow { Name = name, Description = request?.Description, CreatedAt = command.Now };
            command.Db.Groups.Add(group);
            var view = new GroupView(name, group.Description, [], command.Now);
            command.Audit("group.created", $"group:{name}", null, JsonSerializer.Serialize(view, PeopleApiJsonContext.Default.GroupView));
            return view;
        }, ct);
    }

    /// <summary>Adds a person to a group; adding someone already in it changes nothing.</summary>
    public async Task<MembershipChange> AddMemberAsync(string name, string email, Actor actor, CancellationToken ct)
    {
        var added = await control.ExecuteAsync(actor.Email, async command =>
        {
            var group = await command.Db.Groups.SingleOrDefaultAsync(g => g.Name == name, ct)
                ?? throw Problems.NotFound($"no group '{name}'; create it with POST /api/v1/groups");
            var user = await FindUserAsync(command.Db, email, ct);
            if (await command.Db.Memberships.AnyAsync(m => m.GroupId == group.Id && m.UserId == user.Id, ct)) return false;
            command.Db.Memberships.Add(new GroupMembershipRow { GroupId = group.Id, UserId = user.Id });
            command.Audit("group.member_added", $"group:{name}", null, JsonSerializer.Serialize(user.Email, ApiJsonContext.Default.String));
            roles.Apply(command, user, GroupsOf(user).Append(group.Name), "api");
            return true;
        }, ct);
        return new MembershipChange(name, email.ToLowerInvariant(), added ? "added" : "unchanged");
    }

    /// <summary>Takes a person out of a group; removing someone not in it changes nothing.</summary>
    public async Task<MembershipChange> RemoveMemberAsync(string name, string email, Actor actor, CancellationToken ct)
    {
        var removed = await control.ExecuteAsync(actor.Email, async command =>
        {
            var group = await command.Db.Groups.SingleOrDefaultAsync(g => g.Name == name, ct) ?? throw Problems.NotFound($"no group '{name}'");
            var user = await FindUserAsync(command.Db, email, ct);
            var membership = await command.Db.Memberships.SingleOrDefaultAsync(m => m.GroupId == group.Id && m.UserId == user.Id, ct);
            if (membership is null) return false;
            command.Db.Memberships.Remove(membership);
            command.Audit("group.member_removed", $"group:{name}", JsonSerializer.Serialize(user.Email, ApiJsonContext.Default.String), null);
            roles.Apply(command, user, GroupsOf(user).Where(g => g != group.Name), "api");
            return true;
        }, ct);
        return new MembershipChange(name, email.ToLowerInvariant(), removed ? "removed" : "unchanged");
    }
}
