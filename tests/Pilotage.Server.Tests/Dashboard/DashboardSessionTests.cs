using System.Net;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pilotage.Server.Dashboard;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// A dashboard session ends on the server: the attacker saved the session cookie (a shared computer, a
/// proxy log, a stolen browser profile) and replays it, byte for byte, with raw HTTP after the person
/// signed out, after their key was revoked, after they were deactivated, and on another replica.
/// </summary>
public sealed class DashboardSessionTests
{
    [Fact]
    public async Task A_cookie_saved_before_sign_out_is_refused_afterwards()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var token = await server.CreateUserWithKeyAsync("dana@example.org", "owner");
        using var session = await SignInAsync(server.Url, token);
        var saved = SessionCookie(session, server.Url);
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, saved));

        using var signedOut = await session.PostFormAsync("/dashboard/sign-out", [], "/dashboard/incidents");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, saved));
        Assert.Equal(0, await SessionRowsAsync(server));

        // Signing in again makes a new session; the old cookie stays dead.
        using var again = await SignInAsync(server.Url, token);
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, SessionCookie(again, server.Url)));
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, saved));
    }

    [Fact]
    public async Task A_cookie_is_refused_once_its_key_is_revoked_or_its_person_deactivated()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var revoked = await server.CreateUserWithKeyAsync("rita@example.org", "reviewer");
        var other = await server.CreateKeyAsync("rita@example.org");
        var deactivated = await server.CreateUserWithKeyAsync("mia@example.org", "member");
        using var viaRevoked = await SignInAsync(server.Url, revoked);
        using var viaOther = await SignInAsync(server.Url, other);
        using var viaDeactivated = await SignInAsync(server.Url, deactivated);
        var (revokedCookie, otherCookie, deactivatedCookie) = (SessionCookie(viaRevoked, server.Url), SessionCookie(viaOther, server.Url), SessionCookie(viaDeactivated, server.Url));
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, revokedCookie, "/dashboard/incidents"));

        (await server.Admin.DeleteAsync($"/api/v1/keys/{revoked.Split('_')[1]}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, revokedCookie, "/dashboard/incidents"));
        // Only the session made from that key: her session from another key goes on.
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, otherCookie, "/dashboard/incidents"));

        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, deactivatedCookie, "/dashboard/incidents"));
        (await server.Admin.PatchAsJsonAsync("/api/v1/users/mia@example.org", new { active = false })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, deactivatedCookie, "/dashboard/incidents"));
        // Reactivated, she signs in again: the old session does not come back.
        (await server.Admin.PatchAsJsonAsync("/api/v1/users/mia@example.org", new { active = true })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, deactivatedCookie, "/dashboard/incidents"));
    }

    [Fact]
    public async Task A_copy_of_the_database_forges_no_session_even_with_the_key_ring()
    {
        await using var server = await PilotageTestServer.StartAsync();
        using var session = await SignInAsync(server.Url, PilotageTestServer.AdminToken);
        var cookie = SessionCookie(session, server.Url);
        // The attacker holds the key ring (data_protection_keys) too: the server's own ticket format stands in for it.
        var format = server.App.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(DashboardSetup.Scheme).TicketDataFormat;
        var ticket = format.Unprotect(cookie["pilotage-session=".Length..])!;
        var sessionId = ticket.Principal.FindFirst(SessionIdClaim)!.Value;
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var row = await db.DashboardSessions.AsNoTracking().SingleAsync();
        Assert.NotEqual(sessionId, row.Id);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId))), row.Id);

        // A cookie naming the stored row: refused, the row holds only the id's hash.
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, "pilotage-session=" + format.Protect(WithSession(ticket, row.Id))));
        // A whole admin ticket without a session, as the cookie carried before sessions were kept on the server: refused.
        var whole = new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(ticket.Principal.Claims.Where(c => c.Type != SessionIdClaim), DashboardSetup.Scheme)), ticket.Properties, DashboardSetup.Scheme);
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(server.Url, "pilotage-session=" + format.Protect(whole)));
        // The real cookie still works: the refusals above are about what was forged.
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(server.Url, cookie));
    }

    /// <summary>The claim in which ASP.NET Core's cookie handler keeps the session store's key.</summary>
    private const string SessionIdClaim = "Microsoft.AspNetCore.Authentication.Cookies-SessionId";

    private static AuthenticationTicket WithSession(AuthenticationTicket ticket, string id)
    {
        var identity = new ClaimsIdentity(ticket.Principal.Claims.Where(c => c.Type != SessionIdClaim), DashboardSetup.Scheme);
        identity.AddClaim(new Claim(SessionIdClaim, id));
        return new AuthenticationTicket(new ClaimsPrincipal(identity), ticket.Properties, DashboardSetup.Scheme);
    }

    [PostgresFact]
    public async Task Signing_out_on_one_replica_ends_the_session_on_the_other_at_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString);
        using var session = await SignInAsync(a.Url, ServerProcess.AdminToken);
        var saved = SessionCookie(session, a.Url);
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(b.Url, saved));
        using var signedOut = await session.PostFormAsync("/dashboard/sign-out", [], "/dashboard/incidents");
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(b.Url, saved));

        // A key revoked through B ends A's session made from it, without waiting for B's notification to reach A.
        using var key = await a.Admin.PostAsJsonAsync("/api/v1/keys", new { name = "dashboard" });
        var token = (await key.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        using var second = await SignInAsync(a.Url, token);
        var cookie = SessionCookie(second, a.Url);
        Assert.Equal(HttpStatusCode.OK, await ReplayAsync(a.Url, cookie));
        (await b.Admin.DeleteAsync($"/api/v1/keys/{token.Split('_')[1]}")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.Redirect, await ReplayAsync(a.Url, cookie));
    }

    private static async Task<DashboardFixture.Session> SignInAsync(string url, string token)
    {
        var session = new DashboardFixture.Session(url);
        using var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = token });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    /// <summary>The session cookie as the browser holds it, ready to send again as a <c>Cookie</c> header.</summary>
    private static string SessionCookie(DashboardFixture.Session session, string url)
    {
        var cookie = session.Cookies.GetCookies(new Uri(url + "/dashboard/")).Single(c => c.Name == "pilotage-session");
        return $"{cookie.Name}={cookie.Value}";
    }

    /// <summary>A dashboard page with nothing but the saved cookie: 200 while the session lives, a redirect to sign in once it ended.</summary>
    private static async Task<HttpStatusCode> ReplayAsync(string url, string cookie, string path = "/dashboard")
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        if (response.StatusCode == HttpStatusCode.Redirect)
        {
            Assert.StartsWith("/dashboard/sign-in", response.Headers.Location!.ToString().Replace(url, "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        return response.StatusCode;
    }

    private static async Task<int> SessionRowsAsync(PilotageTestServer server)
    {
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        return await db.DashboardSessions.CountAsync();
    }
}
