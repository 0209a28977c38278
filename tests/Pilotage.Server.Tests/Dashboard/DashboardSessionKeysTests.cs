using System.Net;
using Microsoft.Data.Sqlite;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// The dashboard cookie's Data Protection key ring lives in the store (table <c>data_protection_keys</c>):
/// a session survives a restart of the server, and a session issued by one replica works on another.
/// </summary>
public sealed class DashboardSessionKeysTests
{
    [Fact]
    public async Task A_session_signed_in_before_a_kill_still_works_after_the_restart_and_no_keys_folder_is_written()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        string cookie;
        await using (var first = await ServerProcess.StartAsync(database))
        {
            cookie = await SignInAsync(first.Url);
            Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(first.Url, cookie));
            await first.KillAsync();
        }

        await using var second = await ServerProcess.StartAsync(database);
        Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(second.Url, cookie));
        // A forged cookie is still refused: the answer above is the key ring's doing, not a lax check.
        Assert.Equal(HttpStatusCode.Redirect, await DashboardStatusAsync(second.Url, "pilotage-session=CfDJ8forged"));
        Assert.False(Directory.Exists(folder.File("dashboard-keys")), "the key ring is in the database now, not in a dashboard-keys folder");
        await using var connection = new SqliteConnection($"Data Source={database}");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM data_protection_keys";
        Assert.True((long)(await count.ExecuteScalarAsync())! >= 1, "the key ring's keys are rows of data_protection_keys");
    }

    [PostgresFact]
    public async Task A_session_issued_by_one_replica_is_accepted_by_another_on_the_same_PostgreSQL_database()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var a = await ServerProcess.StartAsync(database.ConnectionString);
        await using var b = await ServerProcess.StartAsync(database.ConnectionString);
        var cookie = await SignInAsync(a.Url);
        Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(a.Url, cookie));
        Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(b.Url, cookie));
        // And the other way round: B's session on A.
        var fromB = await SignInAsync(b.Url);
        Assert.Equal(HttpStatusCode.OK, await DashboardStatusAsync(a.Url, fromB));
    }

    /// <summary>Signs in with the admin token; returns the session cookie as a <c>Cookie</c> header value.</summary>
    private static async Task<string> SignInAsync(string url)
    {
        using var session = new DashboardFixture.Session(url);
        var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = ServerProcess.AdminToken });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookie = session.Cookies.GetCookies(new Uri(url + "/dashboard/")).FirstOrDefault(c => c.Name == "pilotage-session");
        Assert.NotNull(cookie);
        return $"{cookie.Name}={cookie.Value}";
    }

    /// <summary>GET /dashboard with only the given cookie: 200 when the session is accepted, a redirect to sign in when not.</summary>
    private static async Task<HttpStatusCode> DashboardStatusAsync(string url, string cookie)
    {
        using var handler = new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/dashboard");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
