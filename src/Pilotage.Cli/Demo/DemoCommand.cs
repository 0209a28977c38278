using System.CommandLine;
using Pilotage.Cli.Client;

namespace Pilotage.Cli.Demo;

/// <summary>What <c>pilotage demo</c> was asked to do.</summary>
/// <param name="Folder">Where the SQLite database and the report go.</param>
/// <param name="Fast">No simulated latency (tests, CI).</param>
/// <param name="Upstream">A real OpenAI-compatible base URL instead of the simulated model.</param>
internal sealed record DemoOptions(bool Serve, bool Fast, Uri? Upstream, string Model, string Folder, int Port, int Tickets);

/// <summary>
/// <c>pilotage demo</c>: the whole point of Pilotage in a minute, on the embedded default (SQLite in a
/// temporary folder) with a clearly labelled simulated model. See <see cref="DemoRun"/> for the story.
/// </summary>
internal static class DemoCommand
{
    public const string DefaultModel = "gpt-4o-mini";

    public static Command Create(CliContext cli)
    {
        var noServe = new Option<bool>("--no-serve") { Description = "Exit after writing the report instead of serving until Ctrl-C" };
        var fast = new Option<bool>("--fast") { Description = "No simulated latency: the pilot runs in a few seconds (for tests and CI)" };
        var upstream = new Option<string?>("--upstream")
        {
            Description = "Run the same pilot against a real OpenAI-compatible model at this base URL (e.g. http://127.0.0.1:11434/v1); its key is read from $OPENAI_API_KEY",
            HelpName = "URL",
        };
        var model = new Option<string?>("--model") { Description = $"The model name at --upstream [default: {DefaultModel}]", HelpName = "NAME" };
        var dir = new Option<string?>("--dir") { Description = "Folder for the database and the report [default: a new temporary folder]", HelpName = "DIR" };
        var port = new Option<int>("--port") { Description = "Port for the Pilotage server on 127.0.0.1 [default: a free one]", HelpName = "N" };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535) r.AddError("--port must be between 1 and 65535 (or 0 for a free one)");
        });
        var tickets = Args.Positive("--tickets", 60, "How many ordinary tickets the pilot users draft replies to before the bad streak", 10, 1000);
        var command = new Command("demo",
            "See Pilotage work in a minute: starts a server on SQLite in a temporary folder with a simulated model, runs a pilot " +
            "(simulated users and reviewers, through the real gateway), fires a pause rule on a bad streak, writes the evidence " +
            "report, then keeps serving so you can look around (Ctrl-C stops).")
        {
            noServe,
            fast,
            upstream,
            model,
            dir,
            port,
            tickets,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (cli.WantsJson(parse))
            {
                throw new CliException("the demo tells a story for people and has no --json output; after it, 'pilotage report support-reply-drafts --format json' gives the figures", ExitCodes.Usage);
            }
            Uri? upstreamUri = null;
            if (Args.Blank(parse.GetValue(upstream)) is { } text)
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out upstreamUri) || (upstreamUri.Scheme != Uri.UriSchemeHttp && upstreamUri.Scheme != Uri.UriSchemeHttps))
                {
                    throw new CliException($"--upstream '{text}' is not an http(s) base URL; give one like http://127.0.0.1:11434/v1", ExitCodes.Usage);
                }
            }
            var modelName = Args.Blank(parse.GetValue(model));
            if (modelName is not null && upstreamUri is null)
            {
                throw new CliException("--model names the model at --upstream; give --upstream URL as well (without it the demo uses its simulated model)", ExitCodes.Usage);
            }
            var folder = Args.Blank(parse.GetValue(dir)) is { } given
                ? Path.GetFullPath(given)
                : Path.Combine(Path.GetTempPath(), "pilotage-demo-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6]);
            if (File.Exists(Path.Combine(folder, "pilotage.db")))
            {
                throw new CliException($"{folder} already holds a demo database; give --dir an empty or new folder", ExitCodes.Usage);
            }
            Directory.CreateDirectory(folder);
            var options = new DemoOptions(!parse.GetValue(noServe), parse.GetValue(fast), upstreamUri, modelName ?? DefaultModel, folder, parse.GetValue(port), parse.GetValue(tickets));
            return await new DemoRun(cli, options, TimeProvider.System).RunAsync(ct);
        });
        return command;
    }
}
