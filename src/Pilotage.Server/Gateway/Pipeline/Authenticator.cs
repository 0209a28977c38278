using Microsoft.Extensions.Primitives;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The first stage: the caller's Pilotage key, from <c>Authorization: Bearer</c> (OpenAI clients) or
/// <c>x-api-key</c> (Anthropic clients), checked against the policy snapshot; or an access token from the
/// organisation's identity provider (a JWT), checked by <see cref="AccessTokens"/>. Nothing else is read yet.
/// </summary>
internal static class Authenticator
{
    public const string AnthropicKeyHeader = "x-api-key";

    /// <summary>
    /// A key or, when the server accepts them, an access token. A token's person may be new to the snapshot the
    /// request started with, so the snapshot to decide on is returned with the grant.
    /// </summary>
    public static async ValueTask<(Step<KeyGrant> Key, PolicySnapshot Snapshot)> AuthenticateAsync(HttpRequest request, PolicyCache policy, AccessTokens tokens, DateTimeOffset now)
    {
        var snapshot = policy.Current;
        var token = TokenOf(request);
        if (!tokens.Enabled || !AccessTokens.LooksLikeJwt(token)) return (Authenticate(token, snapshot, now), snapshot);
        var check = await tokens.CheckAsync(token!, request.HttpContext.RequestAborted);
        return check.Grant is { } grant
            ? (grant, policy.Current)
            : (Refusal.Rejected(check.Status, check.Code, check.Message), snapshot);
    }

    /// <summary>The key already read from the request: reading it again would make its string again.</summary>
    private static Step<KeyGrant> Authenticate(string? token, PolicySnapshot snapshot, DateTimeOffset now)
    {
        var check = snapshot.CheckKey(token, now);
        var key = check.Key;
        return check.Problem switch
        {
            KeyProblem.None => check.Key!,
            KeyProblem.Missing => Rejected("missing_api_key", "send your Pilotage key as 'Authorization: Bearer <key>' or 'x-api-key: <key>' (an admin creates one with 'pilotage keys create --user <you>')"),
            KeyProblem.Unknown => Rejected("invalid_api_key", "this is not a valid Pilotage key; check the key you configured, or ask an admin for a new one"),
            KeyProblem.Revoked => Rejected("key_revoked", $"key {key!.Id} was revoked; ask an admin for a new one"),
            KeyProblem.Expired => Rejected("key_expired", $"key {key!.Id} expired on {key.ExpiresAt:yyyy-MM-dd}; ask an admin for a new one"),
            _ => Rejected("account_deactivated", $"the account {key!.User.Email} is deactivated"),
        };
    }

    /// <summary>The key the request carries: the bearer token, else the <c>x-api-key</c> header.</summary>
    public static string? TokenOf(HttpRequest request) =>
        PolicySnapshot.BearerToken(request.Headers.Authorization.ToString()) is { Length: > 0 } bearer ? bearer
        : request.Headers.TryGetValue(AnthropicKeyHeader, out var apiKey) && !StringValues.IsNullOrEmpty(apiKey) ? apiKey.ToString().Trim()
        : null;

    private static Refusal Rejected(string code, string message) => Refusal.Rejected(401, code, message);
}
