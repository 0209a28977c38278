using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.People;

/// <param name="AssignedRole">The role an admin gave; in force when no mapped directory group gives one.</param>
/// <param name="RoleGroup">The directory group whose mapping gave <paramref name="Role"/>; null when the role is the one an admin gave.</param>
/// <param name="RoleReason">Why the person has <paramref name="Role"/>, in one sentence.</param>
public sealed record UserView(string Email, string? DisplayName, string Role, bool Active, IReadOnlyList<string> Groups, DateTimeOffset CreatedAt,
    string? AssignedRole = null, string? RoleGroup = null, string? RoleReason = null, string? ExternalId = null);
public sealed record CreateUserRequest(string? Email, string? Role, IReadOnlyList<string>? Groups, string? DisplayName);
public sealed record UpdateUserRequest(string? Role, bool? Active, string? DisplayName);
public sealed record GroupView(string Name, string? Description, IReadOnlyList<string> Members, DateTimeOffset CreatedAt);
public sealed record CreateGroupRequest(string? Name, string? Description);
public sealed record MeView(string Email, string Role, IReadOnlyList<string> Groups, string KeyId);

/// <summary>Users, groups and memberships: who may use which system, and in which role.</summary>
public static partial class PeopleEndpoints
{
    public static void MapPeople(this IEndpointRouteBuilder api)
    {
        api.MapGet("/me", (HttpContext http) =>
        {
            var actor = Actor.From(http.User);
            return new MeView(actor.Email, actor.Role.ToName(), actor.Groups, actor.KeyId);
        }).RequirePermission(Permission.Self).WithTags("People").WithSummary("Who the token belongs to");

        var users = api.MapGroup("/users").WithTags("People");
        users.MapGet("/", ListUsersAsync).RequirePermission(Permission.UsersRead).WithSummary("List users");
        users.MapGet("/{email}", GetUserAsync).RequirePermission(Permission.UsersRead).WithSummary("Get one user");
        users.MapPost("/", CreateUserAsync).RequirePermission(Permission.UsersManage).WithSummary("Add a user (creates missing groups)");
        users.MapPatch("/{email}", UpdateUserAsync).RequirePermission(Permission.UsersManage).WithSummary("Change a user's role, name or active flag");

        var groups = api.MapGroup("/groups").WithTags("People");
        groups.MapGet("/", ListGroupsAsync).RequirePermission(Permission.GroupsRead).WithSummary("List groups and members");
        groups.MapPost("/", CreateGroupAsync).RequirePermission(Permission.GroupsManage).WithSummary("Create a group");
        groups.MapPut("/{name}/members/{email}", AddMemberAsync).RequirePermission(Permission.GroupsManage).WithSummary("Add a user to a group");
        groups.MapDelete("/{name}/members/{email}", RemoveMemberAsync).RequirePermission(Permission.GroupsManage).WithSummary("Remove a user from a group");
    }

    private static async Task<IReadOnlyList<UserView>> ListUsersAsync(PilotageStore store, DirectoryRoles roles, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Users.AsNoTracking().Include(u => u.Memberships).ThenInclude(m => m.Group).OrderBy(u => u.Email).ToListAsync(ct);
        return rows.Select(u => ToView(u, roles)).ToList();
    }

    private static async Task<UserView> GetUserAsync(string email, PilotageStore store, DirectoryRoles roles, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await FindUserAsync(db, email, ct);
        return ToView(row, roles);
    }

    private static async Task<IResult> CreateUserAsync(CreateUserRequest? request, HttpContext http, ControlPlane control, DirectoryRoles roles, CancellationToken ct)
    {
        var email = NormaliseEmail(request?.Email);
        var role = ParseRole(request?.Role ?? "member");
        var groupNames = (request?.Groups ?? []).Select(g => NormaliseGroupName(g)).Distinct(StringComparer.Ordinal).ToList();
        var actor = Actor.From(http.User);
        var view = await control.ExecuteAsync(actor.Email, async command =>
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
        return Results.Created($"/api/v1/users/{email}", view);
    }

    private static async Task<UserView> UpdateUserAsync(string email, UpdateUserRequest? request, HttpContext http, ControlPlane control, DirectoryRoles roles, CancellationToken ct)
    {
        if (request is null || (request.Role is null && request.Active is null && request.DisplayName is null))
        {
            throw Problems.BadRequest("send at least one of role, active, displayName");
        }
        Role? role = request.Role is null ? null : ParseRole(request.Role);
        var actor = Actor.From(http.User);
        return await control.ExecuteAsync(actor.Email, async command =>
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

    private static async Task<IReadOnlyList<GroupView>> ListGroupsAsync(PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Groups.AsNoTracking().Include(g => g.Memberships).ThenInclude(m => m.User).OrderBy(g => g.Name).ToListAsync(ct);
        return rows.Select(g => new GroupView(g.Name, g.Description, g.Memberships.Select(m => m.User!.Email).Order(StringComparer.Ordinal).ToList(), g.CreatedAt)).ToList();
    }

    private static async Task<IResult> CreateGroupAsync(CreateGroupRequest? request, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var name = NormaliseGroupName(request?.Name);
        var actor = Actor.From(http.User);
        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            if (await command.Db.Groups.AnyAsync(g => g.Name == name, ct)) throw Problems.Conflict($"a group '{name}' already exists");
            var group = new GroupRow { Name = name, Description = request?.Description, CreatedAt = command.Now };
            command.Db.Groups.Add(group);
            var view = new GroupView(name, group.Description, [], command.Now);
            command.Audit("group.created", $"group:{name}", null, JsonSerializer.Serialize(view, PeopleApiJsonContext.Default.GroupView));
            return view;
        }, ct);
        return Results.Created($"/api/v1/groups/{name}", view);
    }

    private static async Task<IResult> AddMemberAsync(string name, string email, HttpContext http, ControlPlane control, DirectoryRoles roles, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
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
        return Results.Ok(new MembershipChange(name, email.ToLowerInvariant(), added ? "added" : "unchanged"));
    }

    private static async Task<IResult> RemoveMemberAsync(string name, string email, HttpContext http, ControlPlane control, DirectoryRoles roles, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
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
        return Results.Ok(new MembershipChange(name, email.ToLowerInvariant(), removed ? "removed" : "unchanged"));
    }

    internal static async Task<UserRow> FindUserAsync(PilotageDbContext db, string email, CancellationToken ct)
    {
        var normalised = email.Trim().ToLowerInvariant();
        return await db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).SingleOrDefaultAsync(u => u.Email == normalised, ct)
            ?? throw Problems.NotFound($"no user {normalised}; add one with 'pilotage users add {normalised}'");
    }

    internal static async Task<GroupRow> GetOrCreateGroupAsync(CommandContext command, string name, CancellationToken ct)
    {
        var group = command.Db.Groups.Local.FirstOrDefault(g => g.Name == name)
            ?? await command.Db.Groups.SingleOrDefaultAsync(g => g.Name == name, ct);
        if (group is not null) return group;
        group = new GroupRow { Name = name, CreatedAt = command.Now };
        command.Db.Groups.Add(group);
        command.Audit("group.created", $"group:{name}", null, JsonSerializer.Serialize(new GroupView(name, null, [], command.Now), PeopleApiJsonContext.Default.GroupView));
        return group;
    }

    internal static IEnumerable<string> GroupsOf(UserRow u) => u.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name);

    internal static UserView ToView(UserRow u, DirectoryRoles roles)
    {
        var decision = roles.Explain(u);
        // The reason explains the stored role; should they differ (a config change not yet applied), say so rather than guess.
        var reason = decision.Role.ToName() == u.Role ? decision.Reason : $"{u.Role} as stored; the mapping now gives {decision.Reason}";
        return new(u.Email, u.DisplayName, u.Role, u.Active, GroupsOf(u).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), u.CreatedAt,
            u.AssignedRole ?? u.Role, decision.Rule?.Group, reason, u.ExternalId);
    }

    internal static string NormaliseEmail(string? email)
    {
        var value = email?.Trim().ToLowerInvariant() ?? "";
        if (value.Length is 0 or > 320 || !EmailShape().IsMatch(value))
        {
            throw Problems.BadRequest($"'{email}' is not an e-mail address; users are identified by e-mail, e.g. dana@example.org");
        }
        return value;
    }

    internal static string NormaliseGroupName(string? name)
    {
        var value = name?.Trim().ToLowerInvariant() ?? "";
        if (!GroupShape().IsMatch(value))
        {
            throw Problems.BadRequest($"'{name}' is not a valid group name: use 1-100 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit");
        }
        return value;
    }

    private static Role ParseRole(string text) => Roles.TryParse(text, out var role)
        ? role
        : throw Problems.BadRequest($"unknown role '{text}'; roles are {string.Join(", ", Roles.All.Select(r => r.ToName()))}");

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailShape();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex GroupShape();
}

public sealed record MembershipChange(string Group, string Email, string Result);
