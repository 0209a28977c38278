using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using Pilotage.Server.Tests.Changes;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// A high-risk system past its pilot whose every free-text field the dashboard renders holds markup,
/// put there through the API: title, purpose, system prompt (in a change request's diff), a member's
/// prompt and the model's answer, a review's edited text and reason, feedback, pause and resume reasons,
/// change-request decision reasons, a handover reason, a legal hold reason, an incident's title,
/// description and review note. One Chromium for the class.
/// </summary>
public sealed class HostileTextFixture : IAsyncLifetime
{
    public const string Xss = "<script>window.__xss=1</script><img src=x onerror=window.__xss=1>";
    private const string System = GatewayHarness.System;
    private const string PromptA = "You draft polite replies to support tickets.";

    public GatewayHarness Harness { get; private set; } = null!;
    public IPlaywright? Playwright { get; private set; }
    public IBrowser Browser { get; private set; } = null!;
    public long OpenChange { get; private set; }
    public long Incident { get; private set; }

    private string SpecWith(string prompt) => GatewayHarness.Spec(System, Harness.Upstream.BaseUrl, "draft", "")
        .Replace($"  name: {System}", $"  name: {System}\n  title: 'Refunds {Xss}'", StringComparison.Ordinal)
        .Replace("purpose: Draft replies to support tickets", $"purpose: 'Drafts {Xss}'", StringComparison.Ordinal)
        .Replace(PromptA, prompt, StringComparison.Ordinal)
        .Replace("risk: low", "risk: high", StringComparison.Ordinal);

    private static async Task<JsonElement> SendAsync(HttpClient client, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<long> ApplyAsync(string prompt)
    {
        using var response = await Harness.Owner.PostAsync("/api/v1/systems/apply", new StringContent(SpecWith(prompt), Encoding.UTF8, "application/yaml"));
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException(body.ToString());
        return body.GetProperty("results")[0].TryGetProperty("changeRequest", out var id) && id.ValueKind == JsonValueKind.Number ? id.GetInt64() : 0;
    }

    public async Task InitializeAsync()
    {
        Harness = await GatewayHarness.StartAsync();
        await ApplyAsync(PromptA); // title and purpose, during the pilot: in force at once
        var admin = Harness.Server.Admin;
        var reviewerKey = await Harness.Server.CreateKeyAsync("rita@example.org");
        // A member's prompt (and so the model's echo) with markup, reviewed with an edited text, and feedback on it.
        var served = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order? " + Xss));
        served.EnsureSuccessStatusCode();
        var first = served.Headers.GetValues("x-pilotage-interaction-id").Single();
        var pending = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Still waiting " + Xss));
        pending.EnsureSuccessStatusCode();
        await SendAsync(Harness.Server.ClientFor(reviewerKey), HttpMethod.Post, $"/api/v1/interactions/{first}/review", new { outcome = "edited", finalText = "Edited " + Xss, reason = "tone " + Xss, seconds = 30 });
        await SendAsync(Harness.Member, HttpMethod.Post, $"/v1/interactions/{first}/feedback", new { rating = 2, comment = "Meh " + Xss });
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/systems/{System}/pause", new { reason = "Paused " + Xss });
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/systems/{System}/resume", new { reason = "Resumed " + Xss });
        var incident = await SendAsync(Harness.Member, HttpMethod.Post, "/api/v1/incidents", new { system = System, kind = "complaint", severity = "high", title = "Bad " + Xss, description = "Said " + Xss });
        Incident = incident.GetProperty("id").GetInt64();
        await SendAsync(admin, HttpMethod.Patch, $"/api/v1/incidents/{Incident}", new { status = "investigating", reviewNote = "Note " + Xss });

        // Past the pilot: config changes are change requests, decided with reasons.
        await ChangeRequestTests.MoveToProductionAsync(Harness.Server);
        var approved = await ApplyAsync("Approved prompt " + Xss);
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/changes/{approved}/approve", new { reason = "Approved " + Xss });
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/changes/{approved}/reject", new { reason = "Rejected " + Xss });
        OpenChange = await ApplyAsync("Open prompt " + Xss);
        await Harness.Server.CreateUserWithKeyAsync("nora@example.org", "owner");
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/systems/{System}/handover", new { to = "nora@example.org", reason = "Handover " + Xss });
        await SendAsync(admin, HttpMethod.Post, $"/api/v1/systems/{System}/hold", new { reason = "Hold " + Xss });

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

    public async Task<Tab> SignInAsync(string token, int width = 1280, int height = 800)
    {
        Assert.True(File.Exists(ChromiumGate.ExecutablePath), $"{ChromiumGate.SkipReason} (CI=true: browser tests must run)");
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height }, BaseURL = Harness.Server.Url });
        var tab = new Tab(context, await context.NewPageAsync());
        await tab.GotoAsync("/dashboard/sign-in");
        await tab.Page.GetByLabel("API key").FillAsync(token);
        await tab.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await tab.LandedAfterSignInAsync();
        return tab;
    }
}

public sealed class DashboardHostileTextBrowserTests(HostileTextFixture fixture) : IClassFixture<HostileTextFixture>
{
    private const string Xss = HostileTextFixture.Xss;
    private static string SystemPage => $"/dashboard/systems/{GatewayHarness.System}";

    [ChromiumFact]
    public async Task Markup_in_every_free_text_field_is_shown_as_text_on_every_page_and_never_runs()
    {
        await using var tab = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        // Each page with the texts it must show literally.
        var pages = new (string Path, string[] Texts)[]
        {
            ("/dashboard", ["Refunds " + Xss]),
            (SystemPage, ["Refunds " + Xss, "Drafts " + Xss, "Open prompt " + Xss, "Approved " + Xss, "Rejected " + Xss, "Handover " + Xss, "Hold " + Xss, "Paused " + Xss, "Resumed " + Xss, "Bad " + Xss]),
            ($"{SystemPage}/report", ["Refunds " + Xss]),
            ($"{SystemPage}/report?handler=Full", ["Refunds " + Xss]),
            ("/dashboard/reviews", ["Still waiting " + Xss]),
            ("/dashboard/incidents", ["Bad " + Xss]),
            ($"/dashboard/incidents/{fixture.Incident}", ["Bad " + Xss, "Said " + Xss, "Note " + Xss]),
            ("/dashboard/audit", []),
        };
        foreach (var (path, texts) in pages)
        {
            await tab.GotoAsync(path);
            var text = await tab.Page.InnerTextAsync("body");
            foreach (var expected in texts) Assert.True(text.Contains(expected, StringComparison.Ordinal), $"{path} does not show '{expected}' as text");
            Assert.Equal(0, await tab.Page.Locator("body img").CountAsync());
            Assert.True(await tab.Page.EvaluateAsync<bool>("typeof window.__xss === 'undefined'"), $"markup ran as script on {path}");
        }
        tab.AssertNoErrors();

        // The member's own page shows their prompts and the reviewer's reason as text too.
        await using var member = await fixture.SignInAsync(fixture.Harness.MemberKey);
        Assert.EndsWith("/dashboard/me", member.Page.Url, StringComparison.Ordinal);
        var mine = await member.Page.InnerTextAsync("#own-interactions");
        foreach (var expected in new[] { "Where is my order? " + Xss, "Still waiting " + Xss, "tone " + Xss })
        {
            Assert.True(mine.Contains(expected, StringComparison.Ordinal), $"/dashboard/me does not show '{expected}' as text");
        }
        Assert.Equal(0, await member.Page.Locator("body img").CountAsync());
        Assert.True(await member.Page.EvaluateAsync<bool>("typeof window.__xss === 'undefined'"), "markup ran as script on /dashboard/me");
        member.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task The_system_page_shows_the_change_request_and_the_ownership_box_at_desktop_and_narrow_widths()
    {
        await using var tab = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        await tab.GotoAsync(SystemPage);
        Assert.True(await tab.Page.Locator($"#change-{fixture.OpenChange}").IsVisibleAsync());
        Assert.True(await tab.Page.Locator("#ownership").IsVisibleAsync());
        Assert.Contains("nora@example.org", await tab.Page.InnerTextAsync("#handover"), StringComparison.Ordinal);
        await tab.Page.Locator("#change-requests").ScrollIntoViewIfNeededAsync();
        await tab.ScreenshotAsync("dashboard-system-change-control");
        tab.AssertNoErrors();

        await using var narrow = await fixture.SignInAsync(PilotageTestServer.AdminToken, width: 390, height: 844);
        await narrow.GotoAsync(SystemPage);
        var width = await narrow.Page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 400, $"the page is {width} px wide on a 390 px screen");
        await narrow.ScreenshotAsync("dashboard-system-change-control-narrow");
        narrow.AssertNoErrors();
    }
}
