using System.Net;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// The server's address in a browser opens the dashboard, and an address nothing answers gets the
/// dashboard's not-found page (HTML, 404) — except on the machine surfaces (/v1, /api, /openapi, /metrics,
/// the health probes), whose 404 stays JSON.
/// </summary>
public sealed class DashboardRoutingTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task The_root_redirects_to_the_dashboard_which_asks_for_a_key()
    {
        using var session = fixture.NewSession();
        var root = await session.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/dashboard", root.Headers.Location?.OriginalString);
        var dashboard = await session.GetAsync("/dashboard");
        Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
        Assert.StartsWith("/dashboard/sign-in", dashboard.Headers.Location?.PathAndQuery ?? dashboard.Headers.Location?.OriginalString, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/nope")]
    [InlineData("/index.html")]
    [InlineData("/dashboard/no-such-page")]
    [InlineData("/v2/chat/completions")]
    [InlineData("/apix")]
    [InlineData("/favicon.ico")]
    public async Task An_unknown_address_gets_the_not_found_page_as_html(string path)
    {
        using var session = fixture.NewSession();
        var response = await session.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("<h1>Not found</h1>", body, StringComparison.Ordinal);
        Assert.Contains($"<code>{path}</code>", body, StringComparison.Ordinal);
        Assert.Contains("href=\"/dashboard\"", body, StringComparison.Ordinal);
        Assert.Equal(Pilotage.Server.Dashboard.SecurityHeaders.ContentSecurityPolicy, string.Join("", response.Headers.GetValues("Content-Security-Policy")));
    }

    [Fact]
    public async Task The_not_found_page_shows_the_address_as_text()
    {
        using var session = fixture.NewSession();
        var response = await session.GetAsync("/%3Cscript%3Ealert(1)%3C/script%3E");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", body, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_system_on_the_dashboard_gets_the_not_found_page()
    {
        using var session = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        var response = await session.GetAsync("/dashboard/systems/no-such-system");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Not found</h1>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/no-such-thing")]
    [InlineData("/api/v1/systems/no-such-system")]
    [InlineData("/api/nope")]
    public async Task Unknown_control_api_paths_keep_a_json_problem_404(string path)
    {
        var response = await fixture.Server.Admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("<html", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("/v1/no-such-endpoint")]
    [InlineData("/metrics/nope")]
    [InlineData("/openapi/nope.json")]
    [InlineData("/scim/v2/NoSuchResource")]
    public async Task Other_machine_paths_never_get_the_html_page(string path)
    {
        var response = await fixture.Server.Anonymous.GetAsync(path);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.NotEqual("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
