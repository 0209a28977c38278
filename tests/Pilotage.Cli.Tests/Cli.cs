using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>What one in-process run of <c>pilotage</c> printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Out);
        return document.RootElement.Clone();
    }

    /// <summary>Failures print exactly one line on stderr.</summary>
    public string ErrorLine()
    {
        var lines = Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{Err}");
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        return lines[0];
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>Runs the CLI in-process against the shared server, as admin unless told otherwise.</summary>
public sealed class Cli(ServerFixture server, TempDirectory home)
{
    public Task<CliResult> RunAsync(params string[] args) => RunAsAsync(ServerFixture.AdminToken, args);

    public Task<CliResult> RunAsAsync(string? token, params string[] args) =>
        RunWithAsync(new Dictionary<string, string?>
        {
            ["PILOTAGE_SERVER"] = server.Url,
            ["PILOTAGE_TOKEN"] = token,
            // Keeps the user's real credentials file out of reach.
            ["XDG_CONFIG_HOME"] = home.Path,
        }, args);

    public static async Task<CliResult> RunWithAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await CliApp.RunAsync(args, stdout, stderr, environment);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// The example spec under a name of the test's own, so tests sharing the server do not interfere.
    /// </summary>
    public string Spec(string name, Func<string, string>? edit = null, string? file = null)
    {
        var text = File.ReadAllText(RepoPaths.Examples("support-reply-drafts.yaml"))
            .Replace("name: support-reply-drafts", $"name: {name}", StringComparison.Ordinal);
        if (edit is not null) text = edit(text);
        var path = home.File(file ?? name + ".yaml");
        File.WriteAllText(path, text);
        return path;
    }
}
