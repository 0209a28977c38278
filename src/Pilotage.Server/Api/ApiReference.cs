using System.Net;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Pilotage.Core.Access;

namespace Pilotage.Server.Api;

/// <summary>
/// A readable API reference at <c>/api</c>, generated from the endpoints themselves. Written here
/// rather than taken from an OpenAPI UI package because it shows what such UIs cannot: which roles
/// may call each endpoint under the access matrix. The machine-readable document is /openapi/v1.json.
/// </summary>
public static class ApiReference
{
    public static void MapApiReference(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api", (EndpointDataSource source) =>
        {
            var html = new StringBuilder();
            html.Append("""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pilotage control API</title>
                <meta name="viewport" content="width=device-width, initial-scale=1">
                <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1b1b1b}table{border-collapse:collapse;width:100%}
                th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}code{font-size:14px}
                .m{font-weight:600;width:5rem}</style></head><body>
                <h1>Pilotage control API</h1>
                <p>Send <code>Authorization: Bearer &lt;pilotage key&gt;</code>. Errors are RFC 9457 problem details.
                The OpenAPI document is at <a href="/openapi/v1.json">/openapi/v1.json</a>.</p>
                <table><thead><tr><th>Method</th><th>Path</th><th>What it does</th><th>Roles</th></tr></thead><tbody>
                """);
            var endpoints = source.Endpoints.OfType<RouteEndpoint>()
                .Where(e => e.RoutePattern.RawText?.StartsWith("/api/v1", StringComparison.Ordinal) == true)
                .OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal);
            foreach (var endpoint in endpoints)
            {
                var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [];
                var summary = endpoint.Metadata.GetMetadata<IEndpointSummaryMetadata>()?.Summary ?? "";
                var policy = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
                var roles = Enum.TryParse<Permission>(policy, out var permission)
                    ? string.Join(", ", Roles.All.Where(r => AccessMatrix.Allows(r, permission)).Select(r => r.ToName()))
                    : "anyone";
                html.Append("<tr><td class=m>").Append(WebUtility.HtmlEncode(string.Join(" ", methods)))
                    .Append("</td><td><code>").Append(WebUtility.HtmlEncode(endpoint.RoutePattern.RawText))
                    .Append("</code></td><td>").Append(WebUtility.HtmlEncode(summary))
                    .Append("</td><td>").Append(WebUtility.HtmlEncode(roles)).Append("</td></tr>");
            }
            html.Append("</tbody></table></body></html>");
            return Results.Content(html.ToString(), "text/html; charset=utf-8");
        }).AllowAnonymous().ExcludeFromDescription();
    }
}
