using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Core.Import;
using Pilotage.Server.Import;

namespace Pilotage.Cli.Evidence;

/// <summary>
/// <c>pilotage import SYSTEM FILE.csv</c>: evidence gathered outside the gateway (docs/import.md). The
/// file is checked here first, like <c>apply</c> checks specs: a file none of whose rows could be imported
/// (or, with <c>--atomic</c>, any refused row) is reported without sending it. Otherwise the good rows are
/// imported and each refused row is printed; importing the file again records only what is missing.
/// </summary>
internal static class ImportCommand
{
    public static Command Create(CliContext cli)
    {
        var system = Args.System("The system the evidence belongs to");
        var file = new Argument<string>("FILE")
        {
            Description = "A CSV file with the columns prompt, answer, timestamp and optionally outcome, final_text, review_seconds, rating, category, user",
        };
        var atomic = new Option<bool>("--atomic")
        {
            Description = "All or nothing: import nothing if any row is refused (by default the good rows are imported and each refused row is listed)",
        };
        var command = cli.ClientCommand("import", "Import evidence recorded outside the gateway (manual reviews, an earlier tool) from a CSV file. Every row is checked; the good rows are imported and each refused row is listed with its line, column and reason (exit code 1). Importing the file again, refused rows fixed, records only the rows not recorded yet.");
        command.Arguments.Add(system);
        command.Arguments.Add(file);
        command.Options.Add(atomic);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var path = parse.GetValue(file)!;
            var json = cli.WantsJson(parse);
            if (!File.Exists(path)) throw new CliException($"file not found: {path}");
            var length = new FileInfo(path).Length;
            if (length > EvidenceCsv.MaxFileBytes) throw new CliException(EvidenceCsv.TooLarge(length) + "; nothing was imported");
            var bytes = await File.ReadAllBytesAsync(path, ct);
            var all = parse.GetValue(atomic);
            var local = EvidenceCsv.ReadRows(bytes);
            if (local.Unreadable || local.Records.Count == 0 || (all && !local.IsValid))
            {
                Report(cli, json, local.Errors, Path.GetFileName(path));
                return ExitCodes.Failure;
            }
            using var call = cli.Call(parse, ct);
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("text/csv") { CharSet = "utf-8" };
            JsonElement answer;
            try
            {
                answer = await call.SendAsync(HttpMethod.Post, $"api/v1/systems/{Args.Escape(slug)}/import{(all ? "?atomic=true" : "")}", content);
            }
            catch (ApiProblemException problem) when (Errors(problem.Body) is { Count: > 0 } errors)
            {
                Report(cli, json, errors, Path.GetFileName(path));
                return ExitCodes.Failure;
            }
            var result = answer.Deserialize(ImportApiJsonContext.Default.ImportResponse)!;
            if (!json)
            {
                foreach (var error in result.Errors) cli.Output.Line($"{Path.GetFileName(path)}: {error}");
            }
            var shown = call.ShowLine(answer, ImportApiJsonContext.Default.ImportResponse,
                r => $"{r.System}: imported {Args.Number(r.Imported)}, already present {Args.Number(r.AlreadyPresent)}{(r.Rejected > 0 ? $", refused {Args.Number(r.Rejected)}" : "")}");
            if (result.Rejected == 0) return shown;
            cli.Console.Error.WriteLine($"error: {Args.Count(result.Rejected, "row")} of {Path.GetFileName(path)} refused (listed above); the other rows were imported. Fix the refused rows and import the file again: rows already recorded are not recorded twice");
            return ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>The located errors of a refused import (422), if the problem lists them.</summary>
    private static List<ImportError>? Errors(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("errors", out var list) || list.ValueKind != JsonValueKind.Array) return null;
        try
        {
            return list.Deserialize(ImportApiJsonContext.Default.ListImportError);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Every error on stdout, one per line with its row and column, then the one-line summary on stderr.</summary>
    private static void Report(CliContext cli, bool json, IReadOnlyList<ImportError> errors, string file)
    {
        if (json)
        {
            cli.Output.Json(w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("errors");
                JsonSerializer.Serialize(w, errors.ToList(), ImportApiJsonContext.Default.ListImportError);
                w.WriteEndObject();
            });
        }
        else
        {
            foreach (var error in errors) cli.Output.Line($"{file}: {error}");
        }
        cli.Console.Error.WriteLine($"error: {Args.Count(errors.Count, "problem")} in {file}; nothing was imported");
    }
}
