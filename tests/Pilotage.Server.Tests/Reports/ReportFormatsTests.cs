using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Reports;

namespace Pilotage.Server.Tests.Reports;

/// <summary>
/// The Markdown and the HTML report come from one <see cref="EvidenceReport"/> through the same wording:
/// every figure row, every verdict and every readiness answer reads the same in both.
/// </summary>
public sealed class ReportFormatsTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    [Fact]
    public async Task Markdown_and_html_show_the_same_figures()
    {
        var queries = fixture.Harness.Server.App.Services.GetRequiredService<ReportQueries>();
        var report = await queries.BuildAsync(ReportFixture.System, CancellationToken.None);
        var md = (await queries.RenderAsync(report, ReportFileFormat.Md)).Body;
        var html = (await queries.RenderAsync(report, ReportFileFormat.Html)).Body;

        var figures = ReportTables.Quality(report.Quality).Concat(ReportTables.Review(report.Review)).ToList();
        Assert.True(figures.Count >= 12, $"expected every figure row, got {figures.Count}");
        foreach (var row in figures)
        {
            Assert.Contains($"| {row.Label} | {row.Text} |", md, StringComparison.Ordinal);
            Assert.Contains($"{Encoder.Encode(row.Label)}</", html, StringComparison.Ordinal);
            Assert.Contains(Encoder.Encode(row.Text), html, StringComparison.Ordinal);
        }
        // Adoption reads as a sentence in Markdown and as two facts in HTML: the same wording either way.
        foreach (var row in ReportTables.Adoption(report.Adoption))
        {
            Assert.Contains(row.Text, md, StringComparison.Ordinal);
            Assert.Contains(Encoder.Encode(row.Text), html, StringComparison.Ordinal);
        }
        foreach (var cost in ReportTables.Cost(report.Cost))
        {
            Assert.Contains($"| {cost.Label} | {cost.PerTask} | {cost.PerDay} | {cost.Total} |", md, StringComparison.Ordinal);
            Assert.Contains($"<td class=\"num\">{Encoder.Encode(cost.Total)}</td>", html, StringComparison.Ordinal);
        }
        Assert.NotEmpty(report.Criteria.Verdicts);
        foreach (var verdict in report.Criteria.Verdicts)
        {
            Assert.Contains(ReportFormat.VerdictFigure(verdict), md, StringComparison.Ordinal);
            Assert.Contains(Encoder.Encode(ReportFormat.VerdictFigure(verdict)), html, StringComparison.Ordinal);
        }
        Assert.Contains(ReportFormat.ValueText(report.Value), md, StringComparison.Ordinal);
        Assert.Contains(Encoder.Encode(ReportFormat.ValueText(report.Value)), html, StringComparison.Ordinal);
        Assert.Contains(report.Sha256, md, StringComparison.Ordinal);
        Assert.Contains(report.Sha256, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_html_is_a_whole_page_whatever_the_evidence_holds()
    {
        var queries = fixture.Harness.Server.App.Services.GetRequiredService<ReportQueries>();
        var report = await queries.BuildAsync(ReportFixture.System, CancellationToken.None);
        var hostile = report with { System = report.System with { Title = "</title><script>alert(1)</script>", Purpose = "a \"quoted\" <b>purpose</b>" } };

        var html = (await queries.RenderAsync(hostile, ReportFileFormat.Html)).Body;

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.EndsWith("</html>", html.TrimEnd(), StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("a &quot;quoted&quot; &lt;b&gt;purpose&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.Single(html.Split("<title>Evidence report:").Skip(1));
    }
}
