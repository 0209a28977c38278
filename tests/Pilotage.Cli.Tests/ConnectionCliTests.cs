using System.Net;
using System.Net.Sockets;
using Pilotage.Server.Hosting;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class ConnectionCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    [Fact]
    public async Task No_server_listening_gives_one_line_that_says_what_to_do()
    {
        var url = $"http://127.0.0.1:{FreePort()}";

        var status = await Cli.RunWithAsync(new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = url, ["PILOTAGE_TOKEN"] = "x" }, "status");

        Assert.Equal(1, status.ExitCode);
        Assert.Equal($"error: cannot reach the Pilotage server at {url}: is 'pilotage serve' running? set --server or PILOTAGE_SERVER", status.ErrorLine());
        Assert.Equal("", status.Out);
    }

    [Fact]
    public async Task The_server_flag_wins_over_the_environment()
    {
        var environment = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = $"http://127.0.0.1:{FreePort()}", ["PILOTAGE_TOKEN"] = ServerFixture.AdminToken };

        var status = await Cli.RunWithAsync(environment, "status", "--server", server.Url, "--json");

        Assert.True(status.ExitCode == 0, status.ToString());
        status.Json();
    }

    [Fact]
    public async Task The_token_is_read_from_the_credentials_file_when_not_given()
    {
        Credentials.Save(Path.Combine(_home.Path, "pilotage", "credentials.json"), server.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), ServerFixture.AdminToken);
        var environment = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = server.Url, ["XDG_CONFIG_HOME"] = _home.Path };

        var status = await Cli.RunWithAsync(environment, "users", "list");

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("admin@localhost", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_any_token_the_error_says_where_to_set_one()
    {
        var environment = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = server.Url, ["XDG_CONFIG_HOME"] = _home.Path };

        var status = await Cli.RunWithAsync(environment, "status");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("set --token or PILOTAGE_TOKEN", status.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_token_prints_the_servers_reason()
    {
        var status = await new Cli(server, _home).RunAsAsync("plt_abcdefgh_wrong", "status");

        Assert.Equal(1, status.ExitCode);
        Assert.Equal("error: unknown API key", status.ErrorLine());
    }

    [Theory]
    [InlineData("statsu")]
    [InlineData("apply")]
    [InlineData("status", "--bogus")]
    [InlineData("users", "add")]
    [InlineData("status", "--server", "not a url")]
    public async Task Command_line_mistakes_are_one_line_usage_errors(params string[] args)
    {
        var result = await Cli.RunWithAsync(new Dictionary<string, string?>(), args);

        Assert.Equal(2, result.ExitCode);
        result.ErrorLine();
    }

    [Fact]
    public async Task Every_verb_has_help()
    {
        string[][] verbs =
        [
            ["serve"], ["apply"], ["diff"], ["status"], ["users", "add"], ["users", "list"], ["users", "set"],
            ["groups", "add"], ["groups", "list"], ["groups", "add-member"], ["groups", "remove-member"],
            ["keys", "create"], ["keys", "list"], ["keys", "revoke"], ["audit", "verify"], ["audit", "export"],
        ];
        foreach (var verb in verbs)
        {
            var help = await Cli.RunWithAsync(new Dictionary<string, string?>(), [.. verb, "--help"]);
            Assert.True(help.ExitCode == 0, help.ToString());
            Assert.Contains("Description:", help.Out, StringComparison.Ordinal);
            Assert.Contains("--json", help.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Version_names_the_cli()
    {
        var version = await Cli.RunWithAsync(new Dictionary<string, string?>(), "--version");

        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^pilotage \d+\.\d+", version.Out.Trim());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => _home.Dispose();
}
