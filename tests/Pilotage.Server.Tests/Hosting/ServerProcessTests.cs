using System.Net;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Hosting;

/// <summary>The separate-process harness itself: a killed server comes back on the same database with its state.</summary>
public sealed class ServerProcessTests
{
    [Fact]
    public async Task A_server_killed_with_SIGKILL_restarts_on_the_same_database_with_its_users()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        var port = ServerProcess.FreePort();

        await using (var first = await ServerProcess.StartAsync(database, port))
        {
            using var created = await first.Admin.PostAsync("/api/v1/users", JsonContent("{\"email\":\"kim@example.org\",\"role\":\"auditor\"}"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            await first.KillAsync();
            Assert.True(first.HasExited);
        }

        await using var second = await ServerProcess.StartAsync(database, port);
        var users = await second.Admin.GetStringAsync("/api/v1/users");
        Assert.Contains("kim@example.org", users, StringComparison.Ordinal);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
