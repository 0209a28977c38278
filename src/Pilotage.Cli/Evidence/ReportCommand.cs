using System.CommandLine;
using Pilotage.Cli.Client;

namespace Pilotage.Cli.Evidence;

/// <summary>
/// <c>pilotage report SYSTEM</c>: the evidence report as the server renders it, saved to a file
/// (<c>SYSTEM-report.html</c> by default) or, for Markdown without <c>-o</c>, printed.
/// </summary>
internal static class ReportCommand
{
    internal static readonly string[] Formats = ["html", "md", "json"];

    public static Command Create(CliContext cli)
    {
        var system = Args.System();
        var format = new Option<string?>("--format")
        {
            Description = "html (default), md (Markdown; printed when -o is not given) or json",
            HelpName = "FORMAT",
        };
        Systems.LifecycleCommands.OneOf(format, Formats, "format");
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Where to write the report ('-' for stdout) [default: SYSTEM-report.EXT in the current folder]",
            HelpName = "FILE",
        };
        var command = cli.ClientCommand("report", "Fetch a system's evidence report (figures, criteria, decisions, incidents) and write it to a file; prints the file's path.");
        command.Arguments.Add(system);
        command.Options.Add(format);
        command.Options.Add(output);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            var ext = parse.GetValue(format) ?? "html";
            var json = cli.WantsJson(parse);
            var target = Args.Blank(parse.GetValue(output));
            var toStdout = target == "-" || (target is null && ext == "md" && !json);
            using var call = cli.Call(parse, ct);
            using var response = await call.OpenStreamAsync($"api/v1/systems/{Args.Escape(slug)}/report?format={ext}");
            if (toStdout)
            {
                var text = await response.Content.ReadAsStringAsync(ct);
                await cli.Output.Out.WriteAsync(text);
                if (!text.EndsWith('\n')) await cli.Output.Out.WriteLineAsync();
                return ExitCodes.Ok;
            }
            var path = target ?? $"{slug}-report.{ext}";
            var full = Path.GetFullPath(path);
            var folder = Path.GetDirectoryName(full);
            if (folder is not null && !Directory.Exists(folder))
            {
                throw new CliException($"cannot write {path}: the folder {folder} does not exist");
            }
            // Written next to the target and moved into place, so an interrupted download never leaves half a report.
            var temporary = full + ".partial";
            long bytes;
            try
            {
                await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
                {
                    await response.Content.CopyToAsync(file, ct);
                    bytes = file.Length;
                }
                File.Move(temporary, full, overwrite: true);
            }
            finally
            {
                if (File.Exists(temporary)) File.Delete(temporary);
            }
            if (json)
            {
                cli.Output.Json(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("system", slug);
                    w.WriteString("format", ext);
                    w.WriteString("path", full);
                    w.WriteNumber("bytes", bytes);
                    w.WriteEndObject();
                });
            }
            else
            {
                cli.Output.Line(path);
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
