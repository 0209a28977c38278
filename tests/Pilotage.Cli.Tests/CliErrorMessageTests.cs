using System.Net;
using System.Net.Sockets;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// Every way a command can go wrong in the first hour, against a real server (or none): the person gets
/// the server's message and the fix on one <c>error:</c> line, never a stack trace.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class CliErrorMessageTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    /// <summary>One error line, the exit code, no trace; returns the line.</summary>
    private static string Refused(CliResult result, int exitCode = 1)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Err.Replace("(IOException)", "", StringComparison.Ordinal), StringComparison.Ordinal);
        return result.ErrorLine();
    }

    public static TheoryData<string[]> ClientVerbs() => new()
    {
        { new[] { "status" } },
        { new[] { "apply", "-f", RepoPaths.Examples("support-reply-drafts.yaml") } },
        { new[] { "decide", "x", "pilot", "--reason", "r" } },
        { new[] { "eval", "support-reply-drafts", "--set", RepoPaths.Examples("testsets/support-reply-drafts.yaml") } },
        { new[] { "training", "ack", "x" } },
        { new[] { "report", "x" } },
        { new[] { "audit", "verify" } },
        { new[] { "reviews" } },
    };

    [Theory]
    [MemberData(nameof(ClientVerbs))]
    public async Task With_no_server_listening_each_verb_says_how_to_reach_one(string[] args)
    {
        var url = $"http://127.0.0.1:{FreePort()}";

        var result = await Cli.RunWithAsync(new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = url, ["PILOTAGE_TOKEN"] = "x", ["XDG_CONFIG_HOME"] = _home.Path }, args);

        var line = Refused(result);
        Assert.Contains($"cannot reach the Pilotage server at {url}: is 'pilotage serve' running? set --server or PILOTAGE_SERVER", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_key_gets_the_servers_reason()
    {
        var line = Refused(await Cli.RunAsAsync("plt_abcdefgh_wrong", "apply", "-f", Cli.Spec("errors-401")));
        Assert.Equal("error: unknown API key", line);
    }

    [Fact]
    public async Task A_member_is_told_which_roles_may_and_whom_to_ask()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "errors-member@example.org")).ExitCode);
        var key = (await Cli.RunAsync("keys", "create", "--user", "errors-member@example.org", "--json")).Json().GetProperty("key").GetString();

        var apply = Refused(await Cli.RunAsAsync(key, "apply", "-f", Cli.Spec("errors-403")));
        Assert.Contains("has the role 'member', which may not do this", apply, StringComparison.Ordinal);
        Assert.Contains("allowed roles: admin, owner. Ask an admin.", apply, StringComparison.Ordinal);

        var pause = Refused(await Cli.RunAsAsync(key, "pause", "errors-403", "--reason", "r"));
        Assert.Contains("which may not do this", pause, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status", "errors-nosuch")]
    [InlineData("decide", "errors-nosuch", "pilot", "--reason", "r")]
    [InlineData("metrics", "errors-nosuch")]
    [InlineData("report", "errors-nosuch")]
    [InlineData("pause", "errors-nosuch", "--reason", "r")]
    public async Task An_unknown_system_is_named_with_where_to_find_the_real_ones(params string[] args)
    {
        var line = Refused(await Cli.RunAsync(args));
        Assert.Equal("error: no system 'errors-nosuch'; 'pilotage status' lists the systems you may see", line);
    }

    [Fact]
    public async Task Unknown_interactions_and_users_say_where_the_right_one_comes_from()
    {
        Assert.Contains("x-pilotage-interaction-id", Refused(await Cli.RunAsync("review", "int_nosuch", "accepted")), StringComparison.Ordinal);
        Assert.Contains("pilotage users add errors-nobody@example.org", Refused(await Cli.RunAsync("keys", "create", "--user", "errors-nobody@example.org")), StringComparison.Ordinal);
        Assert.Contains("pilotage keys list", Refused(await Cli.RunAsync("keys", "revoke", "999999")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_decision_prints_the_servers_reason()
    {
        Assert.Equal(0, (await Cli.RunAsync("apply", "-f", Cli.Spec("errors-409"))).ExitCode);

        var line = Refused(await Cli.RunAsync("decide", "errors-409", "proceed", "--reason", "criteria met"));

        Assert.Contains("no pilot is running (the system is proposed)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_spec_prints_each_located_problem_and_one_summary_line()
    {
        var spec = Cli.Spec("errors-422", text => text.Replace("metric: rejection_rate, over: 50", "metric: pass_rate, over: 50", StringComparison.Ordinal)
            .Replace("risk: medium", "risk: extreme", StringComparison.Ordinal));

        var result = await Cli.RunAsync("apply", "-f", spec);

        Assert.Equal("error: 2 problems in the spec; nothing was applied", Refused(result));
        var lines = LifecycleCliTests.Lines(result.Out);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^errors-422\.yaml: spec\.risk: invalid value 'extreme'.* at line \d+, column \d+$", lines[0]);
        Assert.Matches(@"^errors-422\.yaml: spec\.pauseRules\[0\]\.metric: a pause rule cannot watch pass_rate.* at line \d+, column \d+$", lines[1]);
    }

    [Fact]
    public async Task Missing_and_unreadable_files_are_named()
    {
        var missing = _home.File("missing.yaml");
        Assert.Equal("error: 1 problem in the spec; nothing was applied", Refused(await Cli.RunAsync("apply", "-f", missing)));
        Assert.Contains("file not found", (await Cli.RunAsync("apply", "-f", missing)).Out, StringComparison.Ordinal);
        Assert.Contains("in the test set missing.yaml; nothing was run", Refused(await Cli.RunAsync("eval", "x", "--set", missing)), StringComparison.Ordinal);
        Assert.Equal($"error: file not found: {_home.File("missing.csv")}", Refused(await Cli.RunAsync("import", "x", _home.File("missing.csv"))));
        Assert.Equal($"error: file not found: {_home.File("reply.txt")}", Refused(await Cli.RunAsync("review", "int_x", "edited", "--final-file", _home.File("reply.txt"))));

        var folder = Path.Combine(_home.Path, "no", "such", "folder");
        Assert.Contains($"the folder {folder} does not exist", Refused(await Cli.RunAsync("audit", "export", "-o", Path.Combine(folder, "audit.jsonl"))), StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));

        var binary = _home.File("binary.yaml");
        await File.WriteAllBytesAsync(binary, [0xff, 0xfe, 0x00, 0x01]);
        Refused(await Cli.RunAsync("apply", "-f", binary));
    }

    [Fact]
    public async Task A_server_address_that_is_not_pilotage_is_said_to_be_one()
    {
        await using var other = await FakeUpstream.StartAsync();
        var root = other.BaseUrl[..^"/v1".Length];

        var line = Refused(await Cli.RunAsAsync(ServerFixture.AdminToken, "status", "--server", root));

        Assert.Contains("pointing at", line, StringComparison.Ordinal);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose() => _home.Dispose();
}
