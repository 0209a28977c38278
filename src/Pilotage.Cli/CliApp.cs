using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;
using Pilotage.Cli.Audit;
using Pilotage.Cli.Client;
using Pilotage.Cli.Evidence;
using Pilotage.Cli.Incidents;
using Pilotage.Cli.Keys;
using Pilotage.Cli.People;
using Pilotage.Cli.Pilots;
using Pilotage.Cli.Reviews;
using Pilotage.Cli.Serve;
using Pilotage.Cli.Systems;

namespace Pilotage.Cli;

/// <summary>
/// The <c>pilotage</c> command line. Everything goes through <see cref="RunAsync"/> with explicit
/// writers and environment, so tests run it in-process exactly as the executable does.
/// </summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        IReadOnlyDictionary<string, string?> environment,
        bool interactive = false,
        CancellationToken cancellationToken = default)
    {
        var console = new CliConsole(stdout, stderr, environment, interactive);
        var root = BuildRoot(new CliContext(console));
        // A bare 'pilotage' is someone finding their way: show the help rather than an error.
        var parse = root.Parse(args.Length == 0 ? ["--help"] : args);
        if (parse.Action is ParseErrorAction)
        {
            // One line, like every other failure; --help has the rest.
            var message = parse.UnmatchedTokens.Count > 0
                ? $"unknown command or argument '{parse.UnmatchedTokens[0]}'"
                : parse.Errors[0].Message.TrimEnd('.');
            await Fail(stderr, $"{message} (see '{CommandPath(parse.CommandResult.Command)} --help')");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // Program owns Ctrl-C/SIGTERM; tests must not install process-wide handlers.
                ProcessTerminationTimeout = null,
            }, cancellationToken);
        }
        catch (CliException e)
        {
            await Fail(stderr, e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Fail(stderr, "cancelled");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or HttpRequestException or InvalidOperationException)
        {
            // Still one line: a stack trace helps nobody running a command; the type says where to look.
            await Fail(stderr, $"{e.Message} ({e.GetType().Name})");
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The last line of defence: whatever a verb did not expect, the person gets one line, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            await Fail(stderr, $"pilotage failed unexpectedly: {e.Message} ({e.GetType().Name}); run it again, and report it if it persists");
            return ExitCodes.Failure;
        }
    }

    internal static RootCommand BuildRoot(CliContext cli)
    {
        var root = new RootCommand(
            "Pilotage: the control plane for deploying AI systems step by step (proposed, pilot, rollout) with evidence, " +
            "approvals and an audit trail. Run 'pilotage demo' to see it work in a minute, 'pilotage serve' for the server; the other verbs talk to it.\n" +
            "Exit codes: 0 ok, 1 failed, 2 bad command line, 3 'diff --exit-code' found changes.")
        {
            cli.Json,
            ServeCommand.Create(cli),
            Demo.DemoCommand.Create(cli),
            SpecCommands.Apply(cli),
            SpecCommands.Diff(cli),
            StatusCommand.Create(cli),
            LifecycleCommands.Decide(cli),
            LifecycleCommands.Decisions(cli),
            LifecycleCommands.Pause(cli),
            LifecycleCommands.Resume(cli),
            RollbackCommand.Rollback(cli),
            RollbackCommand.Versions(cli),
            EvalCommand.Create(cli),
            MetricsCommand.Create(cli),
            ReportCommand.Create(cli),
            ReadinessCommand.Create(cli),
            ImportCommand.Create(cli),
            ReviewsCommand.Queue(cli),
            ReviewsCommand.Review(cli),
            ApprovalsCommand.Create(cli),
            IncidentCommand.Create(cli),
            Training.TrainingCommand.Create(cli),
            UsersCommand.Create(cli),
            GroupsCommand.Create(cli),
            KeysCommand.Create(cli),
            AuditCommand.Create(cli),
            Changes.ChangeCommands.List(cli),
            Changes.ChangeCommands.Change(cli),
            Changes.HandoverCommand.Create(cli),
            Changes.RetentionCommands.Purge(cli),
            Changes.RetentionCommands.Hold(cli),
        };
        cli.AddConnectionOptions();
        // The default prints the entry assembly's version, which in-process (tests) is the test host's.
        root.Options.OfType<VersionOption>().Single().Action = new VersionAction(cli.Console.Out);
        return root;
    }

    public static string Version =>
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(CliApp).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c; s = c.Parents.FirstOrDefault())
        {
            names.Insert(0, c is RootCommand ? "pilotage" : c.Name);
        }
        return string.Join(' ', names);
    }

    /// <summary>Exactly one line: a message with line breaks would read as several errors.</summary>
    private static Task Fail(TextWriter stderr, string message) =>
        stderr.WriteLineAsync("error: " + message.ReplaceLineEndings(" ").Trim());

    private sealed class VersionAction(TextWriter output) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            output.WriteLine($"pilotage {Version}");
            return ExitCodes.Ok;
        }
    }
}
