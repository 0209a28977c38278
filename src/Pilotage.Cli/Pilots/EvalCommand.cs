using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Pilots;

/// <summary>
/// <c>pilotage eval SYSTEM --set FILE</c>: runs a test set through the gateway, as the person running
/// it, and records a verdict per case in an evaluation run (docs/testsets.md).
/// </summary>
internal static class EvalCommand
{
    public static Command Create(CliContext cli)
    {
        var system = Args.System("The system to evaluate (its current config version)");
        var set = new Option<string>("--set")
        {
            Description = "The test set file (YAML or JSON Lines, see docs/testsets.md)",
            HelpName = "FILE",
            Required = true,
        };
        var concurrency = Args.Positive("--concurrency", 4, "How many cases are sent at once", 1, 64);
        var retries = Args.Positive("--retries", 3, "How often a case is retried after 429, 5xx or a timeout (with exponential backoff)", 0, 10);
        var timeout = Args.Positive("--timeout", 60, "Seconds to wait for one answer", 1, 3600);
        var change = new Option<long?>("--change")
        {
            Description = "Evaluate the candidate configuration of this change request instead of the one in force (the regression gate, docs/change-control.md)",
            HelpName = "ID",
        };
        var command = cli.ClientCommand("eval", "Evaluate a system with a test set: each case goes through the gateway like real traffic (its owner or an admin needs no pilot group or training; it is recorded as evaluation, not use), each answer is checked against its expectation, and the verdicts are recorded in an evaluation run. Cases that could not be answered are errors, counted apart from the pass rates. Failing cases are results: the exit code is 0 unless the run could not be done or every case errored.");
        command.Arguments.Add(system);
        command.Options.Add(set);
        command.Options.Add(concurrency);
        command.Options.Add(retries);
        command.Options.Add(timeout);
        command.Options.Add(change);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var path = parse.GetValue(set)!;
            var json = cli.WantsJson(parse);
            var read = TestSetReader.ReadFile(path);
            if (!read.Ok)
            {
                ReportErrors(cli, json, read.Errors, Path.GetFileName(path));
                return ExitCodes.Failure;
            }
            var testSet = read.Set!;
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read {path}: {e.Message}");
            }
            if (testSet.System is { } written && !string.Equals(written, slug, StringComparison.Ordinal))
            {
                await cli.Console.Error.WriteLineAsync($"warning: the test set '{testSet.Name}' is written for '{written}', not '{slug}'");
            }
            var coverage = TestSetCoverage.Of(testSet);
            if (coverage.IsFlagged || coverage.Weak)
            {
                await cli.Console.Error.WriteLineAsync($"warning: {coverage.Message}");
            }
            var options = new EvalOptions(parse.GetValue(concurrency), parse.GetValue(retries), TimeSpan.FromSeconds(parse.GetValue(timeout)));
            using var call = cli.Call(parse, ct);
            var runner = new EvalRunner(cli, call.Client, slug, testSet, Convert.ToHexStringLower(SHA256.HashData(bytes)), options, json, parse.GetValue(change));
            return await runner.RunAsync(ct);
        });
        return command;
    }

    /// <summary>Every located problem of the set on stdout, then the one-line summary on stderr, like <c>apply</c>.</summary>
    private static void ReportErrors(CliContext cli, bool json, IReadOnlyList<SpecError> errors, string file)
    {
        if (json)
        {
            cli.Output.Json(w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("errors");
                JsonSerializer.Serialize(w, errors.Select(SpecErrorView.From).ToList(), SystemsApiJsonContext.Default.ListSpecErrorView);
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var error in errors) cli.Output.Line(error.ToString());
        }
        cli.Console.Error.WriteLine($"error: {Args.Count(errors.Count, "problem")} in the test set {file}; nothing was run");
    }

    internal static string Percent(int passed, int judged) =>
        judged == 0 ? "-" : ((double)passed / judged * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";
}

internal sealed record EvalOptions(int Concurrency, int Retries, TimeSpan Timeout);
