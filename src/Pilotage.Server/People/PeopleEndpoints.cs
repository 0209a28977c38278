using Pilotage.Core.Access;
using Pilotage.Server.Access;

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

/// <summary>The people routes: each binds the request, calls <see cref="PeopleCommands"/> or <see cref="PeopleQueries"/>, and answers.</summary>
public static class PeopleEndpoints
{
    public static void MapPeople(this IEndpointRouteBuilder api)
    {
        api.MapGet("/me", (HttpContext http) => PeopleQueries.Me(Actor.From(http.User)))
            .RequirePermission(Permission.Self).WithTags("People").WithSummary("Who the token belongs to");

        var users = api.MapGroup("/users").WithTags("People");
        users.MapGet("/", (PeopleQueries people, CancellationToken ct) => people.UsersAsync(ct))
            .RequirePermission(Permission.UsersRead).WithSummary("List users");
        users.MapGet("/{email}", (string email, PeopleQueries people, CancellationToken ct) => people.UserAsync(email, ct))
            .RequirePermission(Permission.UsersRead).WithSummary("Get one user");
        users.MapPost("/", CreateUserAsync).RequirePermission(Permission.UsersManage).WithSummary("Add a user (creates missing groups)");
        users.MapPatch("/{email}", (string email, UpdateUserRequest? request, HttpContext http, PeopleCommands people, CancellationToken ct) =>
                people.UpdateUserAsync(email, request, Actor.From(http.User), ct))
            .RequirePermission(Permission.UsersManage).WithSummary("Change a user's role, name or active flag");

        var groups = api.MapGroup("/groups").WithTags("People");
        groups.MapGet("/", (PeopleQueries people, CancellationToken ct) => people.GroupsAsync(ct))
            .RequirePermission(Permission.GroupsRead).WithSummary("List groups and members");
        groups.MapPost("/", CreateGroupAsync).RequirePermission(Permission.GroupsManage).WithSummary("Create a group");
        groups.MapPut("/{name}/members/{email}", (string name, string email, HttpContext http, PeopleCommands people, CancellationToken ct) =>
                people.AddMemberAsync(name, email, Actor.From(http.User), ct))
            .RequirePermission(Permission.GroupsManage).WithSummary("Add a user to a group");
        groups.MapDelete("/{name}/members/{email}", (string name, string email, HttpContext http, PeopleCommands people, CancellationToken ct) =>
                people.RemoveMemberAsync(name, email, Actor.From(http.User), ct))
            .RequirePermission(Permission.GroupsManage).WithSummary("Remove a user from a group");
    }

    private static async Task<IResult> CreateUserAsync(CreateUserRequest? request, HttpContext http, PeopleCommands people, CancellationToken ct)
    {
        var view = await people.CreateUserAsync(request, Actor.From(http.User), ct);
        return Results.Created($"/api/v1/users/{view.Email}", view);
    }

    private static async Task<IResult> CreateGroupAsync(CreateGroupRequest? request, HttpContext http, PeopleCommands people, CancellationToken ct)
    {
        var view = await people.CreateGroupAsync(request, Actor.From(http.User), ct);
        return Results.Created($"/api/v1/groups/{view.Name}", view);
    }
}

public sealed record MembershipChange(string Group, string Email, string Result);
