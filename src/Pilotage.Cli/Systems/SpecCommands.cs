using System.CommandLine;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Core.Specs;
using Pilotage.Server.Changes;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Systems;

/// <summary><c>pilotage apply</c> and <c>pilotage diff</c>: send spec files to the server, all or nothing.</summary>
internal static class SpecCommands
{
    public static Command Apply(CliContext cli)
    {
        var files = FileOption();
        var allowPast = AllowPastOption();
        var command = cli.ClientCommand("apply", "Create or update AI systems from spec files (YAML, apiVersion pilotage/v1). Files are checked locally first; applying the same files twice changes nothing.");
        command.Options.Add(files);
        command.Options.Add(allowPast);
        command.SetAction(async (parse, ct) =>
        {
            var response = await SendAsync(cli, parse, parse.GetValue(files)!, "apply", parse.GetValue(allowPast), ct);
            if (response is null) return ExitCodes.Failure;
            var (raw, result) = response.Value;
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(raw);
                return ExitCodes.Ok;
            }
            foreach (var system in result.Results)
            {
                if (system.ChangeRequest is { } requested)
                {
                    Changes.ChangeCommands.PrintRequested(cli.Output, system.Slug, requested, system.Changes);
                    PrintNotes(cli, system);
                    continue;
                }
                cli.Output.Line(system.Action switch
                {
                    "created" => $"{system.Slug} created (config v{system.ConfigVersion})",
                    "updated" => $"{system.Slug} updated (config v{system.ConfigVersion}): {Count(system.Changes.Count, "change")}",
                    "unchanged" => $"{system.Slug} unchanged",
                    var other => $"{system.Slug} {other} (config v{system.ConfigVersion})",
                });
                PrintNotes(cli, system);
            }
            if (!result.Changed) cli.Output.Line("no changes");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Diff(CliContext cli)
    {
        var files = FileOption();
        var exitCode = new Option<bool>("--exit-code")
        {
            Description = "Exit with status 3 when applying would change something (like 'git diff --exit-code')",
        };
        var command = cli.ClientCommand("diff", "Show what 'pilotage apply' would change, without changing anything: per system the action (create, update, none) and each changed field.");
        var allowPast = AllowPastOption();
        command.Options.Add(files);
        command.Options.Add(exitCode);
        command.Options.Add(allowPast);
        command.SetAction(async (parse, ct) =>
        {
            var response = await SendAsync(cli, parse, parse.GetValue(files)!, "diff", parse.GetValue(allowPast), ct);
            if (response is null) return ExitCodes.Failure;
            var (raw, result) = response.Value;
            if (cli.WantsJson(parse))
            {
                cli.Output.Json(raw);
            }
            else
            {
                foreach (var system in result.Results)
                {
                    cli.Output.Line(system.Action == "none"
                        ? $"{system.Slug}: none"
                        : $"{system.Slug}: {system.Action} (config v{system.ConfigVersion})");
                    foreach (var change in system.Changes.SelectMany(Expand)) cli.Output.Line("  " + Describe(change));
                    PrintNotes(cli, system);
                }
                if (!result.Changed) cli.Output.Line("no changes");
            }
            return result.Changed && parse.GetValue(exitCode) ? ExitCodes.Changes : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// A new system arrives as one change with an empty path holding the whole canonical JSON; it is
    /// shown field by field, with the YAML paths <see cref="SpecDiff"/> uses for updates.
    /// </summary>
    internal static IEnumerable<SpecChangeView> Expand(SpecChangeView change)
    {
        if (change.Path.Length > 0 || change.Before is not null || change.After is null)
        {
            return [change];
        }
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(change.After);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return [change];
        }
        if (root.ValueKind != JsonValueKind.Object) return [change];
        return root.EnumerateObject()
            .Where(p => p.Value.ValueKind != JsonValueKind.Null)
            .Select(p => new SpecChangeView(
                p.Name is "name" or "title" ? "metadata." + p.Name : "spec." + p.Name,
                null,
                p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText()))
            .ToList();
    }

    /// <summary><c>~ path: before → after</c>, <c>+ path: value</c> or <c>- path: value</c>.</summary>
    internal static string Describe(SpecChangeView change) => (change.Before, change.After) switch
    {
        (null, var after) => $"+ {change.Path}: {OneLine(after)}",
        (var before, null) => $"- {change.Path}: {OneLine(before)}",
        var (before, after) => $"~ {change.Path}: {OneLine(before)} → {OneLine(after)}",
    };

    private static Option<bool> AllowPastOption() => new("--allow-past")
    {
        Description = "Accept a pilot whose end date has already passed: the record of a past pilot being imported (the audit trail says so); without it such a spec is refused",
    };

    private static Option<string[]> FileOption() => new("--file", "-f")
    {
        Description = "A spec file, or a folder whose *.yaml/*.yml files are all read; repeat -f for more",
        HelpName = "PATH",
        Required = true,
        Arity = ArgumentArity.OneOrMore,
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>
    /// Checks the files locally, then posts them. Returns null after printing the located errors when
    /// the spec is invalid (locally or per the server); other failures throw.
    /// </summary>
    private static async Task<(JsonElement Raw, ApplyResponse Result)?> SendAsync(CliContext cli, ParseResult parse, string[] paths, string verb, bool allowPast, CancellationToken ct)
    {
        var json = cli.WantsJson(parse);
        var local = SpecFiles.Load(paths);
        if (local.Errors.Count > 0)
        {
            ReportSpecErrors(cli, json, local.Errors.Select(SpecErrorView.From).ToList(), verb);
            return null;
        }
        using var call = cli.Call(parse, ct);
        try
        {
            var raw = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{verb}" + (allowPast ? "?allowPast=true" : ""), new ApplyRequest(local.Documents), SystemsApiJsonContext.Default.ApplyRequest);
            return (raw, call.Read(raw, SystemsApiJsonContext.Default.ApplyResponse));
        }
        catch (ApiProblemException problem) when (problem.SpecErrors.Count > 0)
        {
            ReportSpecErrors(cli, json, problem.SpecErrors, verb);
            return null;
        }
    }

    /// <summary>Every located error on stdout, one per line, then the one-line summary on stderr.</summary>
    private static void ReportSpecErrors(CliContext cli, bool json, IReadOnlyList<SpecErrorView> errors, string verb)
    {
        if (json)
        {
            cli.Output.Json(w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("errors");
                JsonSerializer.Serialize(w, errors.ToList(), SystemsApiJsonContext.Default.ListSpecErrorView);
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var e in errors) cli.Output.Line(new SpecError(e.Source, e.Path, e.Message, e.Line, e.Column).ToString());
        }
        var consequence = verb == "apply" ? "nothing was applied" : "nothing was compared";
        cli.Console.Error.WriteLine($"error: {Count(errors.Count, "problem")} in the spec; {consequence}");
    }

    /// <summary>What the owner should know about how the system will run, one indented line each.</summary>
    private static void PrintNotes(CliContext cli, ApplyResult system)
    {
        foreach (var note in system.Notes ?? []) cli.Output.Line($"  note: {note}");
    }

    internal static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>Keeps one change per line even for multi-line values such as a system prompt.</summary>
    private static string OneLine(string? value) =>
        value is null ? "" : value.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
