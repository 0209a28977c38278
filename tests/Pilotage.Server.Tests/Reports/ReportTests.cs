using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Pilots;
using Pilotage.Server.Reports;

namespace Pilotage.Server.Tests.Reports;

/// <summary>The evidence report over real evidence, in each format, through the control API.</summary>
public sealed class ReportTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    [Fact]
    public async Task The_json_report_carries_every_section_with_its_figures()
    {
        var (body, response) = await fixture.ReportAsync("json");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(EvidenceReportService.HashOf(body), response.Headers.GetValues(ReportEndpoints.Sha256Header).Single());
        using var doc = JsonDocument.Parse(body);
        var r = doc.RootElement;

        Assert.Equal(ReportFixture.System, r.GetProperty("system").GetProperty("slug").GetString());
        Assert.Equal("pilot", r.GetProperty("system").GetProperty("phase").GetString());
        Assert.Equal("draft", r.GetProperty("system").GetProperty("mode").GetString());
        Assert.Equal(["quality", "review_burden", "value"], r.GetProperty("pilot").GetProperty("questions").EnumerateArray().Select(q => q.GetString()!));

        // Criteria: four verdicts, each with its sample; acceptance 1 of 2 fails → redesign, net minutes −1 fails → stop wins.
        var verdicts = r.GetProperty("criteria").GetProperty("verdicts").EnumerateArray().ToList();
        Assert.Equal(4, verdicts.Count);
        var acceptance = verdicts.Single(v => v.GetProperty("metric").GetString() == "acceptance_rate");
        Assert.Equal(2, acceptance.GetProperty("n").GetInt64());
        Assert.Equal("fail", acceptance.GetProperty("verdict").GetString());
        Assert.True(acceptance.GetProperty("low").GetDouble() < 0.5 && acceptance.GetProperty("high").GetDouble() > 0.5);
        var edge = verdicts.Single(v => v.GetProperty("metric").GetString() == "pass_rate.edge");
        Assert.Equal(1, edge.GetProperty("n").GetInt64());
        Assert.Equal("stop", r.GetProperty("criteria").GetProperty("recommendation").GetProperty("kind").GetString());

        // What the pilot tested and how realistic: three categories from the latest run, real vs test traffic.
        var realism = r.GetProperty("realism");
        Assert.Equal(4, realism.GetProperty("testCases").GetInt32());
        var categories = realism.GetProperty("categories").EnumerateArray().ToDictionary(c => c.GetProperty("category").GetString()!, c => c.GetProperty("cases").GetInt32());
        Assert.Equal(2, categories["normal"]);
        Assert.Equal(1, categories["edge"]);
        Assert.Equal(0, categories["policy_boundary"]);
        Assert.Equal(4, realism.GetProperty("realRequests").GetInt64());

        // Value: the spec's 0.5 min baseline minus 1.5 min of review.
        var value = r.GetProperty("value");
        Assert.Equal(-1, value.GetProperty("netMinutesSavedPerTask").GetProperty("value").GetDouble(), 6);
        Assert.Equal("costs", value.GetProperty("sign").GetString());
        Assert.Equal("spec", value.GetProperty("baselineSource").GetString());

        // Readiness: the seed's 20 questions; the six mistakes, always listed.
        Assert.Equal(20, r.GetProperty("readiness").GetProperty("questions").GetArrayLength());
        var mistakes = r.GetProperty("mistakes").EnumerateArray().ToList();
        Assert.Equal(PilotMistakes.Catalogue.Select(m => m.Id), mistakes.Select(m => m.GetProperty("id").GetString()!));

        // Controls: the data boundary refusal by reason; the pause and the resume from the audit trail.
        var refusals = r.GetProperty("controls").GetProperty("refusalsByReason").EnumerateArray().ToList();
        Assert.Contains(refusals, x => x.GetProperty("code").GetString() == "data_boundary_blocked" && x.GetProperty("count").GetInt64() == 1);
        var events = r.GetProperty("controls").GetProperty("events").EnumerateArray().ToList();
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "pause" && e.GetProperty("reason").GetString() == "checking a <b>complaint</b>");
        Assert.Contains(events, e => e.GetProperty("kind").GetString() == "resume" && e.GetProperty("reason").GetString() == "complaint understood");
        Assert.Contains(events, e => e.GetProperty("text").GetString() == "Resumed by owner@example.org: complaint understood");
        Assert.Equal(1, r.GetProperty("controls").GetProperty("pauses").GetInt32());

        // Risk, decisions, trend and outcome mix.
        Assert.Equal(1, r.GetProperty("risk").GetProperty("complaints").GetInt64());
        Assert.Equal("pilot", r.GetProperty("decisions")[0].GetProperty("outcome").GetString());
        var today = r.GetProperty("trend").EnumerateArray().Last();
        Assert.Equal(4, today.GetProperty("requests").GetInt64());
        Assert.Equal(0.5, today.GetProperty("acceptanceRate").GetDouble(), 6);
        Assert.Equal(1, r.GetProperty("outcomes").GetProperty("accepted").GetInt64());
        Assert.Equal(1, r.GetProperty("outcomes").GetProperty("edited").GetInt64());
        Assert.Equal(1, r.GetProperty("outcomes").GetProperty("pending").GetInt64());
    }

    [Fact]
    public async Task The_markdown_report_reads_as_the_seed_asks()
    {
        var (md, response) = await fixture.ReportAsync("md");
        Assert.Equal("text/markdown", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("**Recommendation: stop**", md, StringComparison.Ordinal);
        Assert.Contains("| acceptance_rate |", md, StringComparison.Ordinal);
        Assert.Contains("n=2", md, StringComparison.Ordinal);
        Assert.Contains("## The six common mistakes", md, StringComparison.Ordinal);
        foreach (var (_, title, _) in PilotMistakes.Catalogue) Assert.Contains(title, md, StringComparison.Ordinal);
        foreach (var q in ReadinessQuestions.All) Assert.Contains(q.Text, md, StringComparison.Ordinal);
        Assert.Contains("| data_boundary_blocked | 1 |", md, StringComparison.Ordinal);
        Assert.Contains("Paused by owner@example.org: checking a &lt;b&gt;complaint&lt;/b&gt; |", md, StringComparison.Ordinal);
        Assert.Contains("Resumed by owner@example.org: complaint understood |", md, StringComparison.Ordinal);
        Assert.Contains("\u22121 min per task: AI costs time", md, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", md, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_html_report_is_one_self_contained_file_with_charts_and_encoded_text()
    {
        var (html, response) = await fixture.ReportAsync("html");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Contains("@media print", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Refund &amp; reply were wrong", html, StringComparison.Ordinal);
        Assert.Contains("checking a &lt;b&gt;complaint&lt;/b&gt;", html, StringComparison.Ordinal);
        Assert.Equal(2, html.Split("<svg class=\"chart\"").Length - 1);
        Assert.Contains("<title id=\"trend-title\">", html, StringComparison.Ordinal);
        Assert.Contains("<title id=\"outcomes-title\">", html, StringComparison.Ordinal);
        Assert.Contains("\u22121 min", html, StringComparison.Ordinal);
        Assert.Contains("AI costs time", html, StringComparison.Ordinal);
        Assert.Contains("Recommendation", html, StringComparison.Ordinal);
        Assert.Contains("n=2, 95% CI", html, StringComparison.Ordinal);
        Assert.Contains("<code>data_boundary_blocked</code>", html, StringComparison.Ordinal);
        Assert.Equal(20, html.Split("data-question=").Length - 1);
        Assert.Equal(6, html.Split("data-mistake=").Length - 1);
    }

    [Fact]
    public async Task An_unknown_format_is_refused_with_the_allowed_ones()
    {
        var response = await fixture.Admin.GetAsync($"/api/v1/systems/{ReportFixture.System}/report?format=pdf");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("json, md, html", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Admin.GetAsync("/api/v1/systems/no-such-system/report?format=json")).StatusCode);
    }

    [Fact]
    public async Task The_hash_is_the_hash_of_the_json_and_stable_for_unchanged_evidence()
    {
        var service = fixture.Harness.Server.App.Services.GetRequiredService<EvidenceReportService>();
        for (var attempt = 0; ; attempt++)
        {
            var first = await service.BuildAsync(ReportFixture.System, CancellationToken.None);
            var second = await service.BuildAsync(ReportFixture.System, CancellationToken.None);
            Assert.Equal(EvidenceReportService.HashOf(ReportRenderer.Json(first)), first.Sha256);
            Assert.Equal(64, first.Sha256.Length);
            // The report is as of the minute; two builds straddling a minute boundary may differ, once.
            if (first.AsOf != second.AsOf && attempt < 2) continue;
            Assert.Equal(first.Sha256, second.Sha256);
            Assert.Equal(ReportRenderer.Json(first), ReportRenderer.Json(second));
            break;
        }
    }
}
