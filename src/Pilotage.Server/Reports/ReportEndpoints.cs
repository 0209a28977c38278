using System.Text;
using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Api;

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

    private static async Task<IResult> GetAsync(string slug, string? format, HttpContext http, EvidenceReportService reports, CancellationToken ct)
    {
        var chosen = string.IsNullOrWhiteSpace(format) ? "json" : format.Trim().ToLowerInvariant();
        if (!ReportRenderer.Formats.Contains(chosen))
        {
            throw Problems.BadRequest($"unknown format '{format}': allowed formats are {string.Join(", ", ReportRenderer.Formats)}");
        }
        var report = await reports.BuildAsync(slug, ct);
        var body = ReportRenderer.Render(report, chosen);
        // The hash of the JSON rendering, whatever the format: what a decision made on this evidence stores.
        http.Response.Headers[Sha256Header] = report.Sha256;
        return Results.Text(body, ReportRenderer.ContentType(chosen), Encoding.UTF8);
    }
}
