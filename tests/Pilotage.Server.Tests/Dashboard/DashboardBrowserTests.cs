using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>Starts one headless Chromium (the system's) for the whole class, next to the server and its evidence.</summary>
public sealed class DashboardBrowserFixture : DashboardFixture
{
    public IPlaywright? Playwright { get; private set; }
    public IBrowser Browser { get; private set; } = null!;

    public static string Screenshots { get; } = Path.Combine(RepoPaths.Root, "artifacts", "screenshots");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (!File.Exists(ChromiumGate.ExecutablePath)) return; // the tests are skipped, or fail loudly under CI
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumGate.ExecutablePath,
            Headless = true,
            Args = [.. ChromiumGate.Args],
            Timeout = 60_000,
        });
        Directory.CreateDirectory(Screenshots);
    }

    public override async Task DisposeAsync()
    {
        if (Playwright is not null)
        {
            await Browser.DisposeAsync();
            Playwright.Dispose();
        }
        await base.DisposeAsync();
    }

    /// <summary>A fresh browser context (its own cookies) signed in with the key through the sign-in form.</summary>
    public async Task<Tab> SignInAsync(string token, int width = 1280, int height = 800)
    {
        Assert.True(File.Exists(ChromiumGate.ExecutablePath), $"{ChromiumGate.SkipReason} (CI=true: browser tests must run)");
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, BaseURL = Url });
        var tab = new Tab(context, await context.NewPageAsync());
        await tab.GotoAsync("/dashboard/sign-in");
        await tab.Page.GetByLabel("API key").FillAsync(token);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await tab.LandedAfterSignInAsync();
        return tab;
    }
}

/// <summary>One signed-in page that records every console error, page error and failed response on the way.</summary>
public sealed class Tab : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];
    private readonly HashSet<int> _expected = [];

    public Tab(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type != "error") return;
            // The browser logs an expected refusal (a 403 page the test asked for) as a failed resource.
            if (_expected.Any(s => message.Text.Contains($"status of {s}", StringComparison.Ordinal))) return;
            _errors.Add($"console: {message.Text} ({page.Url})");
        };
        page.PageError += (_, error) => _errors.Add($"page error: {error} ({page.Url})");
        page.RequestFailed += (_, request) => _errors.Add($"request failed: {request.Url} {request.Failure}");
    }

    public IPage Page { get; }

    public IReadOnlyList<string> Errors => _errors;

    /// <summary>
    /// Waits for the page the session lands on (not the sign-in page the click started from), fully loaded, asking the
    /// page itself. Playwright's own waits (WaitForURLAsync, even with WaitUntil = Commit, ends in WaitForLoadStateAsync
    /// when the URL already matches) twice waited out 30 s in full CI runs for a load event that had already passed:
    /// its log said the page was network-idle.
    /// </summary>
    public async Task LandedAfterSignInAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                if (await Page.EvaluateAsync<bool>("() => !location.pathname.includes('/sign-in') && document.readyState === 'complete'")) return;
            }
            catch (PlaywrightException) when (DateTime.UtcNow < deadline)
            {
                // The document was replaced while it was asked (the navigation itself): ask the new one.
            }
            Assert.True(DateTime.UtcNow < deadline, $"the dashboard did not land after signing in within 30 s; the page is at {Page.Url}");
            await Task.Delay(50);
        }
    }

    public async Task<IResponse> GotoAsync(string path, int expectedStatus = 200)
    {
        if (expectedStatus != 200) _expected.Add(expectedStatus);
        var response = await Page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.NotNull(response);
        Assert.True(response.Status == expectedStatus, $"{path}: expected {expectedStatus}, got {response.Status}");
        return response;
    }

    public async Task ScreenshotAsync(string name, bool fullPage = true)
    {
        var path = Path.Combine(DashboardBrowserFixture.Screenshots, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        Assert.True(new FileInfo(path).Length > 5_000, $"{name}.png is empty");
    }

    public void AssertNoErrors() => Assert.True(_errors.Count == 0, string.Join("\n", _errors));

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}

/// <summary>
/// The dashboard as people use it, in headless Chromium with scripts on: every page visited is checked
/// for console errors, and screenshots of the main pages go to artifacts/screenshots/dashboard-*.png.
/// </summary>
public sealed class DashboardBrowserTests(DashboardBrowserFixture fixture) : IClassFixture<DashboardBrowserFixture>
{
    private const string Xss = "<script>window.__xss=1</script><img src=x onerror=window.__xss=1>";

    [ChromiumFact]
    public async Task A_member_signs_in_to_their_own_page_and_is_refused_the_audit_trail_with_the_roles_that_may()
    {
        await using var tab = await fixture.SignInAsync(fixture.MemberKey);
        Assert.EndsWith("/dashboard/me", tab.Page.Url, StringComparison.Ordinal);
        Assert.Contains("mia@example.org", await tab.Page.InnerTextAsync("header"), StringComparison.Ordinal);
        // Members do not see links to pages they may not open.
        Assert.Equal(0, await tab.Page.Locator("header nav a[href='/dashboard']").CountAsync());
        Assert.Equal(0, await tab.Page.Locator("header nav a[href='/dashboard/audit']").CountAsync());
        // The dashboard's address takes a member to their page, not to a refusal.
        await tab.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/me", tab.Page.Url, StringComparison.Ordinal);

        await tab.GotoAsync("/dashboard/audit", expectedStatus: 403);
        var refusal = await tab.Page.InnerTextAsync("#forbidden");
        Assert.Contains("member", refusal, StringComparison.Ordinal);
        Assert.Contains("admin, auditor", refusal, StringComparison.Ordinal);
        await tab.ScreenshotAsync("dashboard-forbidden");
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task The_portfolio_and_system_pages_render_at_desktop_and_narrow_widths()
    {
        await using var tab = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        Assert.EndsWith("/dashboard", tab.Page.Url, StringComparison.Ordinal);
        var row = tab.Page.Locator($"tr[data-system='{DashboardFixture.Drafts}']");
        Assert.Contains("pilot", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("owner@example.org", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(2, await tab.Page.Locator("#portfolio tbody tr").CountAsync());
        await tab.ScreenshotAsync("dashboard-portfolio");

        await tab.GotoAsync($"/dashboard/systems/{DashboardFixture.Drafts}");
        Assert.True(await tab.Page.Locator("#chart-trend").IsVisibleAsync());
        Assert.True(await tab.Page.Locator("#pause-button").IsVisibleAsync());
        Assert.True(await tab.Page.Locator("#timeline li").CountAsync() >= 2, "the timeline lists the creation and the pilot decision");
        // Sentences, never raw audit action names.
        var timeline = await tab.Page.InnerTextAsync("#timeline");
        Assert.Contains("Pilot started by admin@", timeline, StringComparison.Ordinal);
        Assert.Contains("System created by", timeline, StringComparison.Ordinal);
        Assert.DoesNotContain("system.", timeline, StringComparison.Ordinal);
        await tab.ScreenshotAsync("dashboard-system");
        tab.AssertNoErrors();

        await using var narrow = await fixture.SignInAsync(PilotageTestServer.AdminToken, width: 390, height: 844);
        await narrow.GotoAsync($"/dashboard/systems/{DashboardFixture.Drafts}");
        // One column: nothing wider than the screen but the tables' own scroll boxes.
        var overflow = await narrow.Page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(overflow <= 400, $"the page is {overflow} px wide on a 390 px screen");
        await narrow.ScreenshotAsync("dashboard-system-narrow");
        narrow.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task Pausing_from_the_system_page_makes_the_gateway_refuse_and_shows_the_reason_as_text()
    {
        await using var tab = await fixture.SignInAsync(fixture.OwnerKey);
        await tab.GotoAsync($"/dashboard/systems/{DashboardFixture.Approvals}");
        await tab.Page.GetByLabel("Why pause?").FillAsync("Wrong refunds " + Xss);
        // Without the confirmation ticked the browser does not submit.
        await tab.Page.ClickAsync("#pause-button");
        Assert.Equal(0, await tab.Page.Locator("#paused-note").CountAsync());
        await tab.Page.GetByLabel("I understand").CheckAsync();
        await tab.Page.ClickAsync("#pause-button");
        await tab.Page.WaitForSelectorAsync("#paused-note");

        Assert.Equal("paused", await tab.Page.InnerTextAsync("#phase"));
        Assert.Contains(Xss, await tab.Page.InnerTextAsync("#pause-reason"), StringComparison.Ordinal);
        Assert.Contains(Xss, await tab.Page.InnerTextAsync("#timeline"), StringComparison.Ordinal);
        Assert.True(await tab.Page.EvaluateAsync<bool>("typeof window.__xss === 'undefined'"), "the pause reason ran as script");
        await tab.ScreenshotAsync("dashboard-system-paused");

        var refused = await fixture.Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Is it still on?", model: DashboardFixture.Approvals));
        Assert.Equal((HttpStatusCode)423, refused.StatusCode);
        Assert.Contains("system_paused", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Resume from the page, so the other tests see a running pilot.
        await tab.Page.GetByLabel("Why resume?").FillAsync("refunds fixed");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#pause-button");
        Assert.Equal("pilot", await tab.Page.InnerTextAsync("#phase"));
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task A_reviewer_accepts_and_edits_drafts_with_the_keyboard()
    {
        await using var tab = await fixture.SignInAsync(fixture.ReviewerKey);
        await tab.GotoAsync("/dashboard/reviews");
        // Oldest first: the first pending draft is shown, its redacted e-mail highlighted.
        var first = await tab.Page.GetAttributeAsync("#review-item", "data-id");
        Assert.Equal(fixture.Pending[0], first);
        Assert.Contains("[REDACTED:email]", await tab.Page.InnerTextAsync("#prompt mark.hit"), StringComparison.Ordinal);
        Assert.Contains("email: 1 (redact)", await tab.Page.InnerTextAsync("#detector-hits"), StringComparison.Ordinal);
        await tab.ScreenshotAsync("dashboard-review");

        await tab.Page.Keyboard.PressAsync("a");
        await tab.Page.WaitForSelectorAsync("#notice");
        Assert.Contains($"accepted ({first})", await tab.Page.InnerTextAsync("#notice"), StringComparison.Ordinal);

        var second = await tab.Page.GetAttributeAsync("#review-item", "data-id");
        Assert.Equal(fixture.Pending[1], second);
        await tab.Page.Keyboard.PressAsync("e");
        Assert.Equal("final-text", await tab.Page.EvaluateAsync<string>("document.activeElement.id"));
        await tab.Page.Keyboard.TypeAsync("We will refund order 3 within 3 days.");
        await tab.Page.Keyboard.PressAsync("Control+Enter");
        // The previous page had a notice too: wait for the one about this review.
        await tab.Page.Locator("#notice", new PageLocatorOptions { HasTextString = $"edited ({second})" }).WaitForAsync();

        var accepted = await fixture.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/interactions/{first}");
        var review = accepted.GetProperty("review");
        Assert.Equal("accepted", review.GetProperty("outcome").GetString());
        Assert.Equal("rita@example.org", review.GetProperty("reviewer").GetString());
        Assert.True(review.GetProperty("seconds").GetDouble() > 0, "the time spent was not recorded");
        var edited = await fixture.Server.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/interactions/{second}");
        Assert.Equal("edited", edited.GetProperty("review").GetProperty("outcome").GetString());
        Assert.Equal("We will refund order 3 within 3 days.", edited.GetProperty("review").GetProperty("finalText").GetString());
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task A_reviewer_releases_a_held_answer_from_the_queue()
    {
        await using var tab = await fixture.SignInAsync(fixture.ReviewerKey);
        await tab.GotoAsync($"/dashboard/reviews?id={fixture.HeldId}");
        Assert.True(await tab.Page.Locator("#held").IsVisibleAsync());
        await tab.ScreenshotAsync("dashboard-review-held");
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Release answer" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#notice");
        Assert.Contains($"{fixture.HeldId} released", await tab.Page.InnerTextAsync("#notice"), StringComparison.Ordinal);

        // The app that asked now gets the answer.
        var released = await fixture.Harness.Member.GetAsync($"/v1/interactions/{fixture.HeldId}");
        Assert.Equal("released", released.Headers.GetValues("x-pilotage-status").Single());
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task The_report_page_renders_its_charts_recommendation_and_decision_form()
    {
        await using var tab = await fixture.SignInAsync(fixture.OwnerKey);
        await tab.GotoAsync($"/dashboard/systems/{DashboardFixture.Drafts}/report");
        foreach (var id in new[] { "#chart-trend", "#chart-outcomes" })
        {
            var chart = tab.Page.Locator(id);
            Assert.True(await chart.IsVisibleAsync(), $"{id} is not visible");
            var box = await chart.BoundingBoxAsync();
            Assert.True(box is { Width: > 200, Height: > 50 }, $"{id} has no size");
            Assert.True(await chart.Locator("rect").CountAsync() > 1, $"{id} draws nothing");
        }
        Assert.False(string.IsNullOrWhiteSpace(await tab.Page.InnerTextAsync("#recommended")));
        Assert.Equal(20, await tab.Page.Locator("[data-question]").CountAsync());
        Assert.True(await tab.Page.Locator("#decision-form").IsVisibleAsync());
        Assert.True(await tab.Page.GetByLabel("Decide against the recommendation").IsVisibleAsync());
        await tab.ScreenshotAsync("dashboard-report");

        // Charts are drawn by the server: they are there with scripts off too.
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false, BaseURL = fixture.Url });
        var cookies = await tab.Page.Context.CookiesAsync();
        await context.AddCookiesAsync(cookies.Select(c => new Microsoft.Playwright.Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path }));
        var noScript = await context.NewPageAsync();
        await noScript.GotoAsync($"/dashboard/systems/{DashboardFixture.Drafts}/report");
        Assert.True(await noScript.Locator("#chart-trend rect").CountAsync() > 1);
        await context.DisposeAsync();
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task The_audit_verify_button_reports_an_intact_chain()
    {
        await using var tab = await fixture.SignInAsync(fixture.AuditorKey);
        await tab.GotoAsync("/dashboard/audit");
        Assert.True(await tab.Page.Locator("#audit tbody tr").CountAsync() > 3);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Verify the chain" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#verify-result");
        Assert.StartsWith("Verified: all", await tab.Page.InnerTextAsync("#verify-result"), StringComparison.Ordinal);
        await tab.ScreenshotAsync("dashboard-audit");
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task An_incident_with_markup_in_its_text_is_shown_as_text_and_never_runs()
    {
        await using var tab = await fixture.SignInAsync(fixture.MemberKey);
        await tab.GotoAsync($"/dashboard/incidents?system={DashboardFixture.Approvals}");
        await tab.Page.GetByLabel("Kind").SelectOptionAsync("complaint");
        await tab.Page.GetByLabel("Title (one line: what happened)").FillAsync("Bad refund " + Xss);
        await tab.Page.GetByLabel("Description").FillAsync("The answer said: " + Xss);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "File" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#incident-title");

        Assert.Contains(Xss, await tab.Page.InnerTextAsync("#incident-title"), StringComparison.Ordinal);
        Assert.Contains(Xss, await tab.Page.InnerTextAsync("#incident-description"), StringComparison.Ordinal);
        Assert.Equal(0, await tab.Page.Locator("main img").CountAsync());
        Assert.True(await tab.Page.EvaluateAsync<bool>("typeof window.__xss === 'undefined'"), "the incident text ran as script");
        await tab.GotoAsync("/dashboard/incidents");
        Assert.True(await tab.Page.EvaluateAsync<bool>("typeof window.__xss === 'undefined'"));
        await tab.ScreenshotAsync("dashboard-incidents");
        tab.AssertNoErrors();
    }
}
