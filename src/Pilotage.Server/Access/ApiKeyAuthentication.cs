using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pilotage.Core.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Access;

/// <summary>
/// Bearer authentication with Pilotage API keys: the same keys the gateway accepts. A key is found
/// by the id inside the token and compared by hash in constant time; revoked, expired and
/// deactivated keys are refused with the reason.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    PilotageStore store,
    TimeProvider time)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "PilotageKey";
    public const string KeyIdClaim = "pilotage:key";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("the Authorization header must be 'Bearer <pilotage key>'");
        }
        var token = header["Bearer ".Length..].Trim();
        if (token.Length is 0 or > 512) return AuthenticateResult.Fail("the bearer token is empty or too long");

        await using var db = store.CreateDbContext();
        var id = ApiKeyToken.IdOf(token);
        var key = await db.ApiKeys.AsNoTracking()
            .Include(k => k.User!).ThenInclude(u => u.Memberships).ThenInclude(m => m.Group)
            .SingleOrDefaultAsync(k => k.Id == id, Context.RequestAborted);
        if (key?.User is null || !ApiKeyToken.Matches(token, key.SecretHash))
        {
            return AuthenticateResult.Fail("unknown API key");
        }
        var now = time.GetUtcNow();
        if (key.RevokedAt is not null) return AuthenticateResult.Fail($"API key {key.Id} was revoked at {key.RevokedAt:u}; ask for a new key");
        if (key.ExpiresAt is { } expires && expires <= now) return AuthenticateResult.Fail($"API key {key.Id} expired at {expires:u}; ask for a new key");
        if (!key.User.Active) return AuthenticateResult.Fail($"the account {key.User.Email} is deactivated");

        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, key.User.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(ClaimTypes.Email, key.User.Email),
            new(ClaimTypes.Role, key.User.Role),
            new(KeyIdClaim, key.Id),
        };
        claims.AddRange(key.User.Memberships.Where(m => m.Group is not null).Select(m => new Claim(Actor.GroupClaim, m.Group!.Name)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
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
}
