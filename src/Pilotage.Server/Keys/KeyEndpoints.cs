using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.People;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Keys;

public sealed record KeyView(string Id, string User, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string State);
public sealed record CreateKeyRequest(string? User, string? Name, DateTimeOffset? ExpiresAt);
/// <summary>The only time a key's secret is shown.</summary>
public sealed record CreatedKey(string Id, string Key, string User, string? Name, DateTimeOffset? ExpiresAt);

/// <summary>API keys: everyone manages their own; admins manage anybody's; auditors see all.</summary>
public static class KeyEndpoints
{
    public static void MapKeys(this IEndpointRouteBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("Keys");
        keys.MapGet("/", ListAsync).RequirePermission(Permission.KeysOwn).WithSummary("List keys (yours, or all for admins and auditors)");
        keys.MapPost("/", CreateAsync).RequirePermission(Permission.KeysOwn).WithSummary("Create a key; the secret is returned once");
        keys.MapDelete("/{id}", RevokeAsync).RequirePermission(Permission.KeysOwn).WithSummary("Revoke a key");
    }

    private static async Task<IReadOnlyList<KeyView>> ListAsync(HttpContext http, PilotageStore store, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        await using var db = store.CreateDbContext();
        var query = db.ApiKeys.AsNoTracking().Include(k => k.User).AsQueryable();
        if (!actor.Can(Permission.KeysReadAll)) query = query.Where(k => k.UserId == actor.UserId);
        var rows = await query.OrderBy(k => k.Id).ToListAsync(ct);
        var now = time.GetUtcNow();
        return rows.Select(k => ToView(k, now)).ToList();
    }

    private static async Task<IResult> CreateAsync(CreateKeyRequest? request, HttpContext http, ControlPlane control, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        var email = request?.User is null ? actor.Email : PeopleEndpoints.NormaliseEmail(request.User);
        if (email != actor.Email && !actor.Can(Permission.KeysManageAll))
        {
            throw Problems.Forbidden($"only admins create keys for other people; you ({actor.Email}) may create keys for yourself");
        }
        if (request?.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            throw Problems.BadRequest($"expiresAt {expires:u} is in the past; give a future date");
        }
        var created = await control.ExecuteAsync(actor.Email, async command =>
        {
            var user = await PeopleEndpoints.FindUserAsync(command.Db, email, ct);
            if (!user.Active) throw Problems.Conflict($"{email} is deactivated; reactivate the account first");
            await CheckDelegationAsync(command.Db, actor, user, request?.ExpiresAt, ct);
            var (id, token) = ApiKeyToken.Generate();
            var row = new ApiKeyRow { Id = id, UserId = user.Id, Name = request?.Name, SecretHash = ApiKeyToken.Hash(token), CreatedAt = command.Now, ExpiresAt = request?.ExpiresAt?.ToUniversalTime() };
            command.Db.ApiKeys.Add(row);
            row.User = user;
            command.Audit("key.created", $"key:{id}", null, JsonSerializer.Serialize(ToView(row, command.Now), KeysApiJsonContext.Default.KeyView));
            return new CreatedKey(id, token, user.Email, row.Name, row.ExpiresAt);
        }, ct);
        return Results.Created($"/api/v1/keys/{created.Id}", created);
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

    private static async Task<KeyView> RevokeAsync(string id, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await command.Db.ApiKeys.Include(k => k.User).SingleOrDefaultAsync(k => k.Id == id, ct)
                ?? throw Problems.NotFound($"no key '{id}'; 'pilotage keys list' shows the ids");
            if (row.UserId != actor.UserId && !actor.Can(Permission.KeysManageAll))
            {
                throw Problems.Forbidden($"key {id} belongs to someone else; only admins revoke other people's keys");
            }
            if (row.RevokedAt is not null) return ToView(row, command.Now);
            var before = JsonSerializer.Serialize(ToView(row, command.Now), KeysApiJsonContext.Default.KeyView);
            row.RevokedAt = command.Now;
            var view = ToView(row, command.Now);
            command.Audit("key.revoked", $"key:{id}", before, JsonSerializer.Serialize(view, KeysApiJsonContext.Default.KeyView));
            return view;
        }, ct);
    }

    private static KeyView ToView(ApiKeyRow k, DateTimeOffset now)
    {
        var state = k.RevokedAt is not null ? "revoked" : k.ExpiresAt is { } e && e <= now ? "expired" : "active";
        return new KeyView(k.Id, k.User?.Email ?? "", k.Name, k.CreatedAt, k.ExpiresAt, k.RevokedAt, state);
    }
}
