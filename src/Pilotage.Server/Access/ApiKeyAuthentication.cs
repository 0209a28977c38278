using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Pilotage.Core.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Access;

/// <summary>
/// Bearer authentication with Pilotage API keys: the same keys the gateway accepts. A key is found
/// by the id inside the token in the policy snapshot and compared by hash in constant time; revoked,
/// expired and deactivated keys are refused with the reason. When the server accepts the identity
/// provider's access tokens, a JWT is checked by <see cref="AccessTokens"/> instead, as on the gateway.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PolicyCache policy,
    AccessTokens tokens,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PilotageKey";
    public const string KeyIdClaim = "pilotage:key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (tokens.Enabled && Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)
            && PolicySnapshot.BearerToken(header) is { } bearer && AccessTokens.LooksLikeJwt(bearer))
        {
            var check = await tokens.CheckAsync(bearer, Context.RequestAborted);
            return check.Grant is { } grant
                ? AuthenticateResult.Success(new AuthenticationTicket(PrincipalFor(grant, SchemeName), SchemeName))
                : AuthenticateResult.Fail(check.Message);
        }
        return await KeyAsync(header);
    }

    private Task<AuthenticateResult> KeyAsync(string header)
    {
        // ASP.NET Core authenticates every request with the default scheme; only the control API
        // uses this one (the gateway checks keys itself), so other paths cost nothing here.
        if (!Request.Path.StartsWithSegments("/api", StringComparison.Ordinal)) return Task.FromResult(AuthenticateResult.NoResult());
        if (string.IsNullOrEmpty(header)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header must be 'Bearer <pilotage key>'"));
        }
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > 512) return Task.FromResult(AuthenticateResult.Fail("the bearer token is empty or too long"));

        // The policy snapshot is rebuilt before any key, role or membership change answers, so it is
        // as current as the database and spares a query per request.
        var check = policy.Current.CheckKey(token, time.GetUtcNow());
        var key = check.Key;
        var failure = check.Problem switch
        {
            KeyProblem.None => null,
            KeyProblem.Revoked => $"API key {key!.Id} was revoked; ask for a new key",
            KeyProblem.Expired => $"API key {key!.Id} expired at {key.ExpiresAt:u}; ask for a new key",
            KeyProblem.Deactivated => $"the account {key!.User.Email} is deactivated",
            _ => "unknown API key",
        };
        if (failure is not null) return Task.FromResult(AuthenticateResult.Fail(failure));
        key = check.Key!;
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(PrincipalFor(key, SchemeName), SchemeName)));
    }

    /// <summary>The claims <see cref="Actor.From"/> reads, for a key: the API and the dashboard's session issue the same ones.</summary>
    internal static ClaimsPrincipal PrincipalFor(KeyGrant key, string scheme)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, key.User.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Email, key.User.Email),
            new(ClaimTypes.Role, key.User.Role.ToName()),
            new(KeyIdClaim, key.Id),
        };
        claims.AddRange(key.User.Groups.Select(g => new Claim(Actor.GroupClaim, g)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var reason = result.Failure?.Message ?? "no credentials: send 'Authorization: Bearer <pilotage key>' (PILOTAGE_TOKEN for the CLI)";
        Response.Headers.WWWAuthenticate = "Bearer";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "Not signed in", reason);
    }
}

/// <summary>The signed-in caller, read from the claims the handler issued.</summary>
public sealed record Actor(long UserId, string Email, Role Role, string KeyId, IReadOnlyList<string> Groups)
{
    public const string GroupClaim = "pilotage:group";

    public static Actor From(ClaimsPrincipal user)
    {
        // An unknown role string gets the least privilege rather than an error.
        var role = Roles.TryParse(user.FindFirstValue(ClaimTypes.Role), out var parsed) ? parsed : Role.Member;
        return new Actor(
            long.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "0", System.Globalization.CultureInfo.InvariantCulture),
            user.FindFirstValue(ClaimTypes.Email) ?? "",
            role,
            user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? "",
            user.FindAll(GroupClaim).Select(c => c.Value).ToList());
    }

    public bool Can(Permission permission) => AccessMatrix.Allows(Role, permission);

    /// <summary>The caller as the per-system rules (<see cref="SystemAccess"/>) see them.</summary>
    public Person Person => new(Role, Email, Groups);
}
