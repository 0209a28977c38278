using System.Text;
using Pilotage.Core.Access;
using Pilotage.Server.Access;

namespace Pilotage.Server.Reports;

/// <summary><c>GET /api/v1/systems/{slug}/report?format=json|md|html</c>: the evidence report, rendered by the server.</summary>
public static class ReportEndpoints
{
    public const string Sha256Header = "x-pilotage-report-sha256";

    public static void MapReports(this IEndpointRouteBuilder api)
    {
        api.MapGet("/systems/{slug}/report", GetAsync).RequirePermission(Permission.SystemsRead).WithTags("Evidence")
            .WithSummary("The evidence report (json, md or html; html is one self-contained file with SVG charts)")
            .Produces<string>(StatusCodes.Status200OK, "application/json", "text/markdown", "text/html");
    }

    private static async Task<IResult> GetAsync(string slug, string? format, HttpContext http, ReportQueries reports, CancellationToken ct)
    {
        var rendered = await reports.RenderAsync(slug, format, ct);
        // The hash of the JSON rendering, whatever the format: what a decision made on this evidence stores.
        http.Response.Headers[Sha256Header] = rendered.Sha256;
        return Results.Text(rendered.Body, rendered.ContentType, Encoding.UTF8);
    }
}
