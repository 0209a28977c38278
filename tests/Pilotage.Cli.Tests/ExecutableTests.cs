using System.Diagnostics;

namespace Pilotage.Cli.Tests;

/// <summary>The built <c>pilotage</c> executable itself, run as a real process.</summary>
[Collection(ServerCollection.Name)]
public sealed class ExecutableTests(ServerFixture server)
{
    [Fact]
    public async Task The_executable_prints_its_version_and_talks_to_the_server()
    {
        var version = await RunAsync(["--version"], []);
        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.Matches(@"^pilotage \d+\.\d+", version.Out.Trim());

        var status = await RunAsync(["status", "--json"], new() { ["PILOTAGE_SERVER"] = server.Url, ["PILOTAGE_TOKEN"] = ServerFixture.AdminToken });
        Assert.True(status.ExitCode == 0, status.ToString());
        status.Json();

        var refused = await RunAsync(["status"], new() { ["PILOTAGE_SERVER"] = server.Url, ["PILOTAGE_TOKEN"] = "wrong" });
        Assert.Equal(1, refused.ExitCode);
        refused.ErrorLine();
    }

    private static async Task<CliResult> RunAsync(string[] args, Dictionary<string, string?> environment)
    {
        // The CLI project is referenced, so its pilotage.dll (and runtimeconfig) sit next to this assembly.
        var dll = Path.Combine(AppContext.BaseDirectory, "pilotage.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // Only what the test gives: no token or server leaking in from the developer's shell.
        foreach (var name in new[] { "PILOTAGE_SERVER", "PILOTAGE_TOKEN", "PILOTAGE_DB", "PILOTAGE_ADMIN_TOKEN" }) start.Environment.Remove(name);
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(Path.GetTempPath(), "pilotage-cli-none");
        foreach (var (name, value) in environment) start.Environment[name] = value;

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
