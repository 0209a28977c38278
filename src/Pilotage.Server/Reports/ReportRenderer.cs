using System.Text.Json;

namespace Pilotage.Server.Reports;

/// <summary>The report's formats, all from one <see cref="EvidenceReport"/>: JSON (what decisions store and hash), Markdown and HTML.</summary>
public enum ReportFileFormat { Json, Md, Html }

/// <summary>
/// Renders an <see cref="EvidenceReport"/> as JSON (what decisions store and hash), Markdown
/// (<see cref="ReportMarkdown"/>, for tickets and reviews) or one self-contained HTML file
/// (<see cref="ReportHtml"/>: Razor components, inline CSS and server-drawn SVG charts, no script).
/// </summary>
public static class ReportRenderer
{
    /// <summary>Allowed values of <c>?format=</c>, as the API spells them.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["json", "md", "html"];

    /// <summary>The format a <c>?format=</c> value names (trimmed, any case); null for an unknown one.</summary>
    public static ReportFileFormat? Parse(string? format) => format?.Trim().ToLowerInvariant() switch
    {
        "json" => ReportFileFormat.Json,
        "md" => ReportFileFormat.Md,
        "html" => ReportFileFormat.Html,
        _ => null,
    };

    public static string ContentType(ReportFileFormat format) => format switch
    {
        ReportFileFormat.Json => "application/json; charset=utf-8",
        ReportFileFormat.Md => "text/markdown; charset=utf-8",
        _ => "text/html; charset=utf-8",
    };

    /// <summary>camelCase, indented, "\n" line ends, stable for the same evidence; <see cref="EvidenceReport.Sha256"/> is its hash.</summary>
    public static string Json(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.Serialize(report, ReportJsonContext.Default.EvidenceReport);
    }

    public static string Markdown(EvidenceReport report) => ReportMarkdown.Render(report);
}
