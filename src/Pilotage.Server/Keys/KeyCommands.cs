using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.People;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Keys;

/// <summary>API keys: everyone creates and revokes their own; admins anybody's. Each is an audited command.</summary>
public sealed class KeyCommands(ControlPlane control, TimeProvider time)
{
    /// <summary>Creates a key for the caller or (admins) for someone else; the secret is in the answer only.</summary>
    public Task<CreatedKey> CreateAsync(CreateKeyRequest? request, Actor actor, CancellationToken ct)
    {
        var email = request?.User is null ? actor.Email : PeopleRules.NormaliseEmail(request.User);
        if (email != actor.Email && !actor.Can(Permission.KeysManageAll))
        {
            throw Problems.Forbidden($"only admins create keys for other people; you ({actor.Email}) may create keys for yourself");
        }
        if (request?.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            throw Problems.BadRequest($"expiresAt {expires:u} is in the past; give a future date");
        }
        return control.ExecuteAsync(actor.Email, async command =>
        {
            var user = await PeopleRules.FindUserAsync(command.Db, email, ct);
            if (!user.Active) throw Problems.Conflict($"{email} is deactivated; reactivate the account first");
            await CheckDelegationAsync(command.Db, actor, user, request?.ExpiresAt, ct);
            var (id, token) = ApiKeyToken.Generate();
            var row = new ApiKeyRow { Id = id, UserId = user.Id, Name = request?.Name, SecretHash = ApiKeyToken.Hash(token), CreatedAt = command.Now, ExpiresAt = request?.ExpiresAt?.ToUniversalTime() };
            command.Db.ApiKeys.Add(row);
            row.User = user;
            command.Audit("key.created", $"key:{id}", null, JsonSerializer.Serialize(KeyView.Of(row, command.Now), KeysApiJsonContext.Default.KeyView));
            return new CreatedKey(id, token, user.Email, row.Name, row.ExpiresAt);
        }, ct);
    }

    /// <summary>The key making the request bounds the one it creates: no later expiry, no right it lacks (403 naming which).</summary>
    private static async Task CheckDelegationAsync(PilotageDbContext db, Actor actor, UserRow holder, DateTimeOffset? expiresAt, CancellationToken ct)
    {
        var parent = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == actor.KeyId, ct)
            ?? throw Problems.Forbidden($"the key this request was made with ({actor.KeyId}) is not in the store; sign in again with a current key");
        var holderRole = Roles.TryParse(holder.Role, out var role) ? role : Role.Member;
        if (KeyDelegation.Refusal(new KeyRequest(parent.Id, actor.Role, parent.ExpiresAt, holder.Email, holderRole, expiresAt)) is { } refusal)
        {
            throw Problems.Forbidden(refusal);
        }
    }

    /// <summary>Revokes a key (the caller's own, or anybody's for admins); revoking a revoked key changes nothing.</summary>
    public Task<KeyView> RevokeAsync(string id, Actor actor, CancellationToken ct) =>
        control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await command.Db.ApiKeys.Include(k => k.User).SingleOrDefaultAsync(k => k.Id == id, ct)
                ?? throw Problems.NotFound($"no key '{id}'; 'pilotage keys list' shows the ids");
            if (row.UserId != actor.UserId && !actor.Can(Permission.KeysManageAll))
            {
                throw Problems.Forbidden($"key {id} belongs to someone else; only admins revoke other people's keys");
            }
            if (row.RevokedAt is not null) return KeyView.Of(row, command.Now);
            var before = JsonSerializer.Serialize(KeyView.Of(row, command.Now), KeysApiJsonContext.Default.KeyView);
            row.RevokedAt = command.Now;
            var view = KeyView.Of(row, command.Now);
            command.Audit("key.revoked", $"key:{id}", before, JsonSerializer.Serialize(view, KeysApiJsonContext.Default.KeyView));
            return view;
        }, ct);
}

/// <summary>What the API reads about keys.</summary>
public sealed class KeyQueries(PilotageStore store, TimeProvider time)
{
    /// <summary>The caller's keys, or everyone's for those who may read all keys (admins, auditors).</summary>
    public async Task<IReadOnlyList<KeyView>> ListAsync(Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.ApiKeys.AsNoTracking().Include(k => k.User).AsQueryable();
        if (!actor.Can(Permission.KeysReadAll)) query = query.Where(k => k.UserId == actor.UserId);
        var rows = await query.OrderBy(k => k.Id).ToListAsync(ct);
        var now = time.GetUtcNow();
        return rows.Select(k => KeyView.Of(k, now)).ToList();
    }
}
