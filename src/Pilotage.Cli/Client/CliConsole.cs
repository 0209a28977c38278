namespace Pilotage.Cli.Client;

/// <summary>
/// Where a command writes and what it reads from the environment. The real process passes the console
/// and its environment; tests pass string writers and a dictionary, so they never touch global state.
/// </summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?> environment, bool interactive)
{
    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    /// <summary>True when a person is looking at a terminal: tables may then use box drawing and colour.</summary>
    public bool Interactive { get; } = interactive;

    /// <summary>An environment variable, or null when it is unset or blank.</summary>
    public string? Env(string name) =>
        environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>
    /// The credentials file, resolved from this environment rather than the process's, so that tests
    /// and the real CLI agree on where <see cref="Pilotage.Server.Hosting.Credentials"/> keeps tokens.
    /// </summary>
    public string CredentialsPath()
    {
        var root = Env("XDG_CONFIG_HOME");
        if (root is null && Env("HOME") is { } home) root = Path.Combine(home, ".config");
        return root is null ? Pilotage.Server.Hosting.Credentials.DefaultPath() : Path.Combine(root, "pilotage", "credentials.json");
    }
}
