using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Identity;
using Pilotage.Server.Storage;

namespace Pilotage.Server.People;

/// <summary>
/// What every path that records people shares (the API's commands, SCIM, keys): the shape of an e-mail and a group
/// name, finding a person, creating a missing group, and a person as the API and the audit trail show them.
/// </summary>
public static partial class PeopleRules
{
    /// <summary>The person with <paramref name="email"/> (any case), with their groups; 404 naming how to add them.</summary>
    public static async Task<UserRow> FindUserAsync(PilotageDbContext db, string email, CancellationToken ct)
    {
        var normalised = email.Trim().ToLowerInvariant();
        return await db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).SingleOrDefaultAsync(u => u.Email == normalised, ct)
            ?? throw Problems.NotFound($"no user {normalised}; add one with 'pilotage users add {normalised}'");
    }

    /// <summary>The group called <paramref name="name"/>, created and audited (with its API view) when missing.</summary>
    public static Task<GroupRow> GetOrCreateGroupAsync(CommandContext command, string name, CancellationToken ct) =>
        GroupRecords.GetOrCreateAsync(command, name, null,
            g => JsonSerializer.Serialize(new GroupView(g.Name, g.Description, [], g.CreatedAt), PeopleApiJsonContext.Default.GroupView), ct);

    public static IEnumerable<string> GroupsOf(UserRow u) => u.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name);

    public static UserView ToView(UserRow u, DirectoryRoles roles)
    {
        var decision = roles.Explain(u);
        // The reason explains the stored role; should they differ (a config change not yet applied), say so rather than guess.
        var reason = decision.Role.ToName() == u.Role ? decision.Reason : $"{u.Role} as stored; the mapping now gives {decision.Reason}";
        return new(u.Email, u.DisplayName, u.Role, u.Active, GroupsOf(u).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), u.CreatedAt,
            u.AssignedRole ?? u.Role, decision.Rule?.Group, reason, u.ExternalId);
    }

    public static string NormaliseEmail(string? email)
    {
        var value = email?.Trim().ToLowerInvariant() ?? "";
        if (value.Length is 0 or > 320 || !EmailShape().IsMatch(value))
        {
            throw Problems.BadRequest($"'{email}' is not an e-mail address; users are identified by e-mail, e.g. dana@example.org");
        }
        return value;
    }

    public static string NormaliseGroupName(string? name)
    {
        var value = name?.Trim().ToLowerInvariant() ?? "";
        if (!GroupRecords.IsValidName(value))
        {
            throw Problems.BadRequest($"'{name}' is not a valid group name: use 1-100 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit");
        }
        return value;
    }

    public static Role ParseRole(string text) => Roles.TryParse(text, out var role)
        ? role
        : throw Problems.BadRequest($"unknown role '{text}'; roles are {string.Join(", ", Roles.All.Select(r => r.ToName()))}");

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+$")]
    private static partial Regex EmailShape();
}
