using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Playwright;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// The first hour on the dashboard: a system whose every request fails upstream (an attention item on
/// the portfolio and its page), a system that needs training, and two members of the same pilot group,
/// Mia and Olaf, who each used the drafts system; Mia's answer was reviewed (edited, with a reason).
/// </summary>
public sealed class FirstHourFixture : IAsyncLifetime
{
    public const string Drafts = GatewayHarness.System;
    public const string Broken = "broken-upstream";
    public const string Training = "training-needed";
    public const string MiaPrompt = "Where is parcel 4711?";
    public const string OlafPrompt = "Olaf's private question about invoice 999";

    public GatewayHarness Harness { get; private set; } = null!;
    public PilotageTestServer Server => Harness.Server;
    public string OlafKey { get; private set; } = "";
    public string MiaInteraction { get; private set; } = "";
    public string OlafInteraction { get; private set; } = "";
    public int BrokenPort { get; private set; }
    public IPlaywright? Playwright { get; private set; }
    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Harness = await GatewayHarness.StartAsync("draft");
        OlafKey = await Server.CreateUserWithKeyAsync("olaf@example.org", "member", GatewayHarness.Group);
        var olaf = Server.ClientFor(OlafKey);

        var mia = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(MiaPrompt));
        mia.EnsureSuccessStatusCode();
        MiaInteraction = mia.Headers.GetValues("x-pilotage-interaction-id").Single();
        var olafs = await olaf.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(OlafPrompt));
        olafs.EnsureSuccessStatusCode();
        OlafInteraction = olafs.Headers.GetValues("x-pilotage-interaction-id").Single();
        var reviewer = Server.ClientFor(await Server.CreateKeyAsync("rita@example.org"));
        await DashboardFixture.PostAsync(reviewer, $"/api/v1/interactions/{MiaInteraction}/review",
            new { outcome = "edited", finalText = "Parcel 4711 arrives on Friday.", reason = "the date was missing", seconds = 40 });

        // Every call to this system's upstream is refused by the operating system: nothing listens there.
        BrokenPort = ClosedPort();
        await Server.ApplyAsync(GatewayHarness.Spec(Broken, $"http://127.0.0.1:{BrokenPort}/v1", "full", ""));
        await DashboardFixture.PostAsync(Server.Admin, $"/api/v1/systems/{Broken}/decisions", new { outcome = "pilot", reason = "pilot the failing model", @override = true });
        for (var i = 0; i < 3; i++)
        {
            var failed = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Anyone there?", model: Broken));
            if (failed.StatusCode != HttpStatusCode.BadGateway) throw new InvalidOperationException($"expected 502, got {(int)failed.StatusCode}");
        }

        await Server.ApplyAsync(GatewayHarness.Spec(Training, Harness.Upstream.BaseUrl, "full", """
              training:
                required: true
                text: Answers may be wrong; check the refund policy before sending one.
            """));
        await DashboardFixture.PostAsync(Server.Admin, $"/api/v1/systems/{Training}/decisions", new { outcome = "pilot", reason = "pilot with training", @override = true });

        if (!File.Exists(ChromiumGate.ExecutablePath)) return;
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumGate.ExecutablePath, Headless = true, Args = [.. ChromiumGate.Args], Timeout = 60_000,
        });
        Directory.CreateDirectory(DashboardBrowserFixture.Screenshots);
    }

    public async Task DisposeAsync()
    {
        if (Playwright is not null)
        {
            await Browser.DisposeAsync();
            Playwright.Dispose();
        }
        await Harness.DisposeAsync();
    }

    public async Task<Tab> SignInAsync(string token, int width = 1280, int height = 900)
    {
        Assert.True(File.Exists(ChromiumGate.ExecutablePath), $"{ChromiumGate.SkipReason} (CI=true: browser tests must run)");
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, BaseURL = Server.Url });
        var tab = new Tab(context, await context.NewPageAsync());
        await tab.GotoAsync("/dashboard/sign-in");
        await tab.Page.GetByLabel("API key").FillAsync(token);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await tab.LandedAfterSignInAsync();
        return tab;
    }

    public async Task<DashboardFixture.Session> SessionAsync(string token)
    {
        var session = new DashboardFixture.Session(Server.Url);
        var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = token });
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"sign-in: {(int)response.StatusCode}");
        return session;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>The portfolio and system page name what is wrong; members get their own page; unknown addresses a page.</summary>
public sealed class DashboardFirstHourTests(FirstHourFixture fixture) : IClassFixture<FirstHourFixture>
{
    [ChromiumFact]
    public async Task The_portfolio_shows_a_failing_upstream_as_an_attention_item_with_its_figure_and_a_link_to_the_reasons()
    {
        await using var tab = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        Assert.EndsWith("/dashboard", tab.Page.Url, StringComparison.Ordinal);
        var summary = tab.Page.Locator($"#attention li[data-system='{FirstHourFixture.Broken}'][data-level='bad']");
        var text = await summary.InnerTextAsync();
        Assert.Contains($"3 of 3 upstream calls to 127.0.0.1:{fixture.BrokenPort} failed in the last 24 h (100 %; upstream_unreachable 3)", text, StringComparison.Ordinal);
        Assert.DoesNotContain("nothing needs attention", await tab.Page.InnerTextAsync($"tr[data-system='{FirstHourFixture.Broken}']"), StringComparison.Ordinal);
        Assert.True(await tab.Page.Locator($"tr[data-system='{FirstHourFixture.Broken}'] li[data-kind='upstream_errors'] .dot.bad").IsVisibleAsync());
        await tab.ScreenshotAsync("dashboard-portfolio-attention");

        // The link opens the reasons: the report's upstream failures by code.
        await summary.GetByRole(AriaRole.Link, new() { Name = "failures by reason" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#failures");
        Assert.Contains("upstream_unreachable", await tab.Page.InnerTextAsync("#failures"), StringComparison.Ordinal);
        Assert.Contains("3", await tab.Page.InnerTextAsync("#failures"), StringComparison.Ordinal);

        // The system page shows the same item, and its timeline in sentences.
        await tab.GotoAsync($"/dashboard/systems/{FirstHourFixture.Broken}");
        Assert.Contains("3 of 3 upstream calls", await tab.Page.InnerTextAsync("#attention li[data-kind='upstream_errors']"), StringComparison.Ordinal);
        Assert.Contains("Pilot started by admin@localhost: pilot the failing model", await tab.Page.InnerTextAsync("#timeline"), StringComparison.Ordinal);
        // A healthy system says so.
        await tab.GotoAsync($"/dashboard/systems/{FirstHourFixture.Training}");
        Assert.Contains("nothing needs attention", await tab.Page.InnerTextAsync("#attention"), StringComparison.Ordinal);
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task A_member_lands_on_their_own_page_with_what_they_may_use_their_requests_and_how_to_report_a_problem()
    {
        await using var tab = await fixture.SignInAsync(fixture.Harness.MemberKey);
        Assert.EndsWith("/dashboard/me", tab.Page.Url, StringComparison.Ordinal);
        Assert.Equal("support-pilot", await tab.Page.InnerTextAsync("#me-groups"));

        // What she may use: the model name, stage and mode, and whether training is acknowledged.
        var drafts = tab.Page.Locator($"#usable-systems tr[data-system='{FirstHourFixture.Drafts}']");
        Assert.Equal(FirstHourFixture.Drafts, await drafts.Locator("code.model").InnerTextAsync());
        Assert.Contains("pilot", await drafts.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("draft", await drafts.Locator(".mode").InnerTextAsync());
        Assert.Contains("serves you", await drafts.Locator(".status").InnerTextAsync(), StringComparison.Ordinal);
        var training = tab.Page.Locator($"#usable-systems tr[data-system='{FirstHourFixture.Training}']");
        Assert.Contains("required, not acknowledged", await training.Locator(".training").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("requires training before use", await training.Locator(".status").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains($"{fixture.Server.Url}/v1", await tab.Page.InnerTextAsync("#gateway-url"), StringComparison.Ordinal);

        // Her own requests, newest first, with the review of the one that was edited.
        var mine = tab.Page.Locator("#own-interactions");
        var own = mine.Locator($"tr[data-id='{fixture.MiaInteraction}']");
        Assert.Contains(FirstHourFixture.MiaPrompt, await own.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("edited", await own.Locator(".review").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains("the date was missing", await own.Locator(".review").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(3, await mine.Locator("tr:has-text('upstream_unreachable')").CountAsync());
        Assert.DoesNotContain(FirstHourFixture.OlafPrompt, await tab.Page.InnerTextAsync("main"), StringComparison.Ordinal);
        await tab.ScreenshotAsync("dashboard-member-page");

        // How to report a problem: the form, the command and the API.
        var problem = await tab.Page.InnerTextAsync("#report-problem");
        Assert.Contains("pilotage incident file SYSTEM", problem, StringComparison.Ordinal);
        Assert.Contains("POST /api/v1/incidents", problem, StringComparison.Ordinal);
        await tab.Page.ClickAsync("#file-incident");
        await tab.Page.WaitForSelectorAsync("#file-form");
        Assert.EndsWith("/dashboard/incidents#file", tab.Page.Url, StringComparison.Ordinal);
        tab.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task The_root_opens_the_dashboard_and_an_unknown_address_shows_the_not_found_page_with_a_way_back()
    {
        await using var tab = await fixture.SignInAsync(fixture.Harness.MemberKey);
        await tab.GotoAsync("/");
        Assert.EndsWith("/dashboard/me", tab.Page.Url, StringComparison.Ordinal);

        await tab.GotoAsync("/no-such-page", expectedStatus: 404);
        Assert.Equal("Not found", await tab.Page.InnerTextAsync("h1"));
        Assert.Contains("/no-such-page", await tab.Page.InnerTextAsync("#not-found"), StringComparison.Ordinal);
        await tab.Page.GetByRole(AriaRole.Link, new() { Name = "Go to the dashboard" }).ClickAsync();
        await tab.Page.WaitForSelectorAsync("#usable");
        Assert.EndsWith("/dashboard/me", tab.Page.Url, StringComparison.Ordinal);
        await tab.GotoAsync("/dashboard/incidents/999999", expectedStatus: 404);
        Assert.Equal("Not found", await tab.Page.InnerTextAsync("h1"));
        tab.AssertNoErrors();
    }

    [Fact]
    public async Task A_member_sees_only_their_own_interactions_and_reviews()
    {
        using var mia = await fixture.SessionAsync(fixture.Harness.MemberKey);
        using var olaf = await fixture.SessionAsync(fixture.OlafKey);
        var miaPage = await (await mia.GetAsync("/dashboard/me")).Content.ReadAsStringAsync();
        var olafPage = await (await olaf.GetAsync("/dashboard/me")).Content.ReadAsStringAsync();

        Assert.Contains(fixture.MiaInteraction, miaPage, StringComparison.Ordinal);
        Assert.Contains("the date was missing", miaPage, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.OlafInteraction, miaPage, StringComparison.Ordinal);
        Assert.DoesNotContain("invoice 999", miaPage, StringComparison.Ordinal);

        Assert.Contains(fixture.OlafInteraction, olafPage, StringComparison.Ordinal);
        Assert.Contains("invoice 999", olafPage, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.MiaInteraction, olafPage, StringComparison.Ordinal);
        Assert.DoesNotContain("parcel 4711", olafPage, StringComparison.Ordinal);
        Assert.DoesNotContain("the date was missing", olafPage, StringComparison.Ordinal);
        // Query strings do not widen it: the page has no parameter naming someone else.
        var probed = await (await olaf.GetAsync($"/dashboard/me?user=mia@example.org&userId=3&id={fixture.MiaInteraction}")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(fixture.MiaInteraction, probed, StringComparison.Ordinal);
        // Nor does the API let a member read another member's interaction.
        var api = await fixture.Server.ClientFor(fixture.OlafKey).GetAsync($"/api/v1/interactions/{fixture.MiaInteraction}");
        Assert.Equal(HttpStatusCode.Forbidden, api.StatusCode);
    }

    [Fact]
    public async Task The_same_attention_items_reach_the_api_and_a_healthy_portfolio_says_nothing_needs_attention_only_when_true()
    {
        var items = (await fixture.Server.Admin.GetFromJsonAsync<System.Text.Json.JsonElement[]>("/api/v1/attention"))!;
        var broken = Assert.Single(items, i => i.GetProperty("system").GetString() == FirstHourFixture.Broken && i.GetProperty("kind").GetString() == "upstream_errors");
        Assert.Equal($"/dashboard/systems/{FirstHourFixture.Broken}/report?handler=Full#controls", broken.GetProperty("link").GetString());
        using var admin = await fixture.SessionAsync(PilotageTestServer.AdminToken);
        var portfolio = await (await admin.GetAsync("/dashboard")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("id=\"all-clear\"", portfolio, StringComparison.Ordinal);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(broken.GetProperty("text").GetString()!), portfolio, StringComparison.Ordinal);
    }
}
