using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Keys;

public sealed record KeyView(string Id, string User, string? Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string State)
{
    /// <summary>A key row as the API shows it, its state as of <paramref name="now"/>.</summary>
    internal static KeyView Of(ApiKeyRow k, DateTimeOffset now)
    {
        var state = k.RevokedAt is not null ? "revoked" : k.ExpiresAt is { } e && e <= now ? "expired" : "active";
        return new KeyView(k.Id, k.User?.Email ?? "", k.Name, k.CreatedAt, k.ExpiresAt, k.RevokedAt, state);
    }
}

public sealed record CreateKeyRequest(string? User, string? Name, DateTimeOffset? ExpiresAt);
/// <summary>The only time a key's secret is shown.</summary>
public sealed record CreatedKey(string Id, string Key, string User, string? Name, DateTimeOffset? ExpiresAt);

/// <summary>The key routes: each binds the request, calls <see cref="KeyCommands"/> or <see cref="KeyQueries"/>, and answers.</summary>
public static class KeyEndpoints
{
    public static void MapKeys(this IEndpointRouteBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("Keys");
        keys.MapGet("/", (HttpContext http, KeyQueries queries, CancellationToken ct) => queries.ListAsync(Actor.From(http.User), ct))
            .RequirePermission(Permission.KeysOwn).WithSummary("List keys (yours, or all for admins and auditors)");
        keys.MapPost("/", CreateAsync).RequirePermission(Permission.KeysOwn).WithSummary("Create a key; the secret is returned once");
        keys.MapDelete("/{id}", (string id, HttpContext http, KeyCommands commands, CancellationToken ct) => commands.RevokeAsync(id, Actor.From(http.User), ct))
            .RequirePermission(Permission.KeysOwn).WithSummary("Revoke a key");
    }

    private static async Task<IResult> CreateAsync(CreateKeyRequest? request, HttpContext http, KeyCommands commands, CancellationToken ct)
    {
        var created = await commands.CreateAsync(request, Actor.From(http.User), ct);
        return Results.Created($"/api/v1/keys/{created.Id}", created);
    }
}
