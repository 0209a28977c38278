using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Server.Api;
using Pilotage.Server.People;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Scim;

/// <summary>
/// <c>/scim/v2/Groups</c> (RFC 7644): SCIM groups are Pilotage groups, the ones specs name in their pilot and rollout
/// stages. The group's name is its <c>displayName</c> lowercased with spaces and other characters as '-'
/// ("AI Reviewers" is <c>ai-reviewers</c>), fixed at creation; the display name itself is kept beside it. Every
/// membership change applies the operator's group → role mapping to the person (<see cref="DirectoryRoles"/>).
/// </summary>
public sealed class ScimGroups(PilotageStore store, ControlPlane control, DirectoryRoles roles)
{
    private static readonly string[] FilterAttributes = ["displayName", "externalId"];

    public static void Map(RouteGroupBuilder scim)
    {
        var groups = scim.MapGroup("/Groups");
        groups.MapGet("/", (HttpContext http, ScimGroups g) => g.ListAsync(http));
        groups.MapGet("/{id}", (string id, HttpContext http, ScimGroups g) => g.GetAsync(id, http));
        groups.MapPost("/", (HttpContext http, ScimGroups g) => g.CreateAsync(http));
        groups.MapPut("/{id}", (string id, HttpContext http, ScimGroups g) => g.ReplaceAsync(id, http));
        groups.MapPatch("/{id}", (string id, HttpContext http, ScimGroups g) => g.PatchAsync(id, http));
        groups.MapDelete("/{id}", (string id, HttpContext http, ScimGroups g) => g.DeleteAsync(id, http));
    }

    private async Task<IResult> ListAsync(HttpContext http)
    {
        var filter = ScimFilter.Parse(http.Request.Query["filter"], FilterAttributes);
        var (start, count) = ScimProtocol.Page(http);
        // Entra ID asks for groups without members (excludedAttributes=members) to keep pages small.
        var withMembers = !((string?)http.Request.Query["excludedAttributes"] ?? "").Contains("members", StringComparison.OrdinalIgnoreCase);
        await using var db = store.CreateDbContext();
        var query = db.Groups.AsNoTracking();
        if (filter is { Attribute: "displayName" })
        {
            var name = NameOf(filter.Value, quiet: true);
            query = query.Where(g => g.Name == name || g.DisplayName == filter.Value);
        }
        if (filter is { Attribute: "externalId" }) query = query.Where(g => g.ExternalId == filter.Value);
        var total = await query.CountAsync(http.RequestAborted);
        var page = await query.OrderBy(g => g.Id).Skip(start - 1).Take(count)
            .Include(g => g.Memberships).ThenInclude(m => m.User).ToListAsync(http.RequestAborted);
        var list = new ScimGroupList([ScimSchemas.ListResponse], total, start, page.Count, page.Select(g => ToScim(g, http, withMembers)).ToList());
        return ScimProtocol.Json(list, ScimJsonContext.Default.ScimGroupList);
    }

    private async Task<IResult> GetAsync(string id, HttpContext http)
    {
        await using var db = store.CreateDbContext();
        var group = await FindAsync(db, id, http.RequestAborted);
        return ScimProtocol.Json(ToScim(group, http, true), ScimJsonContext.Default.ScimGroup);
    }

    private async Task<IResult> CreateAsync(HttpContext http)
    {
        var body = await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimGroup);
        var name = NameOf(body.DisplayName, quiet: false)!;
        var members = (body.Members ?? []).Select(m => m.Value ?? throw ScimException.BadRequest("invalidValue", "each member is {\"value\": \"<user id>\"}")).ToList();
        var group = await control.ExecuteAsync(ScimProtocol.Actor, async command =>
        {
            if (await command.Db.Groups.AnyAsync(g => g.Name == name, http.RequestAborted))
            {
                throw ScimException.Conflict($"a group '{name}' already exists; find it with filter=displayName eq \"{body.DisplayName}\"");
            }
            var group = new GroupRow { Name = name, DisplayName = DisplayOf(body.DisplayName, name), ExternalId = body.ExternalId, CreatedAt = command.Now };
            command.Db.Groups.Add(group);
            command.Audit("group.created", $"group:{name}", null,
                JsonSerializer.Serialize(new GroupView(name, group.DisplayName, [], command.Now), PeopleApiJsonContext.Default.GroupView));
            await AddMembersAsync(command, group, members, http.RequestAborted);
            return group;
        }, http.RequestAborted);
        await using (var db = store.CreateDbContext()) group = await FindAsync(db, group.Id.ToString(CultureInfo.InvariantCulture), http.RequestAborted);
        http.Response.Headers.Location = Location(http, group.Id);
        return ScimProtocol.Json(ToScim(group, http, true), ScimJsonContext.Default.ScimGroup, StatusCodes.Status201Created);
    }

    private async Task<IResult> ReplaceAsync(string id, HttpContext http)
    {
        var body = await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimGroup);
        var members = (body.Members ?? []).Select(m => m.Value ?? throw ScimException.BadRequest("invalidValue", "each member is {\"value\": \"<user id>\"}")).ToList();
        var group = await ChangeAsync(id, http, async (command, group) =>
        {
            group.DisplayName = DisplayOf(body.DisplayName ?? group.DisplayName ?? group.Name, group.Name);
            group.ExternalId = body.ExternalId;
            await RemoveMembersAsync(command, group, null, http.RequestAborted, keep: members);
            await AddMembersAsync(command, group, members, http.RequestAborted);
        });
        return ScimProtocol.Json(ToScim(group, http, true), ScimJsonContext.Default.ScimGroup);
    }

    private async Task<IResult> PatchAsync(string id, HttpContext http)
    {
        var operations = ScimPatching.Operations(await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimPatch));
        var group = await ChangeAsync(id, http, async (command, group) =>
        {
            foreach (var operation in operations)
            {
                var steps = operation.Path is null
                    ? operation.Op == "remove" ? throw ScimException.BadRequest("noTarget", "a remove operation needs a path") : ScimPatching.Attributes(operation.Value)
                    : [(operation.Path, operation.Value ?? default)];
                foreach (var (path, value) in steps) await ApplyAsync(command, group, operation.Op, path, operation.Op == "remove" ? operation.Value : value, http.RequestAborted);
            }
        });
        return ScimProtocol.Json(ToScim(group, http, !string.Equals(http.Request.Query["excludedAttributes"], "members", StringComparison.OrdinalIgnoreCase)), ScimJsonContext.Default.ScimGroup);
    }

    private async Task ApplyAsync(CommandContext command, GroupRow group, string op, string path, JsonElement? value, CancellationToken ct)
    {
        var (isMembers, memberId) = ScimPatching.MemberPath(path);
        if (isMembers)
        {
            if (op == "remove") await RemoveMembersAsync(command, group, memberId is null ? value is { ValueKind: JsonValueKind.Array or JsonValueKind.Object } ? ScimPatching.MemberIds(value) : null : [memberId], ct);
            else
            {
                var ids = ScimPatching.MemberIds(value);
                if (op == "replace") await RemoveMembersAsync(command, group, null, ct, keep: ids);
                await AddMembersAsync(command, group, ids, ct);
            }
            return;
        }
        switch (path.ToLowerInvariant())
        {
            case "displayname":
                // The name specs use stays; the directory's name for it is kept beside it.
                group.DisplayName = DisplayOf(ScimPatching.Text(value, path) ?? group.Name, group.Name);
                break;
            case "externalid":
                group.ExternalId = op == "remove" ? null : ScimPatching.Text(value, path);
                break;
            case "id" or "schemas" or "meta":
                // Okta repeats the id in a path-less replace; it names the group already addressed.
                break;
            default:
                throw ScimException.BadRequest("invalidPath", $"a group has displayName, externalId and members; '{path}' is none of them");
        }
    }

    private async Task AddMembersAsync(CommandContext command, GroupRow group, IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        foreach (var user in await UsersAsync(command, ids, ct))
        {
            if (user.Memberships.Any(m => m.Group == group)) continue;
            user.Memberships.Add(new GroupMembershipRow { User = user, Group = group });
            command.Audit("group.member_added", $"group:{group.Name}", null, JsonSerializer.Serialize(user.Email, ApiJsonContext.Default.String));
            roles.Apply(command, user, PeopleRules.GroupsOf(user), "scim");
        }
    }

    /// <summary>Removes the members <paramref name="ids"/> names (all when null), except those in <paramref name="keep"/>.</summary>
    private async Task RemoveMembersAsync(CommandContext command, GroupRow group, IReadOnlyCollection<string>? ids, CancellationToken ct, IReadOnlyCollection<string>? keep = null)
    {
        var members = ids is null
            ? await command.Db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).Where(u => u.Memberships.Any(m => m.GroupId == group.Id)).ToListAsync(ct)
            : await UsersAsync(command, ids, ct);
        foreach (var user in members.Where(u => keep is null || !keep.Contains(u.Id.ToString(CultureInfo.InvariantCulture))))
        {
            var membership = user.Memberships.FirstOrDefault(m => m.Group == group);
            if (membership is null) continue;
            user.Memberships.Remove(membership);
            command.Db.Memberships.Remove(membership);
            command.Audit("group.member_removed", $"group:{group.Name}", JsonSerializer.Serialize(user.Email, ApiJsonContext.Default.String), null);
            roles.Apply(command, user, PeopleRules.GroupsOf(user), "scim");
        }
    }

    /// <summary>The users <paramref name="ids"/> names, with their groups; an id that names nobody refuses the whole change.</summary>
    private static async Task<List<UserRow>> UsersAsync(CommandContext command, IReadOnlyCollection<string> ids, CancellationToken ct)
    {
        var numbers = ids.Select(i => long.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n
            : throw ScimException.BadRequest("invalidValue", $"member '{i}' is not a user id; members are the ids of /scim/v2/Users")).Distinct().ToList();
        var users = await command.Db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).Where(u => numbers.Contains(u.Id)).ToListAsync(ct);
        if (numbers.Where(n => users.All(u => u.Id != n)).Select(n => (long?)n).FirstOrDefault() is { } missing)
        {
            throw ScimException.BadRequest("invalidValue", $"no user with id '{missing}'; provision the user before adding them to a group");
        }
        return users;
    }

    private async Task<IResult> DeleteAsync(string id, HttpContext http)
    {
        await control.ExecuteAsync(ScimProtocol.Actor, async command =>
        {
            var group = await FindAsync(command.Db, id, http.RequestAborted);
            await RemoveMembersAsync(command, group, null, http.RequestAborted);
            command.Db.Groups.Remove(group);
            command.Audit("group.deleted", $"group:{group.Name}",
                JsonSerializer.Serialize(new GroupView(group.Name, group.DisplayName, [], group.CreatedAt), PeopleApiJsonContext.Default.GroupView), null);
            return true;
        }, http.RequestAborted);
        return Results.NoContent();
    }

    /// <summary>Runs a change to one group as a command, then reads the group as it now is.</summary>
    private async Task<GroupRow> ChangeAsync(string id, HttpContext http, Func<CommandContext, GroupRow, Task> change)
    {
        await control.ExecuteAsync(ScimProtocol.Actor, async command =>
        {
            var group = await FindAsync(command.Db, id, http.RequestAborted);
            var (display, external) = (group.DisplayName, group.ExternalId);
            await change(command, group);
            if (display != group.DisplayName || external != group.ExternalId)
            {
                command.Audit("group.updated", $"group:{group.Name}", JsonSerializer.Serialize(display ?? group.Name, ApiJsonContext.Default.String),
                    JsonSerializer.Serialize(group.DisplayName ?? group.Name, ApiJsonContext.Default.String));
            }
            return true;
        }, http.RequestAborted);
        await using var db = store.CreateDbContext();
        return await FindAsync(db, id, http.RequestAborted);
    }

    private static async Task<GroupRow> FindAsync(PilotageDbContext db, string id, CancellationToken ct)
    {
        var key = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        return await db.Groups.Include(g => g.Memberships).ThenInclude(m => m.User).SingleOrDefaultAsync(g => g.Id == key, ct)
            ?? throw ScimException.NotFound($"no group with id '{id}'; list them with GET /scim/v2/Groups?filter=displayName eq \"…\"");
    }

    /// <summary>The Pilotage name of a directory group: "AI Reviewers" is <c>ai-reviewers</c>.</summary>
    internal static string? NameOf(string? displayName, bool quiet)
    {
        var text = new StringBuilder();
        foreach (var c in (displayName ?? "").Trim().ToLowerInvariant())
        {
            var keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (keep) text.Append(c);
            else if (text.Length > 0 && text[^1] != '-') text.Append('-');
        }
        var name = text.ToString().Trim('-', '.', '_');
        if (name.Length > 100) name = name[..100].TrimEnd('-', '.', '_');
        if (name.Length > 0) return name;
        return quiet ? null : throw ScimException.BadRequest("invalidValue", $"displayName '{displayName}' has no letters or digits to name a group by");
    }

    private static string? DisplayOf(string? displayName, string name) =>
        displayName is null || displayName == name ? null
        : displayName.Length > 256 ? throw ScimException.BadRequest("invalidValue", "displayName is longer than 256 characters") : displayName;

    private static string Location(HttpContext http, long id) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/scim/v2/Groups/{id.ToString(CultureInfo.InvariantCulture)}";

    private static ScimGroup ToScim(GroupRow g, HttpContext http, bool withMembers) => new(
        [ScimSchemas.Group], g.Id.ToString(CultureInfo.InvariantCulture), g.ExternalId, g.DisplayName ?? g.Name,
        withMembers
            ? g.Memberships.Where(m => m.User is not null).OrderBy(m => m.UserId)
                .Select(m => new ScimValue(m.UserId.ToString(CultureInfo.InvariantCulture), m.User!.Email,
                    Ref: $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/scim/v2/Users/{m.UserId.ToString(CultureInfo.InvariantCulture)}")).ToList()
            : null,
        new ScimMeta("Group", g.CreatedAt, null, Location(http, g.Id)));
}
