using System.Net;
using System.Net.Http.Json;
using Pilotage.Core.Access;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>The dashboard over plain HTTP: the role matrix on every page, sign-in, anti-forgery, headers and the sign-in limit.</summary>
public sealed class DashboardHttpTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    /// <summary>Every signed-in page with the permission it needs: the same values the API uses.</summary>
    public static readonly (string Path, Permission Needs)[] Pages =
    [
        ("/dashboard/me", Permission.Self),
        ($"/dashboard/systems/{DashboardFixture.Drafts}", Permission.SystemsRead),
        ($"/dashboard/systems/{DashboardFixture.Drafts}/report", Permission.SystemsRead),
        ($"/dashboard/systems/{DashboardFixture.Drafts}/report?handler=Full", Permission.SystemsRead),
        ("/dashboard/reviews", Permission.Review),
        ("/dashboard/incidents", Permission.Self),
        ("/dashboard/audit", Permission.AuditRead),
    ];

    [Theory]
    [InlineData("admin")]
    [InlineData("owner")]
    [InlineData("reviewer")]
    [InlineData("auditor")]
    [InlineData("member")]
    public async Task Every_page_follows_the_role_matrix(string roleName)
    {
        Assert.True(Roles.TryParse(roleName, out var role));
        using var session = await fixture.SignInAsync(fixture.Tokens[roleName]);
        foreach (var (path, needs) in Pages)
        {
            var response = await session.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (AccessMatrix.Allows(role, needs))
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{roleName} {path}: {(int)response.StatusCode} {body[..Math.Min(400, body.Length)]}");
                Assert.Contains("text/html", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
            }
            else
            {
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{roleName} {path}: expected 403, got {(int)response.StatusCode}");
                Assert.Contains($"role <strong>{roleName}</strong>", body, StringComparison.Ordinal);
                Assert.Contains(DashboardRoles(needs), body, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("admin", "200")]
    [InlineData("owner", "200")]
    [InlineData("reviewer", "200")]
    [InlineData("auditor", "200")]
    [InlineData("member", "/dashboard/me")]
    public async Task The_portfolio_is_for_staff_and_takes_a_member_to_their_own_page(string roleName, string expected)
    {
        using var session = await fixture.SignInAsync(fixture.Tokens[roleName]);
        var response = await session.GetAsync("/dashboard");
        if (expected == "200")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("id=\"portfolio\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal(expected, response.Headers.Location?.OriginalString);
        }
    }

    private static string DashboardRoles(Permission permission) => Pilotage.Server.Dashboard.DashboardPage.RolesAllowed(permission);

    [Fact]
    public async Task Pages_redirect_to_sign_in_without_a_session()
    {
        using var session = fixture.NewSession();
        foreach (var (path, _) in Pages)
        {
            var response = await session.GetAsync(path);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/dashboard/sign-in", response.Headers.Location!.ToString().Replace(fixture.Url, "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/dashboard/sign-in")).StatusCode);
    }

    [Fact]
    public async Task Sign_in_issues_a_strict_http_only_cookie_that_the_api_does_not_accept()
    {
        using var session = fixture.NewSession();
        var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = fixture.OwnerKey });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/dashboard", response.Headers.Location!.ToString());
        var cookie = response.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("pilotage-session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/dashboard", cookie, StringComparison.OrdinalIgnoreCase);

        // The session cookie sent to the control API by hand: the API knows only bearer keys (no CSRF there).
        var value = cookie.Split(';')[0];
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/systems");
        request.Headers.Add("Cookie", value);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Client.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Signing_out_ends_the_session()
    {
        using var session = await fixture.SignInAsync(fixture.MemberKey);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/dashboard/incidents")).StatusCode);
        var signedOut = await session.PostFormAsync("/dashboard/sign-out", [], "/dashboard/incidents");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await session.GetAsync("/dashboard/incidents")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_ends_its_session()
    {
        var token = await fixture.Server.CreateKeyAsync("rita@example.org");
        using var session = await fixture.SignInAsync(token);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/dashboard/reviews")).StatusCode);

        var revoked = await fixture.Server.Admin.DeleteAsync($"/api/v1/keys/{ApiKeyToken.IdOf(token)}");
        Assert.True(revoked.IsSuccessStatusCode, await revoked.Content.ReadAsStringAsync());

        var after = await session.GetAsync("/dashboard/reviews");
        Assert.Equal(HttpStatusCode.Redirect, after.StatusCode);
        Assert.StartsWith("/dashboard/sign-in", after.Headers.Location!.PathAndQuery(fixture.Url), StringComparison.Ordinal);
    }

    /// <summary>Where each dashboard page model's POST handlers are reached (a page with a form and no row here fails the test below).</summary>
    private static readonly Dictionary<Type, string> FormPages = new()
    {
        [typeof(Pilotage.Server.Dashboard.Pages.SystemModel)] = $"/dashboard/systems/{DashboardFixture.Approvals}",
        [typeof(Pilotage.Server.Dashboard.Pages.ReportModel)] = $"/dashboard/systems/{DashboardFixture.Approvals}/report",
        [typeof(Pilotage.Server.Dashboard.Pages.ReviewsModel)] = "/dashboard/reviews",
        [typeof(Pilotage.Server.Dashboard.Pages.IncidentsModel)] = "/dashboard/incidents",
        [typeof(Pilotage.Server.Dashboard.Pages.IncidentModel)] = "/dashboard/incidents/1",
        [typeof(Pilotage.Server.Dashboard.Pages.AuditModel)] = "/dashboard/audit",
        [typeof(Pilotage.Server.Dashboard.Pages.SignInModel)] = "/dashboard/sign-in",
        [typeof(Pilotage.Server.Dashboard.Pages.SignOutModel)] = "/dashboard/sign-out",
    };

    [Fact]
    public async Task Every_dashboard_form_handler_refuses_a_post_without_the_anti_forgery_token()
    {
        // Every OnPost handler of every page model, found by reflection: a new form is covered without editing this test.
        var handlers = typeof(Pilotage.Server.Dashboard.DashboardPage).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Microsoft.AspNetCore.Mvc.RazorPages.PageModel)) && !t.IsAbstract)
            .SelectMany(t => t.GetMethods().Where(m => m.DeclaringType == t && m.Name.StartsWith("OnPost", StringComparison.Ordinal))
                .Select(m => (Page: t, Handler: m.Name["OnPost".Length..].Replace("Async", "", StringComparison.Ordinal))))
            .ToList();
        Assert.True(handlers.Count >= 16, $"expected every form handler, found {handlers.Count}");
        using var session = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        foreach (var (page, handler) in handlers)
        {
            Assert.True(FormPages.TryGetValue(page, out var path), $"{page.Name} has a form handler {handler}: add its path to FormPages");
            var url = handler.Length == 0 ? path : $"{path}?handler={handler}&id=1";
            using var content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["reason"] = "forged", ["confirm"] = "yes", ["token"] = PilotageTestServer.AdminToken, ["outcome"] = "stop", ["status"] = "resolved",
                ["title"] = "forged", ["description"] = "forged", ["severity"] = "low", ["system"] = DashboardFixture.Approvals,
            });
            var forged = await session.Client.PostAsync(url, content);
            Assert.True(forged.StatusCode == HttpStatusCode.BadRequest, $"{page.Name}.{handler}: {(int)forged.StatusCode} without the anti-forgery token");
        }
        // Still signed in, still not paused and no hold: nothing above took effect.
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/dashboard/incidents")).StatusCode);
        var system = await fixture.Server.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/systems/{DashboardFixture.Approvals}");
        Assert.NotEqual("paused", system.GetProperty("system").GetProperty("phase").GetString());
        Assert.DoesNotContain("id=\"hold-reason\"", await session.Client.GetStringAsync($"/dashboard/systems/{DashboardFixture.Approvals}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_post_without_the_anti_forgery_token_is_refused_and_changes_nothing()
    {
        using var session = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        using var content = new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "forged", ["confirm"] = "yes" });
        var forged = await session.Client.PostAsync($"/dashboard/systems/{DashboardFixture.Approvals}?handler=Pause", content);
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);

        var system = await fixture.Server.Admin.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/systems/{DashboardFixture.Approvals}");
        Assert.NotEqual("paused", system.GetProperty("system").GetProperty("phase").GetString());

        // Sign-in is a form too: without the token it is refused before the key is even looked at.
        using var anonymous = fixture.NewSession();
        using var signIn = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = PilotageTestServer.AdminToken });
        Assert.Equal(HttpStatusCode.BadRequest, (await anonymous.Client.PostAsync("/dashboard/sign-in", signIn)).StatusCode);
    }

    [Fact]
    public async Task Dashboard_responses_carry_the_security_headers()
    {
        using var session = await fixture.SignInAsync(PilotageTestServer.AdminToken);
        foreach (var path in new[] { "/dashboard/sign-in", "/dashboard", $"/dashboard/systems/{DashboardFixture.Drafts}" })
        {
            var response = await session.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var csp = response.Headers.GetValues("Content-Security-Policy").Single();
            var script = csp.Split(';').Select(d => d.Trim()).Single(d => d.StartsWith("script-src", StringComparison.Ordinal));
            Assert.Equal("script-src 'self'", script);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }
        // The API keeps its own behaviour: no dashboard headers there.
        Assert.False((await fixture.Server.Admin.GetAsync("/api/v1/systems")).Headers.Contains("Content-Security-Policy"));
    }

    [Fact]
    public async Task The_dashboard_script_and_stylesheet_are_served_by_the_app()
    {
        using var session = fixture.NewSession();
        var script = await session.GetAsync("/dashboard/assets/dashboard.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("keydown", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await session.GetAsync("/dashboard/assets/dashboard.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await session.GetAsync("/dashboard/assets/other.js")).StatusCode);
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_are_refused_with_429_and_a_clear_message()
    {
        // Its own server: the limit is per client address, and every test here signs in from 127.0.0.1.
        await using var server = await PilotageTestServer.StartAsync();
        using var session = new DashboardFixture.Session(server.Url);
        for (var i = 0; i < Pilotage.Server.Dashboard.SignInThrottle.FailuresPerWindow; i++)
        {
            var failed = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = $"plt_wrong{i}" });
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            Assert.Contains("not a Pilotage API key", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var limited = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = PilotageTestServer.AdminToken });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.Contains("Retry-After"));
        Assert.Contains("Too many failed sign-ins", await limited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(limited.Headers, h => h.Key == "Set-Cookie" && h.Value.Any(v => v.StartsWith("pilotage-session", StringComparison.Ordinal)));
    }
}

/// <summary>The verify button on a trail that was changed behind Pilotage's back.</summary>
public sealed class DashboardAuditTests
{
    [Fact]
    public async Task Verify_names_the_first_entry_that_was_changed_outside_pilotage()
    {
        await using var server = await PilotageTestServer.StartAsync();
        await server.CreateUserWithKeyAsync("kim@example.org", "auditor");
        using var session = new DashboardFixture.Session(server.Url);
        Assert.Equal(HttpStatusCode.Redirect, (await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = PilotageTestServer.AdminToken })).StatusCode);

        var intact = await (await session.PostFormAsync("/dashboard/audit?handler=Verify", [], "/dashboard/audit")).Content.ReadAsStringAsync();
        Assert.Contains("Verified: all", intact, StringComparison.Ordinal);

        var store = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Pilotage.Server.Storage.PilotageStore>(server.App.Services);
        await using (var db = store.CreateDbContext())
        {
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ExecuteUpdateAsync(
                System.Linq.Queryable.Where(db.AuditEntries, a => a.Sequence == 3), s => s.SetProperty(a => a.Actor, "mallory@example.org"));
        }
        var broken = await (await session.PostFormAsync("/dashboard/audit?handler=Verify", [], "/dashboard/audit")).Content.ReadAsStringAsync();
        Assert.Contains("Broken at entry 3", broken, StringComparison.Ordinal);
    }
}

internal static class UriExtensions
{
    public static string PathAndQuery(this Uri location, string baseUrl) =>
        location.IsAbsoluteUri ? location.PathAndQuery : location.ToString().Replace(baseUrl, "", StringComparison.Ordinal);
}

/// <summary>The decision form: the same command as the API, refused without a reason.</summary>
public sealed class DashboardDecisionTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task The_decision_form_records_an_override_only_with_a_reason()
    {
        using var session = await fixture.SignInAsync(fixture.OwnerKey);
        var page = $"/dashboard/systems/{DashboardFixture.Approvals}/report";
        var refused = await session.PostFormAsync(page + "?handler=Decide", new() { ["outcome"] = "stop", ["reason"] = "", ["override"] = "true" }, page);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("override needs a reason", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var decided = await session.PostFormAsync(page + "?handler=Decide",
            new() { ["outcome"] = "stop", ["reason"] = "the approval pilot is not needed <b>now</b>", ["override"] = "true" }, page);
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);
        var decisions = await fixture.Server.Admin.GetFromJsonAsync<System.Text.Json.JsonElement[]>($"/api/v1/systems/{DashboardFixture.Approvals}/decisions");
        var last = decisions![^1];
        Assert.Equal("stop", last.GetProperty("outcome").GetString());
        Assert.Equal("owner@example.org", last.GetProperty("decidedBy").GetString());
        Assert.False(string.IsNullOrEmpty(last.GetProperty("evidenceHash").GetString()));

        // The system page now shows the decision in its timeline, encoded.
        var system = await (await session.GetAsync($"/dashboard/systems/{DashboardFixture.Approvals}")).Content.ReadAsStringAsync();
        Assert.Contains("Stopped by owner@example.org (against the evidence&#x27;s recommendation): the approval pilot is not needed &lt;b&gt;now&lt;/b&gt;", system, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reviewer_sees_the_report_but_no_decision_form_and_cannot_post_one()
    {
        using var session = await fixture.SignInAsync(fixture.ReviewerKey);
        var page = $"/dashboard/systems/{DashboardFixture.Drafts}/report";
        var html = await (await session.GetAsync(page)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("decision-form", html, StringComparison.Ordinal);
        var refused = await session.PostFormAsync(page + "?handler=Decide", new() { ["outcome"] = "stop", ["reason"] = "not mine" }, page);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }
}
