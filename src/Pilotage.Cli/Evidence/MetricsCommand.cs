using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Pilotage.Cli.Client;
using Pilotage.Core.Metrics;

namespace Pilotage.Cli.Evidence;

/// <summary>
/// <c>pilotage metrics SYSTEM</c>: every catalogue figure of a system with its sample count and 95 %
/// interval, and the review forecast, as the control API computes them.
/// </summary>
internal static class MetricsCommand
{
    internal static readonly string[] Phases = ["proposed", "pilot", "decided", "rollout", "production", "paused", "restricted", "retired"];

    public static Command Create(CliContext cli)
    {
        var system = Args.System();
        var phase = new Option<string?>("--phase")
        {
            Description = "Only evidence gathered in this lifecycle phase (pilot, rollout, production…)",
            HelpName = "PHASE",
        };
        Systems.LifecycleCommands.OneOf(phase, Phases, "phase");
        var stage = new Option<int?>("--stage")
        {
            Description = "Only evidence of this rollout stage, numbered from 1 as 'pilotage status' shows it (implies --phase rollout)",
            HelpName = "N",
        };
        stage.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1) result.AddError("--stage counts rollout stages from 1, as 'pilotage status' shows them");
        });
        var version = new Option<int?>("--version")
        {
            Description = "Only evidence of this config version (the 'vN' of 'pilotage status')",
            HelpName = "N",
        };
        var from = new Option<string?>("--from") { Description = "Start of the period (YYYY-MM-DD or a date and time)", HelpName = "DATE" };
        var to = new Option<string?>("--to") { Description = "End of the period, inclusive (YYYY-MM-DD or a date and time)", HelpName = "DATE" };
        var byVersion = new Option<bool>("--by-version") { Description = "The key figures of every config version side by side (docs/change-control.md)" };
        var command = cli.ClientCommand("metrics", "Show every catalogue figure of a system (acceptance, rework, minutes saved, cost, pass rates…) with its sample count and 95 % interval, and the review capacity forecast.");
        command.Arguments.Add(system);
        command.Options.Add(phase);
        command.Options.Add(stage);
        command.Options.Add(version);
        command.Options.Add(from);
        command.Options.Add(to);
        command.Options.Add(byVersion);
        command.SetAction(async (parse, ct) =>
        {
            var slug = parse.GetValue(system)!;
            if (parse.GetValue(byVersion)) return await Changes.ChangeCommands.ByVersionAsync(cli, parse, slug, ct);
            var query = new List<string>();
            var stageNumber = parse.GetValue(stage);
            var phaseName = parse.GetValue(phase) ?? (stageNumber is null ? null : "rollout");
            if (phaseName is not null) query.Add("phase=" + Args.Escape(phaseName));
            if (stageNumber is { } n) query.Add("stage=" + (n - 1).ToString(CultureInfo.InvariantCulture));
            if (parse.GetValue(version) is { } v) query.Add("version=" + v.ToString(CultureInfo.InvariantCulture));
            var start = Args.ParseDate(parse.GetValue(from), "--from", endOfDay: false);
            var end = Args.ParseDate(parse.GetValue(to), "--to", endOfDay: true);
            if (start is not null && end is not null && end < start) throw new CliException("--to is before --from; the period would be empty", ExitCodes.Usage);
            if (start is { } s) query.Add("from=" + Args.Escape(s.ToString("o", CultureInfo.InvariantCulture)));
            if (end is { } e) query.Add("to=" + Args.Escape(e.ToString("o", CultureInfo.InvariantCulture)));
            var path = $"api/v1/systems/{Args.Escape(slug)}/metrics" + (query.Count > 0 ? "?" + string.Join('&', query) : "");

            using var call = cli.Call(parse, ct);
            return call.Show(await call.GetAsync(path), answer => Print(call.Output, slug, answer));
        });
        return command;
    }

    /// <summary>The figures as a table, then the review forecast's summary.</summary>
    private static void Print(Output output, string slug, JsonElement answer)
    {
        var rows = new List<IReadOnlyList<string>>();
        if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Object)
        {
            foreach (var metric in metrics.EnumerateObject())
            {
                rows.Add(Row(metric.Name, metric.Value));
            }
        }
        output.Table(["METRIC", "VALUE", "UNIT", "SAMPLES", "95 % INTERVAL"], rows, $"no figures for {slug} yet");
        if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("reviewForecast", out var forecast)
            && forecast.ValueKind == JsonValueKind.Object && forecast.TryGetProperty("summary", out var summary) && summary.ValueKind == JsonValueKind.String)
        {
            output.Line();
            output.Line("review forecast: " + Args.OneLine(summary.GetString()));
        }
    }

    /// <summary>
    /// One figure in the unit the API gives beside it (the metric catalogue's), named in the UNIT column:
    /// ratios in percent, other figures as they are; no evidence is "-", never 0.
    /// </summary>
    internal static IReadOnlyList<string> Row(string name, JsonElement figure)
    {
        var value = Number(figure, "value");
        var low = Number(figure, "low");
        var high = Number(figure, "high");
        var n = figure.ValueKind == JsonValueKind.Object && figure.TryGetProperty("n", out var count) && count.TryGetInt64(out var samples) ? samples : 0;
        var unit = UnitOf(name, figure);
        string Format(double? x) => x is not { } d ? "-" : MetricUnits.Number(unit, d);
        var interval = low is null && high is null ? "-" : $"{Format(low)} – {Format(high)}";
        // Evaluation cases that errored are not in n: shown beside it, so "-" is never read as "all failed".
        var errors = Number(figure, "errors") is > 0 and { } e ? $" (+{Args.Number((long)e)} errored)" : "";
        return [name, Format(value), MetricUnits.Label(unit), Args.Number(n) + errors, interval];
    }

    /// <summary>"1 sample", "72 samples".</summary>
    internal static string Samples(long n) => n == 1 ? "1 sample" : $"{Args.Number(n)} samples";

    /// <summary>The unit the server sent; the catalogue's when it sent none (an older server).</summary>
    private static MetricUnit UnitOf(string name, JsonElement figure)
    {
        if (figure.ValueKind == JsonValueKind.Object && figure.TryGetProperty("unit", out var unit) && unit.ValueKind == JsonValueKind.String)
        {
            foreach (var candidate in Enum.GetValues<MetricUnit>())
            {
                if (MetricUnits.Name(candidate) == unit.GetString()) return candidate;
            }
        }
        return MetricCatalogue.UnitOf(name) ?? MetricUnit.Count;
    }

    private static double? Number(JsonElement figure, string property) =>
        figure.ValueKind == JsonValueKind.Object && figure.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : null;
}
