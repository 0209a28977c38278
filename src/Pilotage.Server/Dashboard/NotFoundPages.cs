using System.Net;

namespace Pilotage.Server.Dashboard;

/// <summary>
/// An address nothing answers, outside the machine surfaces (the gateway under <c>/v1</c>, the control
/// API under <c>/api</c>, the OpenAPI document, metrics and health probes): a person typed or followed it
/// in a browser, so they get the dashboard's not-found page (HTML, 404) with a way back, not a JSON
/// problem. A dashboard page that answers 404 without a body (an unknown system) gets the same page.
/// Machine surfaces keep their JSON answers.
/// </summary>
public sealed class NotFoundPages(RequestDelegate next)
{
    /// <summary>Paths that machines call: their 404 stays JSON (problem details, or the OpenAI error shape).</summary>
    private static readonly string[] MachinePrefixes = ["/v1", "/api", "/openapi", "/scim", "/metrics", "/healthz", "/readyz"];

    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        var response = context.Response;
        if (response.StatusCode != StatusCodes.Status404NotFound || response.HasStarted || response.ContentLength is not null
            || !string.IsNullOrEmpty(response.ContentType) || IsForMachines(context.Request.Path))
        {
            return;
        }
        SecurityHeaders.Apply(context);
        response.ContentType = "text/html; charset=utf-8";
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await response.WriteAsync(Page(context.Request.Path.Value ?? "/"), context.RequestAborted);
    }

    public static bool IsForMachines(PathString path) =>
        MachinePrefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>Plain markup, like the 403 page: it must render without any page model or session.</summary>
    internal static string Page(string path)
    {
        var shown = WebUtility.HtmlEncode(path.Length > 200 ? path[..200] + "…" : path);
        return $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Not found · Pilotage</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/dashboard/assets/dashboard.css"></head>
            <body><header class="top"><a class="brand" href="/dashboard">Pilotage</a></header>
            <main id="main" class="narrow"><h1>Not found</h1>
            <p class="alert warn" id="not-found">There is no page at <code>{shown}</code>. The address may be mistyped, or what it pointed to (a system, an incident) does not exist.</p>
            <p><a href="/dashboard">Go to the dashboard</a> (the portfolio, or your own page), or <a href="/dashboard/sign-in">sign in</a>.
            Programs use the control API under <code>/api/v1</code> (reference at <a href="/api">/api</a>) and the OpenAI-compatible gateway under <code>/v1</code>.</p></main></body></html>
            """;
    }
}
