using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.People;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Scim;

/// <summary>
/// <c>/scim/v2/Users</c> (RFC 7644): SCIM users are Pilotage people. <c>userName</c> (or the primary e-mail when the
/// user name is not an address) is the person's e-mail and never changes; <c>active</c>, <c>displayName</c> and
/// <c>externalId</c> are kept. A deactivation (active false, or DELETE) refuses the person's keys on the very next
/// request and ends their dashboard sessions. Roles are never read from SCIM: they come from the group mapping.
/// </summary>
public sealed class ScimUsers(PilotageStore store, ControlPlane control, DirectoryRoles roles)
{
    private static readonly string[] FilterAttributes = ["userName", "externalId"];

    public static void Map(RouteGroupBuilder scim)
    {
        var users = scim.MapGroup("/Users");
        users.MapGet("/", (HttpContext http, ScimUsers u) => u.ListAsync(http));
        users.MapGet("/{id}", (string id, HttpContext http, ScimUsers u) => u.GetAsync(id, http));
        users.MapPost("/", (HttpContext http, ScimUsers u) => u.CreateAsync(http));
        users.MapPut("/{id}", (string id, HttpContext http, ScimUsers u) => u.ReplaceAsync(id, http));
        users.MapPatch("/{id}", (string id, HttpContext http, ScimUsers u) => u.PatchAsync(id, http));
        users.MapDelete("/{id}", (string id, HttpContext http, ScimUsers u) => u.DeleteAsync(id, http));
    }

    private async Task<IResult> ListAsync(HttpContext http)
    {
        var filter = ScimFilter.Parse(http.Request.Query["filter"], FilterAttributes);
        var (start, count) = ScimProtocol.Page(http);
        await using var db = store.CreateDbContext();
        var query = db.Users.AsNoTracking();
        // Stored lowercased (PeopleRules.NormaliseEmail), so an exact comparison with the lowercased value is case-insensitive.
        var userName = filter?.Value.Trim().ToLowerInvariant();
        if (filter is { Attribute: "userName" }) query = query.Where(u => u.Email == userName);
        if (filter is { Attribute: "externalId" }) query = query.Where(u => u.ExternalId == filter.Value);
        var total = await query.CountAsync(http.RequestAborted);
        var page = await query.OrderBy(u => u.Id).Skip(start - 1).Take(count)
            .Include(u => u.Memberships).ThenInclude(m => m.Group).ToListAsync(http.RequestAborted);
        var list = new ScimUserList([ScimSchemas.ListResponse], total, start, page.Count, page.Select(u => ToScim(u, http)).ToList());
        return ScimProtocol.Json(list, ScimJsonContext.Default.ScimUserList);
    }

    private async Task<IResult> GetAsync(string id, HttpContext http)
    {
        await using var db = store.CreateDbContext();
        var user = await FindAsync(db, id, http.RequestAborted);
        return ScimProtocol.Json(ToScim(user, http), ScimJsonContext.Default.ScimUser);
    }

    private async Task<IResult> CreateAsync(HttpContext http)
    {
        var body = await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimUser);
        var email = EmailOf(body);
        var created = await control.ExecuteAsync(ScimProtocol.Actor, async command =>
        {
            if (await command.Db.Users.AnyAsync(u => u.Email == email, http.RequestAborted))
            {
                throw ScimException.Conflict($"a user {email} already exists; find it with filter=userName eq \"{email}\" and PATCH it");
            }
            var user = new UserRow
            {
                Email = email,
                Role = Role.Member.ToName(),
                AssignedRole = Role.Member.ToName(),
                DisplayName = DisplayNameOf(body),
                ExternalId = Bounded(body.ExternalId, "externalId"),
                Active = body.Active ?? true,
                CreatedAt = command.Now,
            };
            command.Db.Users.Add(user);
            command.Audit("user.created", $"user:{email}", null, JsonSerializer.Serialize(PeopleRules.ToView(user, roles), PeopleApiJsonContext.Default.UserView));
            return user;
        }, http.RequestAborted);
        http.Response.Headers.Location = Location(http, created.Id);
        return ScimProtocol.Json(ToScim(created, http), ScimJsonContext.Default.ScimUser, StatusCodes.Status201Created);
    }

    private async Task<IResult> ReplaceAsync(string id, HttpContext http)
    {
        var body = await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimUser);
        var email = EmailOf(body);
        var user = await ChangeAsync(id, http, (command, user) =>
        {
            if (email != user.Email) throw Immutable(user.Email, email);
            user.DisplayName = DisplayNameOf(body);
            user.ExternalId = Bounded(body.ExternalId, "externalId");
            return SetActiveAsync(command, user, body.Active ?? user.Active, http.RequestAborted);
        });
        return ScimProtocol.Json(ToScim(user, http), ScimJsonContext.Default.ScimUser);
    }

    private async Task<IResult> PatchAsync(string id, HttpContext http)
    {
        var patch = await ScimProtocol.ReadAsync(http, ScimJsonContext.Default.ScimPatch);
        var operations = ScimPatching.Operations(patch);
        var user = await ChangeAsync(id, http, async (command, user) =>
        {
            foreach (var operation in operations)
            {
                if (operation.Path is null)
                {
                    if (operation.Op == "remove") throw ScimException.BadRequest("noTarget", "a remove operation needs a path");
                    foreach (var (attribute, value) in ScimPatching.Attributes(operation.Value)) await SetAsync(command, user, attribute, value, http.RequestAborted);
                }
                else
                {
                    await SetAsync(command, user, operation.Path, operation.Op == "remove" ? null : operation.Value, http.RequestAborted);
                }
            }
        });
        return ScimProtocol.Json(ToScim(user, http), ScimJsonContext.Default.ScimUser);
    }

    /// <summary>
    /// DELETE: Pilotage keeps people (evidence, reviews and the audit trail name them), so the user is deactivated
    /// and leaves every group instead; their keys and sessions stop at once, as for <c>active: false</c>.
    /// </summary>
    private async Task<IResult> DeleteAsync(string id, HttpContext http)
    {
        await ChangeAsync(id, http, async (command, user) =>
        {
            await SetActiveAsync(command, user, false, http.RequestAborted);
            await DirectoryRoles.SetGroupsAsync(command, user, [], http.RequestAborted);
            roles.Apply(command, user, [], "scim");
        });
        return Results.NoContent();
    }

    /// <summary>Runs a change to one user as a command and audits it as <c>user.updated</c> when the person's view changed.</summary>
    private async Task<UserRow> ChangeAsync(string id, HttpContext http, Func<CommandContext, UserRow, Task> change) =>
        await control.ExecuteAsync(ScimProtocol.Actor, async command =>
        {
            var user = await FindAsync(command.Db, id, http.RequestAborted);
            var before = JsonSerializer.Serialize(PeopleRules.ToView(user, roles), PeopleApiJsonContext.Default.UserView);
            await change(command, user);
            var after = JsonSerializer.Serialize(PeopleRules.ToView(user, roles), PeopleApiJsonContext.Default.UserView);
            if (before != after) command.Audit("user.updated", $"user:{user.Email}", before, after);
            return user;
        }, http.RequestAborted);

    /// <summary>One attribute of a PATCH. Attributes Pilotage does not keep (roles, title, the enterprise extension…) are ignored.</summary>
    private static async Task SetAsync(CommandContext command, UserRow user, string path, JsonElement? value, CancellationToken ct)
    {
        switch (path.Trim().ToLowerInvariant())
        {
            case "active":
                await SetActiveAsync(command, user, ScimPatching.Boolean(value, "active") ?? true, ct);
                break;
            case "displayname" or "name.formatted":
                user.DisplayName = Bounded(ScimPatching.Text(value, path), "displayName");
                break;
            case "externalid":
                user.ExternalId = Bounded(ScimPatching.Text(value, path), "externalId");
                break;
            case "username":
                var email = PeopleRules.NormaliseEmail(ScimPatching.Text(value, path));
                if (email != user.Email) throw Immutable(user.Email, email);
                break;
            case "name" when value is { ValueKind: JsonValueKind.Object } name && name.TryGetProperty("formatted", out var formatted):
                user.DisplayName = Bounded(ScimPatching.Text(formatted, "name.formatted"), "displayName");
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Activates or deactivates; a deactivation deletes the person's dashboard sessions in the same command, and the
    /// policy snapshot rebuilt before the answer refuses their keys (the path <c>users set --active false</c> takes).
    /// </summary>
    private static async Task SetActiveAsync(CommandContext command, UserRow user, bool active, CancellationToken ct)
    {
        if (user.Active == active) return;
        if (!active && user.Role == Role.Admin.ToName()
            && !await command.Db.Users.AnyAsync(u => u.Id != user.Id && u.Active && u.Role == "admin", ct))
        {
            throw new ScimException(StatusCodes.Status409Conflict, null, $"{user.Email} is the last active admin; Pilotage would have no admin left. Make someone else admin first");
        }
        user.Active = active;
        if (!active) await DirectoryRoles.EndSessionsAsync(command, user.Id, ct);
    }

    private static async Task<UserRow> FindAsync(PilotageDbContext db, string id, CancellationToken ct)
    {
        var key = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        return await db.Users.Include(u => u.Memberships).ThenInclude(m => m.Group).SingleOrDefaultAsync(u => u.Id == key, ct)
            ?? throw ScimException.NotFound($"no user with id '{id}'; list them with GET /scim/v2/Users?filter=userName eq \"…\"");
    }

    private static ScimException Immutable(string email, string asked) => ScimException.BadRequest("mutability",
        $"userName is {email} and cannot become {asked}: Pilotage identifies people by e-mail (specs, evidence and the audit trail name them). Create a new user instead");

    /// <summary>The person's e-mail: the userName when it is an address (Entra ID's UPN, Okta's login), else the primary e-mail.</summary>
    private static string EmailOf(ScimUser user)
    {
        var candidates = new[] { user.UserName }
            .Concat((user.Emails ?? []).OrderByDescending(e => e.Primary == true).Select(e => e.Value));
        var email = candidates.FirstOrDefault(c => c is not null && c.Contains('@', StringComparison.Ordinal))
            ?? throw ScimException.BadRequest("invalidValue", $"userName '{user.UserName}' is not an e-mail address and no e-mail is given; map the directory's mail attribute to userName");
        return PeopleRules.NormaliseEmail(email);
    }

    private static string? DisplayNameOf(ScimUser user) => Bounded(
        user.DisplayName ?? user.Name?.Formatted ?? (user.Name is { GivenName: not null } or { FamilyName: not null } ? $"{user.Name.GivenName} {user.Name.FamilyName}".Trim() : null),
        "displayName");

    private static string? Bounded(string? text, string attribute) =>
        text is { Length: > 256 } ? throw ScimException.BadRequest("invalidValue", $"{attribute} is longer than 256 characters") : text;

    private static string Location(HttpContext http, long id) =>
        $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/scim/v2/Users/{id.ToString(CultureInfo.InvariantCulture)}";

    private static ScimUser ToScim(UserRow u, HttpContext http)
    {
        var groups = u.Memberships.Where(m => m.Group is not null).OrderBy(m => m.Group!.Name, StringComparer.Ordinal)
            .Select(m => new ScimValue(m.Group!.Id.ToString(CultureInfo.InvariantCulture), m.Group.DisplayName ?? m.Group.Name, "direct",
                Ref: $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}/scim/v2/Groups/{m.Group.Id.ToString(CultureInfo.InvariantCulture)}"))
            .ToList();
        return new ScimUser([ScimSchemas.User], u.Id.ToString(CultureInfo.InvariantCulture), u.ExternalId, u.Email,
            u.DisplayName is null ? null : new ScimName(u.DisplayName, null, null), u.DisplayName,
            [new ScimValue(u.Email, Type: "work", Primary: true)], u.Active, groups.Count == 0 ? null : groups,
            new ScimMeta("User", u.CreatedAt, null, Location(http, u.Id)));
    }
}
