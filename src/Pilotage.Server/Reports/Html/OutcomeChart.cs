using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using static Pilotage.Server.Reports.ReportFormat;

namespace Pilotage.Server.Reports.Html;

/// <summary>One stacked bar: reviewed outcomes plus what still waits, with a labelled legend. Drawn by the report and the dashboard.</summary>
public sealed class OutcomeChart : ComponentBase
{
    private static readonly (string Name, string Colour)[] Colours =
        [("accepted", "#1b7a3a"), ("edited", "#c98a00"), ("rejected", "#b3261e"), ("escalated", "#6a3d9a"), ("waiting", "#9aa3b0")];

    [Parameter, EditorRequired] public ReportOutcomeMix Mix { get; set; } = null!;

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        const int width = 720, barX = 10, barY = 34, barW = 700, barH = 36;
        long[] counts = [Mix.Accepted, Mix.Edited, Mix.Rejected, Mix.Escalated, Mix.Pending];
        var total = counts.Sum();
        var description = total == 0
            ? "No answers reviewed or waiting yet."
            : string.Join(", ", Colours.Select((c, i) => $"{c.Name} {Whole(counts[i])}")) + $" of {Whole(total)} answers";
        var svg = new SvgWriter(builder);
        svg.Open("svg", ("class", "chart"), ("id", "chart-outcomes"), ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", $"0 0 {width} 120"),
            ("width", width), ("height", 120), ("role", "img"), ("aria-labelledby", "outcomes-title outcomes-desc"));
        svg.Element("title", "Outcome mix of reviewed answers", ("id", "outcomes-title"));
        svg.Element("desc", description, ("id", "outcomes-desc"));
        svg.Element("text", $"Outcome mix (n={Whole(Mix.Reviewed)} reviewed, {Whole(Mix.Pending)} waiting)", ("x", barX), ("y", 20), ("font-weight", "600"));
        if (total == 0)
        {
            svg.Element("rect", null, ("x", barX), ("y", barY), ("width", barW), ("height", barH), ("fill", "#f4f6f9"), ("stroke", "#d8dde6"));
            svg.Element("text", "no reviews yet", ("x", barX + barW / 2), ("y", barY + 23), ("text-anchor", "middle"));
        }
        else
        {
            double x = barX;
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i] == 0) continue;
                var w = barW * (double)counts[i] / total;
                // The tooltip is the bar's SVG <title> child.
                svg.Open("rect", ("x", x), ("y", barY), ("width", w), ("height", barH), ("fill", Colours[i].Colour));
                svg.Element("title", $"{Colours[i].Name}: {Whole(counts[i])} ({Pct((double)counts[i] / total)})");
                svg.Close();
                if (w >= 34)
                {
                    svg.Element("text", Whole(counts[i]), ("x", x + w / 2), ("y", barY + 23), ("text-anchor", "middle"), ("fill", "#fff"), ("style", "fill:#fff"));
                }
                x += w;
            }
        }
        double lx = barX;
        for (var i = 0; i < Colours.Length; i++)
        {
            var label = $"{Colours[i].Name} {Whole(counts[i])}" + (total > 0 ? $" ({Pct((double)counts[i] / total)})" : "");
            svg.Element("rect", null, ("x", lx), ("y", 92), ("width", 12), ("height", 12), ("fill", Colours[i].Colour));
            svg.Element("text", label, ("x", lx + 16), ("y", 103));
            lx += 16 + label.Length * 6.6 + 14;
        }
        svg.Close();
    }
}
