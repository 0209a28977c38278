using Pilotage.Server.Api;

namespace Pilotage.Server.Reports;

/// <summary>A report rendered in one format, with the hash of its JSON rendering (what a decision on this evidence stores).</summary>
public sealed record RenderedReport(string Body, string ContentType, string Sha256);

/// <summary>
/// The report use cases: what the API's report endpoint, the dashboard's report pages and the CLI's
/// <c>pilotage report</c> (through the API) all go through.
/// </summary>
public sealed class ReportQueries(EvidenceReportService reports, ReportHtml html)
{
    /// <summary>The report of <paramref name="slug"/> now; a 404 problem for an unknown system.</summary>
    public Task<EvidenceReport> BuildAsync(string slug, CancellationToken ct) => reports.BuildAsync(slug, ct);

    /// <summary>The report in the format <c>?format=</c> names (json when none); a 400 problem naming the allowed ones otherwise.</summary>
    public async Task<RenderedReport> RenderAsync(string slug, string? format, CancellationToken ct)
    {
        var chosen = string.IsNullOrWhiteSpace(format) ? ReportFileFormat.Json
            : ReportRenderer.Parse(format) ?? throw Problems.BadRequest($"unknown format '{format}': allowed formats are {string.Join(", ", ReportRenderer.Formats)}");
        var report = await reports.BuildAsync(slug, ct);
        return await RenderAsync(report, chosen);
    }

    public async Task<RenderedReport> RenderAsync(EvidenceReport report, ReportFileFormat format)
    {
        var body = format switch
        {
            ReportFileFormat.Json => ReportRenderer.Json(report),
            ReportFileFormat.Md => ReportRenderer.Markdown(report),
            _ => await html.RenderAsync(report),
        };
        return new RenderedReport(body, ReportRenderer.ContentType(format), report.Sha256);
    }
}
