using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Pilotage.Core.Access;

/// <summary>One rule of the operator's mapping: members of <paramref name="Group"/> have <paramref name="Role"/>.</summary>
public sealed record RoleRule(string Group, Role Role)
{
    /// <summary>How the rule reads in <c>users show</c> and in the audit trail: <c>ai-reviewers → reviewer</c>.</summary>
    public override string ToString() => $"{Group} → {Role.ToName()}";
}

/// <summary>Where a person's role in force comes from.</summary>
public enum RoleSource
{
    /// <summary>No group of theirs is mapped: the role an admin gave them (member when none did).</summary>
    Assigned,
    /// <summary>The highest role among the mapped groups they are in.</summary>
    DirectoryGroup,
}

/// <summary>
/// A person's role in force and why: <see cref="Rule"/> is the mapped group that gave it (null when the
/// role is the one an admin gave), <see cref="Matched"/> every mapped group the person is in.
/// </summary>
public sealed record RoleDecision(Role Role, RoleSource Source, Role Assigned, RoleRule? Rule, IReadOnlyList<RoleRule> Matched)
{
    /// <summary>The reason in one sentence, as <c>users show</c> prints it.</summary>
    public string Reason => Rule is { } rule
        ? $"{Role.ToName()} from directory group {rule.Group} (rule {rule})"
            + (Matched.Count > 1 ? $"; also mapped: {string.Join(", ", Matched.Where(m => m != rule).Select(m => m.ToString()))}" : "")
        : $"{Role.ToName()} given by an admin; no group of theirs is mapped to a role";
}

/// <summary>
/// The operator's mapping from directory groups to Pilotage roles (config <c>Pilotage:Identity:Roles</c>), and
/// the table that turns a directory's group ids into group names (<c>Pilotage:Identity:GroupIds</c>; Entra ID
/// sends object ids in tokens). Immutable; <see cref="Decide"/> is a pure function of it.
/// </summary>
public sealed partial class DirectoryRoleMap
{
    private readonly FrozenDictionary<string, Role> _roles;
    private readonly FrozenDictionary<string, string> _groupIds;

    private DirectoryRoleMap(FrozenDictionary<string, Role> roles, FrozenDictionary<string, string> groupIds)
    {
        _roles = roles;
        _groupIds = groupIds;
    }

    public static DirectoryRoleMap Empty { get; } = new(FrozenDictionary<string, Role>.Empty, FrozenDictionary<string, string>.Empty);

    /// <summary>The rules, by group name.</summary>
    public IReadOnlyList<RoleRule> Rules => [.. _roles.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new RoleRule(r.Key, r.Value))];

    public bool IsEmpty => _roles.Count == 0;

    /// <summary>
    /// Reads the mapping; every entry that cannot be read is named in one <see cref="ArgumentException"/>, so
    /// the server refuses to start on a typo rather than give someone the wrong rights.
    /// </summary>
    public static DirectoryRoleMap Parse(IEnumerable<KeyValuePair<string, string?>> roles, IEnumerable<KeyValuePair<string, string?>> groupIds)
    {
        var problems = new List<string>();
        var map = new Dictionary<string, Role>(StringComparer.Ordinal);
        foreach (var (group, roleText) in roles)
        {
            var name = GroupName(group);
            if (name is null) problems.Add($"Pilotage:Identity:Roles: '{group}' is not a group name (1-100 lowercase letters, digits, '-', '_' or '.')");
            else if (!Roles.TryParse(roleText, out var role)) problems.Add($"Pilotage:Identity:Roles:{group}: unknown role '{roleText}'; roles are {string.Join(", ", Roles.All.Select(r => r.ToName()))}");
            else if (!map.TryAdd(name, role)) problems.Add($"Pilotage:Identity:Roles: group '{name}' is mapped twice");
        }
        var ids = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, group) in groupIds)
        {
            var name = GroupName(group);
            if (string.IsNullOrWhiteSpace(id) || id.Length > 256) problems.Add($"Pilotage:Identity:GroupIds: '{id}' is not a group id");
            else if (name is null) problems.Add($"Pilotage:Identity:GroupIds:{id}: '{group}' is not a group name (1-100 lowercase letters, digits, '-', '_' or '.')");
            else ids[id.Trim()] = name;
        }
        if (problems.Count > 0) throw new ArgumentException(string.Join("; ", problems));
        return new DirectoryRoleMap(map.ToFrozenDictionary(StringComparer.Ordinal), ids.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The Pilotage group a directory calls <paramref name="idOrName"/>: a group id listed in the table becomes
    /// its name; anything else is read as a name (lowercased). Null when it is neither.
    /// </summary>
    public string? GroupNameOf(string? idOrName) =>
        idOrName is null ? null : _groupIds.TryGetValue(idOrName.Trim(), out var name) ? name : GroupName(idOrName);

    /// <summary>
    /// The role in force for someone an admin gave <paramref name="assigned"/> and who is in <paramref name="groups"/>:
    /// the highest role a mapped group gives (admin, auditor, owner, reviewer, member, in that order; on equal roles
    /// the first group by name), or <paramref name="assigned"/> when no group of theirs is mapped.
    /// </summary>
    public RoleDecision Decide(Role assigned, IEnumerable<string> groups)
    {
        var matched = groups.Select(GroupName).OfType<string>().Distinct(StringComparer.Ordinal)
            .Where(_roles.ContainsKey).Select(g => new RoleRule(g, _roles[g]))
            .OrderByDescending(r => r.Role).ThenBy(r => r.Group, StringComparer.Ordinal).ToList();
        return matched.Count == 0
            ? new RoleDecision(assigned, RoleSource.Assigned, assigned, null, [])
            : new RoleDecision(matched[0].Role, RoleSource.DirectoryGroup, assigned, matched[0], matched);
    }

    private static string? GroupName(string? text)
    {
        var value = text?.Trim().ToLowerInvariant() ?? "";
        return GroupShape().IsMatch(value) ? value : null;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex GroupShape();
}
