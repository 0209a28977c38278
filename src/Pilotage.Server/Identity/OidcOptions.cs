using System.Net;

namespace Pilotage.Server.Identity;

/// <summary>
/// The organisation's OpenID provider (<c>serve --oidc-*</c>, config <c>Pilotage:Oidc:*</c>; docs/identity.md): the
/// dashboard signs people in with it and the gateway and the control API accept the access tokens it issues.
/// </summary>
public sealed record OidcOptions
{
    /// <summary>The largest clock skew the token rules allow: a token is never accepted more than 5 minutes after it expired.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    /// <summary><c>--oidc-authority</c>: the issuer; its discovery document is <c>{authority}/.well-known/openid-configuration</c>.</summary>
    public required Uri Authority { get; init; }

    /// <summary><c>--oidc-client-id</c>: the dashboard's client at the provider; null: no dashboard sign-in by the provider.</summary>
    public string? ClientId { get; init; }

    /// <summary><c>--oidc-client-secret-env</c>: the environment variable holding the client's secret (never the secret itself on a command line).</summary>
    public string? ClientSecretEnv { get; init; }

    /// <summary>The client secret, read from <see cref="ClientSecretEnv"/> when the server starts.</summary>
    public string? ClientSecret { get; init; }

    /// <summary><c>--oidc-audience</c>: the <c>aud</c> an access token must carry to be accepted; null: access tokens are not accepted.</summary>
    public string? Audience { get; init; }

    /// <summary>The scopes the dashboard asks for at sign-in (config <c>Pilotage:Oidc:Scopes</c>; Okta needs <c>groups</c> for the groups claim).</summary>
    public IReadOnlyList<string> Scopes { get; init; } = ["openid", "email", "profile"];

    /// <summary><c>--oidc-groups-claim</c>: the claim holding the person's groups.</summary>
    public string GroupsClaim { get; init; } = "groups";

    /// <summary>Tolerance on <c>exp</c> and <c>nbf</c> for clocks that differ; at most <see cref="MaxClockSkew"/>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long the provider's discovery document and keys are used before they are fetched again in the background.</summary>
    public TimeSpan KeyRefreshInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The shortest time between two fetches forced by a token signed with a key Pilotage does not know (a rotation at
    /// the provider): bounds what a stream of forged tokens can make Pilotage ask of the provider.
    /// </summary>
    public TimeSpan MinimumKeyRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Validated tokens remembered until they expire, so a repeated token costs a hash and a lookup.</summary>
    public int TokenCacheSize { get; init; } = 10_000;

    /// <summary>The issuer without a trailing slash, as tokens carry it.</summary>
    public string Issuer => Authority.AbsoluteUri.TrimEnd('/');

    public Uri DiscoveryAddress => new(Issuer + "/.well-known/openid-configuration");

    /// <summary>A provider on this machine (local and test providers): plain http is allowed only there.</summary>
    public bool IsLoopback => Authority.IsLoopback || (IPAddress.TryParse(Authority.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    /// <summary>The options as given, or an <see cref="ArgumentException"/> that says what is wrong and how to fix it.</summary>
    public static OidcOptions? Create(string? authority, string? clientId, string? clientSecretEnv, string? audience, string? groupsClaim, Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(authority))
        {
            if (!string.IsNullOrWhiteSpace(clientId) || !string.IsNullOrWhiteSpace(audience))
            {
                throw new ArgumentException("--oidc-client-id and --oidc-audience need --oidc-authority (the provider's issuer URL, e.g. https://login.example.org/realms/acme)");
            }
            return null;
        }
        if (!Uri.TryCreate(authority.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
        {
            throw new ArgumentException($"--oidc-authority must be the provider's issuer URL, e.g. https://login.example.org/realms/acme; found '{authority}'");
        }
        var options = new OidcOptions
        {
            Authority = uri,
            ClientId = Blank(clientId),
            ClientSecretEnv = Blank(clientSecretEnv),
            Audience = Blank(audience),
            GroupsClaim = Blank(groupsClaim) ?? "groups",
        };
        if (uri.Scheme != Uri.UriSchemeHttps && !options.IsLoopback)
        {
            throw new ArgumentException($"--oidc-authority must use https (found '{authority}'): tokens and keys fetched over plain http could be replaced on the way. Plain http is accepted only for a provider on a loopback address (127.0.0.1, ::1, localhost).");
        }
        if (options.ClientId is null && options.Audience is null)
        {
            throw new ArgumentException("--oidc-authority needs --oidc-client-id (dashboard sign-in), --oidc-audience (access tokens on the gateway and the API), or both");
        }
        if (options.ClientSecretEnv is { } name)
        {
            var secret = environment(name);
            if (string.IsNullOrEmpty(secret)) throw new ArgumentException($"--oidc-client-secret-env names {name}, but that environment variable is not set");
            options = options with { ClientSecret = secret };
        }
        return options;
    }

    /// <summary>Checks the bounds the token rules promise (docs/identity.md).</summary>
    public OidcOptions Checked() =>
        ClockSkew < TimeSpan.Zero || ClockSkew > MaxClockSkew
            ? throw new ArgumentException($"the clock skew allowed on tokens must be between 0 and 5 minutes, found {ClockSkew}")
            : this;

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
