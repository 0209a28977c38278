using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using static Pilotage.Server.Reports.ReportFormat;

namespace Pilotage.Server.Reports.Html;

/// <summary>
/// Bars of requests per UTC day (left axis) and a line of the day's acceptance rate (right axis, 0–100 %),
/// over the most recent <see cref="ReportFormat.TrendChartDays"/> days. Drawn by the report and the dashboard.
/// </summary>
public sealed class TrendChart : ComponentBase
{
    [Parameter, EditorRequired] public IReadOnlyList<ReportTrendDay> Trend { get; set; } = [];

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        const int width = 720, height = 260, left = 48, right = 52, top = 34, bottom = 40;
        const int plotW = width - left - right, plotH = height - top - bottom;
        var days = Trend.Count > TrendChartDays ? Trend.Skip(Trend.Count - TrendChartDays).ToList() : Trend.ToList();
        var description = days.Count == 0
            ? "No real traffic yet."
            : $"{Whole(days.Count)} days from {DayText(days[0].Day)} to {DayText(days[^1].Day)}: {Whole(days.Sum(d => d.Requests))} requests, {Whole(days.Sum(d => d.Reviewed))} reviewed, {Whole(days.Sum(d => d.Accepted))} accepted.";
        var svg = new SvgWriter(builder);
        svg.Open("svg", ("class", "chart"), ("id", "chart-trend"), ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", $"0 0 {width} {height}"),
            ("width", width), ("height", height), ("role", "img"), ("aria-labelledby", "trend-title trend-desc"));
        svg.Element("title", "Daily trend: requests and acceptance rate per UTC day", ("id", "trend-title"));
        svg.Element("desc", description, ("id", "trend-desc"));
        svg.Element("text", "Requests per day (bars) and acceptance rate (line)", ("x", left), ("y", 18), ("font-weight", "600"));
        svg.Element("rect", null, ("x", left), ("y", top), ("width", plotW), ("height", plotH), ("fill", "#f9fafc"), ("stroke", "#d8dde6"));
        if (days.Count == 0)
        {
            svg.Element("text", "no real traffic yet", ("x", left + plotW / 2), ("y", top + plotH / 2), ("text-anchor", "middle"));
            svg.Close();
            return;
        }
        var max = Math.Max(1, days.Max(d => d.Requests));
        var slot = (double)plotW / days.Count;
        var barW = Math.Max(1, slot * 0.7);
        // Axes: requests on the left, acceptance on the right, grid at half.
        svg.Element("line", null, ("x1", left), ("y1", top + plotH / 2), ("x2", left + plotW), ("y2", top + plotH / 2), ("stroke", "#e3e7ee"));
        svg.Element("text", Whole(max), ("x", left - 6), ("y", top + 4), ("text-anchor", "end"));
        svg.Element("text", Num(max / 2.0), ("x", left - 6), ("y", top + plotH / 2 + 4), ("text-anchor", "end"));
        svg.Element("text", "0", ("x", left - 6), ("y", top + plotH + 4), ("text-anchor", "end"));
        svg.Element("text", "100%", ("x", left + plotW + 6), ("y", top + 4));
        svg.Element("text", "50%", ("x", left + plotW + 6), ("y", top + plotH / 2 + 4));
        svg.Element("text", "0%", ("x", left + plotW + 6), ("y", top + plotH + 4));
        var points = new List<string>();
        for (var i = 0; i < days.Count; i++)
        {
            var d = days[i];
            var x = left + slot * i + (slot - barW) / 2;
            var h = plotH * (double)d.Requests / max;
            var rate = d.AcceptanceRate is { } a ? $", acceptance {Pct(a)} of {Whole(d.Reviewed)} reviewed" : ", none reviewed";
            svg.Open("rect", ("x", x), ("y", top + plotH - h), ("width", barW), ("height", h), ("fill", "#7fa2d6"));
            svg.Element("title", $"{DayText(d.Day)}: {Whole(d.Requests)} requests{rate}");
            svg.Close();
            if (d.AcceptanceRate is { } acceptance)
            {
                var cx = left + slot * i + slot / 2;
                var cy = top + plotH * (1 - acceptance);
                points.Add($"{Px(cx)},{Px(cy)}");
                svg.Open("circle", ("cx", cx), ("cy", cy), ("r", "3.5"), ("fill", "#1b7a3a"));
                svg.Element("title", $"{DayText(d.Day)}: acceptance {Pct(acceptance)} (n={Whole(d.Reviewed)})");
                svg.Close();
            }
        }
        if (points.Count > 1)
        {
            svg.Element("polyline", null, ("points", string.Join(' ', points)), ("fill", "none"), ("stroke", "#1b7a3a"), ("stroke-width", "2"));
        }
        // Day labels: first, middle and last.
        foreach (var i in new[] { 0, days.Count / 2, days.Count - 1 }.Distinct())
        {
            svg.Element("text", DayText(days[i].Day), ("x", left + slot * i + slot / 2), ("y", top + plotH + 18), ("text-anchor", "middle"));
        }
        svg.Element("rect", null, ("x", left), ("y", height - 12), ("width", 12), ("height", 10), ("fill", "#7fa2d6"));
        svg.Element("text", "requests", ("x", left + 16), ("y", height - 3));
        svg.Element("line", null, ("x1", left + 100), ("y1", height - 7), ("x2", left + 120), ("y2", height - 7), ("stroke", "#1b7a3a"), ("stroke-width", "2"));
        svg.Element("text", "acceptance rate (UTC day)", ("x", left + 124), ("y", height - 3));
        svg.Close();
    }
}
