using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Identity;

/// <summary>A person as the identity provider's audit entries show them.</summary>
public sealed record DirectoryPersonView(string Email, string Role, bool Active, IReadOnlyList<string> Groups, string Source);

/// <summary>
/// People known from the identity provider: a person first seen in a valid token or sign-in becomes known (a member,
/// with the token's groups); later sights bring their groups up to date. The directory is the source of truth for
/// the groups of the people it names. Nothing is written while the groups are unchanged, so the request path reads
/// the policy snapshot only; a change is one audited command, after which the snapshot has it.
/// </summary>
public sealed class DirectoryPeople(ControlPlane control, PolicyCache policy, OidcOptions options, DirectoryRoleMap roles, ILogger<DirectoryPeople> logger) : IDisposable
{
    // First sights and group changes are rare; one at a time keeps two requests of a new person from racing to create them.
    private readonly SemaphoreSlim _writing = new(1, 1);

    /// <summary>The person as the snapshot has them after their groups are brought up to date.</summary>
    public async Task<Principal> EnsureAsync(string name, IEnumerable<string> groups, CancellationToken ct)
    {
        var wanted = Groups(groups);
        if (Current(name, wanted) is { } known) return known;
        await _writing.WaitAsync(ct);
        try
        {
            if (Current(name, wanted) is { } meanwhile) return meanwhile;
            await control.ExecuteAsync("identity-provider:" + options.Issuer, command => ApplyAsync(command, name, wanted, ct), ct);
            return policy.Current.People.TryGetValue(name, out var person)
                ? person
                : throw new InvalidOperationException($"the person {name} was recorded but is not in the policy snapshot");
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>The person when nothing needs writing: known with the same groups, or deactivated (whose record is left alone).</summary>
    private Principal? Current(string name, FrozenSet<string> wanted) =>
        policy.Current.People.TryGetValue(name, out var person) && (!person.Active || person.Groups.SetEquals(wanted)) ? person : null;

    private async Task<bool> ApplyAsync(CommandContext command, string name, FrozenSet<string> wanted, CancellationToken ct)
    {
        var db = command.Db;
        var user = await db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).SingleOrDefaultAsync(u => u.Email == name, ct);
        var source = "identity provider " + options.Issuer;
        if (user is null)
        {
            user = new UserRow { Email = name, Role = Role.Member.ToName(), CreatedAt = command.Now };
            db.Users.Add(user);
            foreach (var group in wanted.Order(StringComparer.Ordinal)) user.Memberships.Add(new GroupMembershipRow { User = user, Group = await GroupAsync(command, group, ct) });
            command.Audit("user.created", $"user:{name}", null, View(user.Email, user.Role, true, wanted, source));
            DirectoryRoleRule.Apply(roles, command, user, wanted, "token");
            return true;
        }
        var had = user.Memberships.Where(m => m.Group is not null).Select(m => m.Group!.Name).ToFrozenSet(StringComparer.Ordinal);
        if (had.SetEquals(wanted) || !user.Active) return false;
        foreach (var gone in user.Memberships.Where(m => m.Group is not null && !wanted.Contains(m.Group.Name)).ToList()) db.Memberships.Remove(gone);
        foreach (var added in wanted.Where(g => !had.Contains(g)).Order(StringComparer.Ordinal))
        {
            db.Memberships.Add(new GroupMembershipRow { UserId = user.Id, Group = await GroupAsync(command, added, ct) });
        }
        command.Audit("user.groups_from_directory", $"user:{name}", View(user.Email, user.Role, user.Active, had, source), View(user.Email, user.Role, user.Active, wanted, source));
        DirectoryRoleRule.Apply(roles, command, user, wanted, "token");
        return true;
    }

    private static Task<GroupRow> GroupAsync(CommandContext command, string name, CancellationToken ct) =>
        GroupRecords.GetOrCreateAsync(command, name, "from the identity provider", g => JsonSerializer.Serialize(g.Name, IdentityJsonContext.Default.String), ct);

    private static string View(string email, string role, bool active, IEnumerable<string> groups, string source) =>
        JsonSerializer.Serialize(new DirectoryPersonView(email, role, active, groups.Order(StringComparer.Ordinal).ToList(), source), IdentityJsonContext.Default.DirectoryPersonView);

    /// <summary>
    /// The groups Pilotage keeps from a claim: lowercased, and only names Pilotage can hold (letters, digits, '.', '_',
    /// '-'); a group with another name is left out (with a warning) rather than renamed into another group's name.
    /// </summary>
    private FrozenSet<string> Groups(IEnumerable<string> groups)
    {
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claimed in groups)
        {
            // Entra sends group object ids: the operator's Pilotage:Identity:GroupIds names them.
            var raw = roles.GroupNameOf(claimed) ?? claimed;
            var name = raw.Trim().ToLowerInvariant();
            if (GroupRecords.IsValidName(name)) kept.Add(name);
            else logger.LogWarning("Group '{Group}' from the identity provider is left out: group names are 1-100 of a-z 0-9 . _ - (docs/identity.md)", raw);
        }
        return kept.ToFrozenSet(StringComparer.Ordinal);
    }

    public void Dispose() => _writing.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(DirectoryPersonView))]
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class IdentityJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
