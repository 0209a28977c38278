using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Systems;

/// <summary>
/// <c>pilotage decide|decisions|pause|resume</c>: lifecycle moves. Every move is a decision by an
/// accountable person with a reason; pause and resume are their own verbs for speed in an emergency.
/// </summary>
internal static class LifecycleCommands
{
    /// <summary>The outcomes the server accepts, in lifecycle order.</summary>
    internal static readonly string[] Outcomes = [.. DecisionOutcomes.All.Select(o => o.Name())];

    /// <summary>
    /// Whether the decision endpoint reads <c>override</c>: the CLI is built with the server, so the
    /// request record it deserialises says so; without it the flag would be silently ignored.
    /// </summary>
    internal static bool ServerTakesOverride { get; } =
        typeof(DecisionRequest).GetProperty("Override", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance) is not null;

    /// <summary>Phases in which a system serves someone, so a pause changes something.</summary>
    internal static readonly string[] ServingPhases = ["pilot", "rollout", "production", "restricted"];

    public static Command Decide(CliContext cli)
    {
        var system = SystemArgument();
        var outcome = new Argument<string>("OUTCOME")
        {
            HelpName = "OUTCOME",
            Description = "pilot (start the pilot), proceed|narrow|redesign|repilot|stop (end it), expand (next rollout stage), restrict, retire, or extend (move the pilot's end date; needs --until)",
        };
        OneOf(outcome, Outcomes, "outcome");
        var reason = ReasonOption("Why (required): it is kept with the decision and in the audit trail");
        var until = new Option<string?>("--until")
        {
            Description = "With 'extend': the pilot's new end date (YYYY-MM-DD)",
            HelpName = "DATE",
        };
        var overrideOption = new Option<bool>("--override")
        {
            Description = "Decide against what the evidence says (failing criteria, blocking readiness answers); the reason must say why, and the override is recorded with the decision",
        };
        var command = cli.ClientCommand("decide", "Record a lifecycle decision on a system (start its pilot, decide its outcome, expand, restrict, retire…). The server checks that the move is allowed and records who decided and why.");
        command.Arguments.Add(system);
        command.Arguments.Add(outcome);
        command.Options.Add(reason);
        command.Options.Add(until);
        command.Options.Add(overrideOption);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var what = parse.GetValue(outcome)!;
            var why = RequireReason(parse.GetValue(reason), $"a decision on '{slug}'", $"pilotage decide {slug} {what} --reason \"…\"");
            var newEnd = ParseUntil(parse.GetValue(until), what, slug);
            var overriding = parse.GetValue(overrideOption);
            if (overriding && !ServerTakesOverride)
            {
                throw new CliException("this version of the server does not take --override on decisions", ExitCodes.Usage);
            }
            using var call = cli.Call(parse, ct);
            // Written by hand: 'override' is sent only when asked for, so a plain decision carries no such field.
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/decisions", w =>
            {
                w.WriteStartObject();
                w.WriteString("outcome", what);
                w.WriteString("reason", why);
                if (newEnd is { } end) w.WriteString("newEndDate", end.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                if (overriding) w.WriteBoolean("override", true);
                w.WriteEndObject();
            });
            return call.ShowLine(answer, SystemsApiJsonContext.Default.DecisionView, decision => DecisionOutcomes.Parse(decision.Outcome) == DecisionOutcome.Extend
                ? $"{decision.System}: pilot extended to {Date(decision.NewEndDate)} (decision {Id(decision.Id)} by {decision.DecidedBy})"
                : $"{decision.System}: {From(decision)} → {To(decision)} (decision {Id(decision.Id)} by {decision.DecidedBy})");
        });
        return command;
    }

    public static Command Decisions(CliContext cli)
    {
        var system = SystemArgument();
        var command = cli.ClientCommand("decisions", "List the decisions recorded for a system, oldest first: when, who, the outcome, the move it made and why.");
        command.Arguments.Add(system);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            using var call = cli.Call(parse, ct);
            return call.Table(await call.GetAsync($"api/v1/systems/{Args.Escape(slug)}/decisions"), SystemsApiJsonContext.Default.IReadOnlyListDecisionView,
                ["ID", "WHEN", "WHO", "OUTCOME", "FROM → TO", "REASON"],
                d =>
                [
                    Id(d.Id), Output.Time(d.DecidedAt), d.DecidedBy,
                    DecisionOutcomes.Parse(d.Outcome) == DecisionOutcome.Extend ? $"extend to {Date(d.NewEndDate)}" : d.Outcome,
                    $"{From(d)} → {To(d)}", OneLine(d.Reason),
                ],
                $"no decisions recorded for {slug} yet; 'pilotage decide {slug} pilot --reason \"…\"' starts its pilot");
        });
        return command;
    }

    public static Command Pause(CliContext cli)
    {
        var system = SystemArgument();
        system.Arity = ArgumentArity.ZeroOrOne;
        system.Description = "The system to pause (or use --all)";
        var all = new Option<bool>("--all")
        {
            Description = "Emergency stop: pause every system that is serving (pilot, rollout, production or restricted), carrying on past any that fail",
        };
        var reason = ReasonOption("Why: shown to the people whose requests are refused, and kept in the audit trail (required with --all)");
        var command = cli.ClientCommand("pause", "Pause a system at once: the gateway refuses its next request and points people to the manual process. 'pause --all' pauses every serving system. Resume with 'pilotage resume'.");
        command.Arguments.Add(system);
        command.Options.Add(all);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system);
            if (slug is not null && slug.StartsWith('-'))
            {
                throw new CliException($"unknown option '{slug}' (see 'pilotage pause --help')", ExitCodes.Usage);
            }
            var why = Blank(parse.GetValue(reason));
            if (parse.GetValue(all))
            {
                if (slug is not null) throw new CliException("give either a system or --all, not both (see 'pilotage pause --help')", ExitCodes.Usage);
                if (why is null)
                {
                    throw new CliException("pausing every system needs a reason: pilotage pause --all --reason \"…\" (it is shown to everyone refused and kept in the audit trail)", ExitCodes.Usage);
                }
                return await PauseAllAsync(cli, parse, why, ct);
            }
            if (slug is null) throw new CliException("name the system to pause, or use --all to pause every serving system (see 'pilotage pause --help')", ExitCodes.Usage);
            using var call = cli.Call(parse, ct);
            return call.ShowLine(await PauseOneAsync(call, slug, why), SystemsApiJsonContext.Default.LifecycleView, view => Paused(view, previous: null));
        });
        return command;
    }

    public static Command Resume(CliContext cli)
    {
        var system = SystemArgument();
        var reason = ReasonOption("Why it is safe to resume (required): kept in the audit trail");
        var command = cli.ClientCommand("resume", "Resume a paused (or restricted) system where it was. A reason is required: say why it is safe again.");
        command.Arguments.Add(system);
        command.Options.Add(reason);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var why = RequireReason(parse.GetValue(reason), $"resuming '{slug}'", $"pilotage resume {slug} --reason \"…\"");
            using var call = cli.Call(parse, ct);
            var answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/resume", new ReasonRequest(why), SystemsApiJsonContext.Default.ReasonRequest);
            return call.ShowLine(answer, SystemsApiJsonContext.Default.LifecycleView, view => $"{view.System}: resumed, now {Phase(view.Phase, view.Stage)}");
        });
        return command;
    }

    /// <summary>
    /// The kill switch: one line per serving system, never stopping at the first failure (a refusal
    /// on one system must not leave the others running). Exits 1 if any could not be paused.
    /// </summary>
    private static async Task<int> PauseAllAsync(CliContext cli, ParseResult parse, string reason, CancellationToken ct)
    {
        using var call = cli.Call(parse, ct);
        var systems = call.Read(await call.GetAsync("api/v1/systems"), SystemsApiJsonContext.Default.IReadOnlyListSystemSummary);
        var serving = systems.Where(s => ServingPhases.Contains(s.Phase, StringComparer.OrdinalIgnoreCase)).ToList();
        var json = call.Json;
        var paused = new List<JsonElement>();
        var failed = new List<(string System, string Error)>();
        foreach (var system in serving)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                var raw = await PauseOneAsync(call, system.Slug, reason);
                paused.Add(raw);
                if (!json)
                {
                    var view = raw.Deserialize(SystemsApiJsonContext.Default.LifecycleView);
                    cli.Output.Line(view is null ? $"{system.Slug}: paused" : Paused(view, Phase(system.Phase, system.Stage)));
                }
            }
            catch (CliException e)
            {
                failed.Add((system.Slug, e.Message));
                if (!json) cli.Output.Line($"{system.Slug}: NOT paused: {OneLine(e.Message)}");
            }
        }
        if (json)
        {
            cli.Output.Json(w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("paused");
                foreach (var view in paused) view.WriteTo(w);
                w.WriteEndArray();
                w.WriteStartArray("failed");
                foreach (var (system, error) in failed)
                {
                    w.WriteStartObject();
                    w.WriteString("system", system);
                    w.WriteString("error", error);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteNumber("skipped", systems.Count - serving.Count);
                w.WriteEndObject();
            });
        }
        else if (serving.Count == 0)
        {
            cli.Output.Line(systems.Count == 0 ? "no AI systems yet; nothing to pause" : $"no system is serving ({systems.Count} not serving); nothing to pause");
        }
        if (failed.Count == 0) return ExitCodes.Ok;
        await cli.Console.Error.WriteLineAsync(
            $"error: {failed.Count} of {serving.Count} serving systems could not be paused ({string.Join(", ", failed.Select(f => f.System))}); they are still serving");
        return ExitCodes.Failure;
    }

    private static Task<JsonElement> PauseOneAsync(ServerCall call, string slug, string? reason) =>
        call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/pause", new ReasonRequest(reason), SystemsApiJsonContext.Default.ReasonRequest);

    private static string Paused(LifecycleView view, string? previous)
    {
        var line = $"{view.System}: paused";
        if (previous is not null) line += $" (was {previous})";
        if (view.PausedBy is not null) line += $" by {view.PausedBy}";
        if (view.PausedAt is not null) line += $" at {Output.Time(view.PausedAt)}";
        return line;
    }

    /// <summary>
    /// Like AcceptOnlyFromAmong, but its error is one clean line (the built-in one is tab-separated) and the help keeps the argument's name.
    /// </summary>
    internal static void OneOf(Argument<string> argument, string[] values, string what)
    {
        argument.CompletionSources.Add(values);
        argument.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && !values.Contains(value, StringComparer.Ordinal))
            {
                result.AddError($"unknown {what} '{value}'; use one of {string.Join(", ", values)}");
            }
        });
    }

    /// <inheritdoc cref="OneOf(Argument{string}, string[], string)"/>
    internal static void OneOf(Option<string?> option, string[] values, string what)
    {
        option.CompletionSources.Add(values);
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !values.Contains(value, StringComparer.Ordinal))
            {
                result.AddError($"unknown {what} '{value}'; use one of {string.Join(", ", values)}");
            }
        });
    }

    private static Argument<string> SystemArgument() => new("SYSTEM")
    {
        Description = "A system's name (metadata.name in its spec)",
    };

    private static Option<string?> ReasonOption(string description) => new("--reason")
    {
        Description = description,
        HelpName = "TEXT",
    };

    /// <summary>Checked here so the mistake is a usage error before anything is sent.</summary>
    private static string RequireReason(string? reason, string what, string example) =>
        Blank(reason) ?? throw new CliException($"{what} needs a reason: {example} (it is kept in the audit trail)", ExitCodes.Usage);

    private static DateOnly? ParseUntil(string? text, string outcome, string slug)
    {
        if (DecisionOutcomes.Parse(outcome) != DecisionOutcome.Extend)
        {
            return Blank(text) is null
                ? null
                : throw new CliException($"--until only goes with 'extend' (the pilot's new end date), not with '{outcome}'", ExitCodes.Usage);
        }
        var value = Blank(text) ?? throw new CliException($"extending the pilot of '{slug}' needs its new end date: --until YYYY-MM-DD", ExitCodes.Usage);
        return DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw new CliException($"--until '{value}' is not a date; use YYYY-MM-DD, e.g. 2027-03-31", ExitCodes.Usage);
    }

    private static string From(DecisionView d) => Phase(d.FromPhase, d.FromStage);

    private static string To(DecisionView d) => Phase(d.ToPhase, d.ToStage);

    /// <summary>Rollout stages are shown 1-based, as 'pilotage status' does.</summary>
    private static string Phase(string phase, int stage) =>
        string.Equals(phase, "rollout", StringComparison.OrdinalIgnoreCase)
            ? $"{phase} (stage {(stage + 1).ToString(CultureInfo.InvariantCulture)})"
            : phase;

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
