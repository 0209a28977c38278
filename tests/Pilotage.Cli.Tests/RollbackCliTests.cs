using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class RollbackCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Rollback_restores_the_earlier_configuration_and_versions_marks_it_current()
    {
        await ApplyAsync("rollback-cli");
        await ApplyAsync("rollback-cli", t => t.Replace("temperature: 0.2", "temperature: 0.7", StringComparison.Ordinal));

        var rollback = await Cli.RunAsync("rollback", "rollback-cli", "--reason", "the warmer answers wandered");
        Assert.True(rollback.ExitCode == 0, rollback.ToString());
        Assert.Matches(@"^rollback-cli: configuration of version 1 restored, now in force as version 3 \(by \S+@\S+\)$", rollback.Out.Trim());

        var versions = await Cli.RunAsync("versions", "rollback-cli");
        Assert.True(versions.ExitCode == 0, versions.ToString());
        var lines = versions.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.StartsWith("VERSION", lines[0], StringComparison.Ordinal);
        Assert.Equal(4, lines.Length);
        Assert.Matches(@"^3\s+\*", lines[3]);

        var json = (await Cli.RunAsync("versions", "rollback-cli", "--json")).Json().EnumerateArray().ToList();
        Assert.Equal([false, false, true], json.Select(v => v.GetProperty("current").GetBoolean()));

        var again = await Cli.RunAsync("rollback", "rollback-cli", "--to", "1", "--reason", "again");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already in force", again.ErrorLine(), StringComparison.Ordinal);

        var toTwo = await Cli.RunAsync("rollback", "rollback-cli", "--to", "2", "--reason", "warmer after all", "--json");
        Assert.True(toTwo.ExitCode == 0, toTwo.ToString());
        Assert.Equal(4, toTwo.Json().GetProperty("configVersion").GetInt32());
    }

    [Fact]
    public async Task Rollback_without_a_reason_is_a_usage_error()
    {
        var result = await Cli.RunAsAsync(null, "rollback", "anything", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("reason", result.ErrorLine(), StringComparison.Ordinal);
    }

    private async Task ApplyAsync(string name, Func<string, string>? edit = null)
    {
        var apply = await Cli.RunAsync("apply", "-f", Cli.Spec(name, edit));
        Assert.True(apply.ExitCode == 0, apply.ToString());
    }

    public void Dispose() => _home.Dispose();
}
