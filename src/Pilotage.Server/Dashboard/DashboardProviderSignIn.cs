using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Pilotage.Server.Access;
using Pilotage.Server.Identity;

namespace Pilotage.Server.Dashboard;

/// <summary>Whether the sign-in page offers the organisation's identity provider, and its origin (for the pages' form-action).</summary>
public sealed record ProviderSignIn(bool Enabled, string? Origin);

/// <summary>
/// Dashboard sign-in through the organisation's OpenID provider: authorization code with PKCE (ASP.NET Core's
/// OpenIdConnect handler), ending in the same stored cookie session as a key sign-in. The person is known from then
/// on, with the groups the id token names (<see cref="DirectoryPeople"/>). Key sign-in stays for break-glass admins.
/// Signing out ends the session here and at the provider (its end_session_endpoint).
/// </summary>
internal static class DashboardProviderSignIn
{
    public const string Scheme = "PilotageProvider";
    public const string StartPath = "/dashboard/sign-in/provider";

    /// <summary>
    /// Where the sign-in lands before the page asked for. The provider is another site, and a navigation that began
    /// there (the callback and its redirect) does not carry the SameSite=Strict session cookie; this page moves on by
    /// itself (a meta refresh is a same-site navigation), so the first page is reached signed in.
    /// </summary>
    public const string LandingPath = "/dashboard/signed-in";

    public static void Add(IServiceCollection services, OidcOptions? oidc)
    {
        services.AddSingleton(new ProviderSignIn(oidc?.ClientId is not null, oidc?.ClientId is null ? null : oidc.Authority.GetLeftPart(UriPartial.Authority)));
        if (oidc?.ClientId is null) return;
        services.AddAuthentication().AddOpenIdConnect(Scheme, o =>
        {
            o.Authority = oidc.Issuer;
            o.ClientId = oidc.ClientId;
            o.ClientSecret = oidc.ClientSecret;
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.UsePkce = true;
            // The code comes back on a GET, so the correlation cookies can be SameSite=Lax (form_post would need None).
            o.ResponseMode = OpenIdConnectResponseMode.Query;
            o.RequireHttpsMetadata = !oidc.IsLoopback;
            o.CallbackPath = "/dashboard/signin-oidc";
            o.SignedOutCallbackPath = "/dashboard/signout-oidc";
            o.SignInScheme = DashboardSetup.Scheme;
            o.SignOutScheme = DashboardSetup.Scheme;
            o.MapInboundClaims = false;
            o.Scope.Clear();
            foreach (var scope in oidc.Scopes) o.Scope.Add(scope);
            o.SaveTokens = false;
            foreach (var cookie in new[] { o.CorrelationCookie, o.NonceCookie })
            {
                cookie.SameSite = SameSiteMode.Lax;
                cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Path = DashboardSetup.Root;
            }
            o.Events.OnTokenValidated = SignedInAsync;
            o.Events.OnTicketReceived = context =>
            {
                context.ReturnUri = LandingPath + "?to=" + Uri.EscapeDataString(LocalTarget(context.ReturnUri));
                return Task.CompletedTask;
            };
            o.Events.OnRemoteFailure = context =>
            {
                // The provider's refusal (or a stale sign-in) sends the person back to the sign-in page with the reason.
                // Only a code travels in the address, so no link can put words of its own on the sign-in page.
                var code = context.Failure?.Message.Contains("deactivated", StringComparison.Ordinal) == true ? "deactivated" : "provider";
                context.Response.Redirect(DashboardSetup.SignInPath + "?problem=" + code);
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    public static void Map(WebApplication app)
    {
        // Only with a provider: without one the address does not exist.
        if (!app.Services.GetRequiredService<ProviderSignIn>().Enabled) return;
        app.MapGet(StartPath, (string? returnUrl) =>
            Results.Challenge(new AuthenticationProperties { RedirectUri = LocalTarget(returnUrl) }, [Scheme]))
            .AllowAnonymous().ExcludeFromDescription();
        app.MapGet(LandingPath, (string? to, HttpContext http) =>
        {
            var target = System.Net.WebUtility.HtmlEncode(LocalTarget(to));
            http.Response.Headers.CacheControl = "no-store";
            return Results.Content(
                $"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0;url={target}\"><title>Signed in</title></head>" +
                $"<body><p>Signed in. <a href=\"{target}\">Continue to the dashboard</a>.</p></body></html>", "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
    }

    /// <summary>A dashboard path to go to after sign-in; anything else (another host, a scheme-relative URL) is the dashboard's root.</summary>
    internal static string LocalTarget(string? path) =>
        !string.IsNullOrEmpty(path) && path.StartsWith(DashboardSetup.Root, StringComparison.Ordinal)
            && !path.StartsWith("//", StringComparison.Ordinal) && !path.Contains('\\', StringComparison.Ordinal)
            && !path.Contains("://", StringComparison.Ordinal)
            ? path : DashboardSetup.Root;

    /// <summary>The id token names the person: they become known (or their groups are brought up to date) and the session is theirs.</summary>
    private static async Task SignedInAsync(TokenValidatedContext context)
    {
        var services = context.HttpContext.RequestServices;
        var options = services.GetRequiredService<OidcOptions>();
        var claims = context.Principal!;
        var email = claims.FindFirstValue("email");
        if (!string.IsNullOrWhiteSpace(email) && string.Equals(claims.FindFirstValue("email_verified"), "false", StringComparison.OrdinalIgnoreCase))
        {
            // An address the provider has not verified could be anyone's.
            context.Fail($"the identity provider has not verified the e-mail {email}");
            return;
        }
        var name = !string.IsNullOrWhiteSpace(email) ? email.Trim().ToLowerInvariant() : claims.FindFirstValue("sub");
        if (string.IsNullOrWhiteSpace(name))
        {
            context.Fail("the identity provider's id token names nobody (no 'email' and no 'sub' claim)");
            return;
        }
        var groups = claims.FindAll(options.GroupsClaim).Select(c => c.Value);
        var person = await services.GetRequiredService<DirectoryPeople>().EnsureAsync(name, groups, context.HttpContext.RequestAborted);
        if (!person.Active)
        {
            context.Fail($"the account {person.Email} is deactivated in Pilotage");
            return;
        }
        context.Principal = ApiKeyAuthenticationHandler.PrincipalFor(AccessTokens.GrantFor(person), DashboardSetup.Scheme);
        // Only the id token is kept (in the stored session, never in the cookie): the provider's sign-out asks for it.
        var idToken = context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage.IdToken;
        if (idToken is not null) context.Properties!.StoreTokens([new AuthenticationToken { Name = OpenIdConnectParameterNames.IdToken, Value = idToken }]);
        context.Properties!.IsPersistent = false;
    }

    /// <summary>Whether a session was made by the provider (its credential is the person, not a key).</summary>
    public static bool IsProviderSession(ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim)?.StartsWith(AccessTokens.CredentialPrefix, StringComparison.Ordinal) == true;
}
