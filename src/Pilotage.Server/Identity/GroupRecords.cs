using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Identity;

/// <summary>
/// Groups as every path that names them keeps them (the API, SCIM, the identity provider's tokens and sign-ins): the
/// one shape a name may have, and the one way a missing group comes into being inside a command. It sits in Identity,
/// below People, because the identity provider's path creates groups too.
/// </summary>
public static partial class GroupRecords
{
    /// <summary>Whether <paramref name="name"/> (already lowercased) is a name Pilotage can hold: 1-100 of a-z 0-9 . _ -, starting with a letter or digit.</summary>
    public static bool IsValidName(string name) => GroupShape().IsMatch(name);

    /// <summary>
    /// The group called <paramref name="name"/>, created (and audited as <c>group.created</c> with the payload
    /// <paramref name="recorded"/> makes of it) when neither the command nor the store has it yet.
    /// </summary>
    public static async Task<GroupRow> GetOrCreateAsync(CommandContext command, string name, string? description, Func<GroupRow, string> recorded, CancellationToken ct)
    {
        var group = command.Db.Groups.Local.FirstOrDefault(g => g.Name == name)
            ?? await command.Db.Groups.SingleOrDefaultAsync(g => g.Name == name, ct);
        if (group is not null) return group;
        group = new GroupRow { Name = name, Description = description, CreatedAt = command.Now };
        command.Db.Groups.Add(group);
        command.Audit("group.created", $"group:{name}", null, recorded(group));
        return group;
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex GroupShape();
}
