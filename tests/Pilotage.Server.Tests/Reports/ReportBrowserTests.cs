using Microsoft.Playwright;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Reports;

/// <summary>
/// The HTML report as a person opens it: headless Chromium (the system's, through Playwright's own
/// driver; nothing is downloaded) renders it without scripts, errors or missing charts, and the
/// screenshot is kept in artifacts/screenshots/report.png for a person to look at.
/// </summary>
public sealed class ReportBrowserTests(ReportFixture fixture) : IClassFixture<ReportFixture>
{
    [ChromiumFact]
    public async Task The_html_report_renders_in_chromium_with_its_charts_and_no_errors()
    {
        Assert.True(File.Exists(ChromiumGate.ExecutablePath), $"{ChromiumGate.SkipReason} (CI=true: browser tests must run)");
        var (html, _) = await fixture.ReportAsync("html");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumGate.ExecutablePath,
            Headless = true,
            Args = [.. ChromiumGate.Args],
            Timeout = 60_000,
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1100, Height = 900 }, JavaScriptEnabled = false });
        var consoleErrors = new List<string>();
        var pageErrors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, message) => { if (message.Type is "error" or "warning") consoleErrors.Add($"{message.Type}: {message.Text}"); };
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Request += (_, request) => { if (!request.Url.StartsWith("data:", StringComparison.Ordinal) && request.Url != "about:blank") requests.Add(request.Url); };

        await page.SetContentAsync(html, new PageSetContentOptions { WaitUntil = WaitUntilState.Load });

        Assert.Empty(pageErrors);
        Assert.Empty(consoleErrors);
        Assert.Empty(requests); // self-contained: no font, stylesheet or image is fetched
        Assert.StartsWith("Evidence report:", await page.TitleAsync(), StringComparison.Ordinal);
        Assert.Contains("recommendation", await page.InnerTextAsync("#recommendation"), StringComparison.OrdinalIgnoreCase);

        var charts = page.Locator("svg.chart");
        Assert.True(await charts.CountAsync() >= 2, "expected the trend and outcome charts");
        foreach (var id in new[] { "#chart-trend", "#chart-outcomes" })
        {
            var chart = page.Locator(id);
            Assert.True(await chart.IsVisibleAsync(), $"{id} is not visible");
            var box = await chart.BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 50 }, $"{id} has no size: {box?.Width}x{box?.Height}");
            Assert.True(await chart.Locator("rect").CountAsync() > 1, $"{id} draws nothing");
            Assert.False(string.IsNullOrWhiteSpace(await chart.Locator("title").First.TextContentAsync()), $"{id} has no accessible title");
        }
        Assert.Equal(20, await page.Locator("[data-question]").CountAsync());
        Assert.Equal(6, await page.Locator("[data-mistake]").CountAsync());
        // Encoded user text shows as text, never as markup.
        Assert.Contains(ReportFixture.ComplaintTitle, await page.InnerTextAsync("#risk"), StringComparison.Ordinal);

        var folder = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "report.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        await File.WriteAllTextAsync(Path.Combine(folder, "report.html"), html);
        Assert.True(new FileInfo(path).Length > 10_000, "the screenshot is empty");
    }
}
