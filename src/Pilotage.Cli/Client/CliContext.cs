using System.CommandLine;
using Pilotage.Server.Hosting;

namespace Pilotage.Cli.Client;

/// <summary>
/// What every verb shares: the console, the output helpers, and the options that say which server to
/// talk to and how. One instance per invocation, captured by the verbs' actions.
/// </summary>
internal sealed class CliContext(CliConsole console)
{
    public CliConsole Console { get; } = console;

    public Output Output { get; } = new(console);

    /// <summary>On the root and inherited by every verb.</summary>
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print machine-readable JSON on stdout instead of tables and sentences",
        Recursive = true,
    };

    public Option<string?> Server { get; } = new("--server")
    {
        Description = "Address of the Pilotage server [default: $PILOTAGE_SERVER, else " + PilotageServerOptions.DefaultUrls + "]",
        HelpName = "URL",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = "API key to sign in with [default: $PILOTAGE_TOKEN, else the key 'pilotage serve' saved for this server]",
        HelpName = "KEY",
    };

    public bool WantsJson(ParseResult parse) => parse.GetValue(Json);

    private readonly List<Command> _clientCommands = [];

    /// <summary>A verb that talks to the server: it gets --server and --token (see <see cref="AddConnectionOptions"/>).</summary>
    public Command ClientCommand(string name, string description)
    {
        var command = new Command(name, description);
        _clientCommands.Add(command);
        return command;
    }

    /// <summary>Added last, so each verb's help lists its own options before the common ones.</summary>
    public void AddConnectionOptions()
    {
        foreach (var command in _clientCommands)
        {
            command.Options.Add(Server);
            command.Options.Add(Token);
        }
    }

    /// <summary>Resolves the server and the token, flags first, then environment, then the credentials file.</summary>
    public ControlClient Connect(ParseResult parse)
    {
        var text = parse.GetValue(Server) ?? Console.Env("PILOTAGE_SERVER") ?? PilotageServerOptions.DefaultUrls;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var server) || (server.Scheme != Uri.UriSchemeHttp && server.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"'{text}' is not a server address; give one like {PilotageServerOptions.DefaultUrls}", ExitCodes.Usage);
        }
        var token = Blank(parse.GetValue(Token)) ?? Console.Env("PILOTAGE_TOKEN") ?? Credentials.Find(Console.CredentialsPath(), server.OriginalString);
        return new ControlClient(server, token);
    }

    /// <summary>
    /// Connects (<see cref="Connect"/>) for one verb's requests, printing their answers as <c>--json</c> asks.
    /// The caller disposes it.
    /// </summary>
    public ServerCall Call(ParseResult parse, CancellationToken ct) => new(Connect(parse), Output, WantsJson(parse), ct);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
