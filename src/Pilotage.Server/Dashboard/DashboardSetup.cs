using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// The web dashboard: Razor Pages under <c>/dashboard</c>, served by the same process as the API and
/// the gateway. A person signs in with an API key; the session lives in the store
/// (<see cref="DashboardSessionStore"/>) and the cookie only names it, so signing out ends it on the
/// server. Every request also checks the key again in the policy snapshot (a revoked key signs the session out).
/// The cookie scheme is used by dashboard pages only: the control API still accepts bearer keys alone,
/// so a browser's cookie can never be replayed against it (no CSRF on the API).
/// </summary>
public static class DashboardSetup
{
    public const string Scheme = "PilotageDashboard";
    public const string Policy = "DashboardSignedIn";
    public const string Root = "/dashboard";
    public const string SignInPath = "/dashboard/sign-in";

    /// <summary>How long a session lasts without use (it slides while used).</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);

    public static IServiceCollection AddDashboard(this IServiceCollection services, Identity.OidcOptions? oidc = null)
    {
        services.AddRazorPages(o =>
            {
                o.RootDirectory = "/Dashboard/Pages";
                o.Conventions.AuthorizeFolder("/", Policy);
                o.Conventions.AllowAnonymousToPage("/SignIn");
            })
            // The pages are compiled into this library, not into the host that starts it (CLI or tests).
            .AddApplicationPart(typeof(DashboardSetup).Assembly);
        services.AddAuthentication().AddCookie(Scheme, o =>
        {
            o.Cookie.Name = "pilotage-session";
            o.Cookie.Path = Root;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Secure whenever the dashboard is reached over https; plain http only on a loopback/dev setup.
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.LoginPath = SignInPath;
            o.LogoutPath = "/dashboard/sign-out";
            o.ReturnUrlParameter = "returnUrl";
            o.ExpireTimeSpan = SessionLifetime;
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = ValidateAsync;
        });
        services.AddDashboardSessions();
        DashboardProviderSignIn.Add(services, oidc);
        services.AddAuthorization(o => o.AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser()));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "pilotage-csrf";
            o.Cookie.Path = Root;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "__csrf";
        });
        // The key ring lives in the store (table data_protection_keys), for both providers: a restart keeps
        // people signed in, and every replica on the same database reads the same ring, so a session issued
        // by one replica is accepted by another. The application name is fixed (not the content root) because
        // replicas may run from different folders; it is part of every protected payload's purpose.
        services.AddScoped<PilotageDbContext>(sp => sp.GetRequiredService<PilotageStore>().CreateDbContext());
        services.AddDataProtection()
            .SetApplicationName("pilotage")
            .PersistKeysToDbContext<PilotageDbContext>();
        // The one-shot notices after a form ("paused", "recorded") travel in a cookie scoped like the session's.
        services.Configure<Microsoft.AspNetCore.Mvc.CookieTempDataProviderOptions>(o =>
        {
            o.Cookie.Name = "pilotage-notice";
            o.Cookie.Path = Root;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<DashboardData>();
        services.AddSingleton<YourPage>();
        return services;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(Root, StringComparison.OrdinalIgnoreCase), branch => branch.UseMiddleware<SecurityHeaders>());
        app.MapGet("/dashboard/assets/{name}", DashboardAssets.Serve).AllowAnonymous().ExcludeFromDescription();
        // The server's address in a browser opens the dashboard (which asks for a key when there is no session).
        app.MapGet("/", () => Results.Redirect(Root)).AllowAnonymous().ExcludeFromDescription();
        DashboardProviderSignIn.Map(app);
        app.MapRazorPages();
        return app;
    }

    /// <summary>Each request: the key must still be usable; the role and groups are read afresh (an admin may have changed them).</summary>
    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var keyId = context.Principal?.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim);
        var policy = context.HttpContext.RequestServices.GetRequiredService<PolicyCache>().Current;
        var now = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        if (context.Principal is { } signedIn && DashboardProviderSignIn.IsProviderSession(signedIn))
        {
            // Signed in through the identity provider: the person must still be known and active, as the snapshot has them.
            var email = signedIn.FindFirstValue(ClaimTypes.Email) ?? "";
            if (policy.People.TryGetValue(email, out var person) && person.Active && Identity.AccessTokens.CredentialId(person) == keyId)
            {
                context.ReplacePrincipal(ApiKeyAuthenticationHandler.PrincipalFor(Identity.AccessTokens.GrantFor(person), Scheme));
                return;
            }
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }
        if (keyId is null || !policy.Keys.TryGetValue(keyId, out var key) || !IsUsable(key, now))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }
        context.ReplacePrincipal(ApiKeyAuthenticationHandler.PrincipalFor(key, Scheme));
    }

    internal static bool IsUsable(KeyGrant key, DateTimeOffset now) =>
        !key.Revoked && (key.ExpiresAt is not { } expires || expires > now) && key.User.Active;
}
