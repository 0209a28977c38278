using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.People;

/// <summary>What the API reads about people and groups.</summary>
public sealed class PeopleQueries(PilotageStore store, DirectoryRoles roles)
{
    /// <summary>Who the caller's token belongs to.</summary>
    public static MeView Me(Actor actor) => new(actor.Email, actor.Role.ToName(), actor.Groups, actor.KeyId);

    public async Task<IReadOnlyList<UserView>> UsersAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Users.AsNoTracking().Include(u => u.Memberships).ThenInclude(m => m.Group).OrderBy(u => u.Email).ToListAsync(ct);
        return rows.Select(u => PeopleRules.ToView(u, roles)).ToList();
    }

    public async Task<UserView> UserAsync(string email, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await PeopleRules.FindUserAsync(db, email, ct);
        return PeopleRules.ToView(row, roles);
    }

    public async Task<IReadOnlyList<GroupView>> GroupsAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var rows = await db.Groups.AsNoTracking().Include(g => g.Memberships).ThenInclude(m => m.User).OrderBy(g => g.Name).ToListAsync(ct);
        return rows.Select(g => new GroupView(g.Name, g.Description, g.Memberships.Select(m => m.User!.Email).Order(StringComparer.Ordinal).ToList(), g.CreatedAt)).ToList();
    }
}
