namespace Pilotage.Server.Dashboard;

/// <summary>
/// Headers on every dashboard response: scripts only from the app itself (no inline script, so an
/// injected &lt;script&gt; cannot run even if it slipped past encoding), no framing, no sniffing, no referrer.
/// Inline styles stay allowed: the server-drawn SVG charts and the evidence report carry their own.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            Apply(context);
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <summary>Sets the headers now (the not-found page, written outside <c>/dashboard</c>, uses it too).</summary>
    public static void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        // Signing out of a provider session posts the form here, which redirects to the provider: form-action must allow its origin.
        headers.ContentSecurityPolicy = context.RequestServices?.GetService<ProviderSignIn>() is { Origin: { } origin }
            ? ContentSecurityPolicy.Replace("form-action 'self'", "form-action 'self' " + origin, StringComparison.Ordinal)
            : ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        // Pages show who may do what and the evidence of systems: never kept by a shared cache.
        if (!context.Request.Path.StartsWithSegments("/dashboard/assets", StringComparison.OrdinalIgnoreCase)) headers.CacheControl = "no-store";
    }
}
