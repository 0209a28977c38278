using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Pilotage.Cli.Client;

/// <summary>
/// Human and machine output. Tables are Spectre tables on a terminal and plain aligned columns when
/// redirected, so pipes and greps never see box drawing or colour codes.
/// </summary>
internal sealed class Output(CliConsole console)
{
    public TextWriter Out => console.Out;

    public void Line(string text = "") => console.Out.WriteLine(text);

    /// <summary>Writes JSON indented, one document per call.</summary>
    public void Json(JsonElement element) => Json(element.WriteTo);

    /// <summary>Writes one JSON document built by <paramref name="write"/>, indented.</summary>
    public void Json(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping: the output is for scripts and people, not for embedding in HTML.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>A table with one header row; <paramref name="empty"/> is printed instead when there are no rows.</summary>
    public void Table(IReadOnlyList<string> headers, IReadOnlyList<IReadOnlyList<string>> rows, string empty)
    {
        if (rows.Count == 0)
        {
            Line(empty);
            return;
        }
        var widths = headers.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        if (console.Interactive)
        {
            var terminal = Terminal();
            // A boxed table squeezed into a narrow terminal wraps every cell; plain columns read better then.
            if (widths.Sum() + (3 * widths.Length) + 1 <= terminal.Profile.Width)
            {
                var table = new Table().Border(TableBorder.Rounded);
                foreach (var header in headers) table.AddColumn(new TableColumn(new Text(header, new Style(decoration: Decoration.Bold))).NoWrap());
                foreach (var row in rows) table.AddRow(row.Select(cell => (IRenderable)new Text(cell)).ToArray());
                terminal.Write(table);
                return;
            }
        }
        Line(Join(headers, widths));
        foreach (var row in rows) Line(Join(row, widths));
    }

    /// <summary>Label/value pairs, labels aligned: the detail view of one thing.</summary>
    public void Fields(IReadOnlyList<(string Label, string Value)> fields)
    {
        var width = fields.Max(f => f.Label.Length) + 1;
        foreach (var (label, value) in fields) Line((label + ":").PadRight(width + 1) + value);
    }

    public static string Time(DateTimeOffset? at) =>
        at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) : "-";

    private static string Join(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();

    private IAnsiConsole Terminal() => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(console.Out),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
    });
}
