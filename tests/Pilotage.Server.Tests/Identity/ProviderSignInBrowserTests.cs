using System.Net;
using Microsoft.Playwright;
using Pilotage.Server.Identity;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Identity;

/// <summary>
/// Dashboard sign-in through the real OpenID provider in headless Chromium: the provider's login and consent, back
/// on the dashboard as that person; signing out ends the session here and at the provider.
/// </summary>
public sealed class ProviderSignInBrowserTests
{
    [OidcBrowserFact]
    public async Task A_person_signs_in_at_the_provider_lands_on_the_dashboard_as_themselves_and_signs_out_everywhere()
    {
        var port = OidcProvider.FreePort();
        // Pilotage on localhost, the provider on 127.0.0.1: two sites, as a real provider is, so the SameSite=Strict
        // session must survive a sign-in that comes back from another site.
        var url = $"http://localhost:{port}";
        await using var provider = await OidcProvider.StartAsync([url + "/dashboard/signin-oidc"], [url + "/dashboard/signout-oidc"]);
        await using var server = await PilotageTestServer.StartAsync(configure: o => o with
        {
            Urls = url,
            Oidc = new OidcOptions
            {
                Authority = new Uri(provider.Issuer),
                ClientId = OidcProvider.ClientId,
                ClientSecret = OidcProvider.ClientSecret,
                Scopes = ["openid", "email", "profile", "groups"],
            },
        });

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumGate.ExecutablePath, Headless = true, Args = [.. ChromiumGate.Args], Timeout = 60_000 });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url });
        var page = await context.NewPageAsync();
        // The machine may be busy with the rest of the suite: a provider round trip can take longer than Playwright's 30 s default.
        page.SetDefaultTimeout(90_000);

        await page.GotoAsync("/dashboard/sign-in?returnUrl=%2Fdashboard%2Fme");
        await page.ClickAsync("#sign-in-provider");
        await page.WaitForURLAsync(u => u.StartsWith(provider.Issuer, StringComparison.Ordinal));
        await page.FillAsync("input[name=login]", "alice");
        await page.FillAsync("input[name=password]", "any");
        await page.ClickAsync("button[type=submit]");
        // The consent page (the first time this client asks for these scopes). Its button has the login page's selector,
        // so wait for the login form to go first: under load a second click could land on the login page again.
        await page.Locator("input[name=login]").WaitForAsync(new() { State = WaitForSelectorState.Detached });
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(u => u.StartsWith(url + "/dashboard/me", StringComparison.Ordinal));
        Assert.Contains("alice@example.org", await page.ContentAsync(), StringComparison.Ordinal);

        // The person is known from the sign-in, with the groups the provider gave.
        var alice = await server.Admin.GetStringAsync("/api/v1/users/alice@example.org");
        Assert.Contains("support-pilot", alice, StringComparison.Ordinal);

        await page.ClickAsync("form[action='/dashboard/sign-out'] button");
        await page.WaitForURLAsync(u => u.StartsWith(provider.Issuer, StringComparison.Ordinal));
        await page.ClickAsync("button[name=logout]");
        await page.WaitForURLAsync(u => u.StartsWith(url + "/dashboard/sign-in", StringComparison.Ordinal));

        // Signed out here: the dashboard asks for a sign-in again.
        var response = await page.GotoAsync("/dashboard/me");
        Assert.StartsWith(url + "/dashboard/sign-in", page.Url, StringComparison.Ordinal);
        Assert.Equal((int)HttpStatusCode.OK, response!.Status);
        // And at the provider: signing in again asks for the login, not straight back in.
        await page.ClickAsync("#sign-in-provider");
        await page.WaitForURLAsync(u => u.StartsWith(provider.Issuer, StringComparison.Ordinal));
        Assert.Equal(1, await page.Locator("input[name=login]").CountAsync());
    }

    [OidcFact]
    public async Task The_page_after_sign_in_only_leads_into_the_dashboard()
    {
        await using var provider = await OidcProvider.StartAsync();
        await using var server = await PilotageTestServer.StartAsync(configure: o => o with
        {
            Oidc = new OidcOptions { Authority = new Uri(provider.Issuer), ClientId = OidcProvider.ClientId, ClientSecret = OidcProvider.ClientSecret },
        });

        // A link someone else made cannot send a person who just signed in to another site or out of the dashboard.
        foreach (var hostile in new[] { "https://evil.example/", "//evil.example/x", "/dashboard\\evil.example", "/api/v1/keys", "javascript:alert(1)" })
        {
            var html = await server.Anonymous.GetStringAsync("/dashboard/signed-in?to=" + Uri.EscapeDataString(hostile));
            Assert.Contains("content=\"0;url=/dashboard\"", html, StringComparison.Ordinal);
        }
        var fine = await server.Anonymous.GetStringAsync("/dashboard/signed-in?to=" + Uri.EscapeDataString("/dashboard/systems/drafts?tab=1&x=\"><b>"));
        Assert.Contains("url=/dashboard/systems/drafts?tab=1&amp;x=&quot;&gt;&lt;b&gt;\"", fine, StringComparison.Ordinal);
    }
}
