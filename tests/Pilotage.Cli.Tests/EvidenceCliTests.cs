using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class EvidenceCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Metrics_prints_each_figure_with_its_sample_count_and_interval_and_the_review_forecast()
    {
        await ApplyAsync("metrics-import");
        Assert.Equal(0, (await Cli.RunAsync("import", "metrics-import", RepoPaths.Examples("evidence-import.csv"))).ExitCode);

        var metrics = await Cli.RunAsync("metrics", "metrics-import");

        Assert.True(metrics.ExitCode == 0, metrics.ToString());
        var lines = LifecycleCliTests.Lines(metrics.Out);
        Assert.Equal(["METRIC", "VALUE", "UNIT", "SAMPLES", "95 % INTERVAL"], EvalCliTests.Cells(lines[0]));
        var acceptance = EvalCliTests.Cells(Assert.Single(lines, l => l.StartsWith("acceptance_rate ", StringComparison.Ordinal)));
        Assert.Matches(@"^\d+(\.\d)?$", acceptance[1]);
        Assert.Equal("%", acceptance[2]);
        Assert.Matches(@"^[1-9]\d*$", acceptance[3]);
        Assert.Matches(@"^\d+(\.\d)? – \d+(\.\d)?$", acceptance[4]);
        // Every figure names its unit, from the metric catalogue: minutes, currency per day, milliseconds.
        Assert.Equal("minutes", EvalCliTests.Cells(Assert.Single(lines, l => l.StartsWith("net_minutes_saved_per_task ", StringComparison.Ordinal)))[2]);
        Assert.Equal("currency per day", EvalCliTests.Cells(Assert.Single(lines, l => l.StartsWith("cost_per_day ", StringComparison.Ordinal)))[2]);
        Assert.Equal("ms", EvalCliTests.Cells(Assert.Single(lines, l => l.StartsWith("latency_p95 ", StringComparison.Ordinal)))[2]);
        Assert.StartsWith("review forecast: ", lines[^1], StringComparison.Ordinal);

        var json = await Cli.RunAsync("metrics", "metrics-import", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var figure = json.Json().GetProperty("metrics").GetProperty("acceptance_rate");
        Assert.Equal(acceptance[3], figure.GetProperty("n").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("ratio", figure.GetProperty("unit").GetString());
        Assert.Equal("minutes", json.Json().GetProperty("metrics").GetProperty("review_minutes_per_task").GetProperty("unit").GetString());
        Assert.Equal("currency_per_day", json.Json().GetProperty("metrics").GetProperty("cost_per_day").GetProperty("unit").GetString());

        var none = await Cli.RunAsync("metrics", "metrics-import", "--from", "2001-01-01", "--to", "2001-01-31", "--json");
        Assert.True(none.ExitCode == 0, none.ToString());
        Assert.Equal(JsonValueKind.Null, none.Json().GetProperty("metrics").GetProperty("acceptance_rate").GetProperty("value").ValueKind);
    }

    [Fact]
    public async Task Metrics_of_an_unknown_system_or_with_a_bad_date_fails_in_one_line()
    {
        var unknown = await Cli.RunAsync("metrics", "metrics-no-such-system");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no system 'metrics-no-such-system'", unknown.ErrorLine(), StringComparison.Ordinal);

        var date = await Cli.RunAsAsync(null, "metrics", "x", "--from", "yesterday", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, date.ExitCode);
        Assert.Contains("--from 'yesterday' is not a date", date.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_records_the_rows_once_and_a_second_import_changes_nothing()
    {
        await ApplyAsync("import-twice");
        var file = RepoPaths.Examples("evidence-import.csv");

        var first = await Cli.RunAsync("import", "import-twice", file);
        Assert.True(first.ExitCode == 0, first.ToString());
        var match = System.Text.RegularExpressions.Regex.Match(first.Out.Trim(), @"^import-twice: imported ([1-9]\d*), already present 0$");
        Assert.True(match.Success, first.Out);
        var rows = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        var again = await Cli.RunAsync("import", "import-twice", file, "--json");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(0, again.Json().GetProperty("imported").GetInt32());
        Assert.Equal(rows, again.Json().GetProperty("alreadyPresent").GetInt32());
    }

    [Fact]
    public async Task Import_records_the_good_rows_prints_each_refused_one_and_exits_1_and_atomic_imports_nothing()
    {
        await ApplyAsync("import-partial-cli");
        var csv = _home.File("mixed.csv");
        await File.WriteAllTextAsync(csv, "timestamp,prompt,answer\n2026-03-02T09:14:00Z,Where is my parcel?,On its way.\n2026-03-02T09:15:00Z,=1+1,Two.\n");

        var atomic = await Cli.RunAsync("import", "import-partial-cli", csv, "--atomic");
        Assert.Equal(1, atomic.ExitCode);
        Assert.Contains("mixed.csv: row 3, prompt: starts with '='", atomic.Out, StringComparison.Ordinal);
        Assert.Contains("nothing was imported", atomic.ErrorLine(), StringComparison.Ordinal);

        var import = await Cli.RunAsync("import", "import-partial-cli", csv);
        Assert.Equal(1, import.ExitCode);
        var lines = LifecycleCliTests.Lines(import.Out);
        Assert.Contains(lines, l => l.StartsWith("mixed.csv: row 3, prompt: starts with '='", StringComparison.Ordinal));
        Assert.Contains("import-partial-cli: imported 1, already present 0, refused 1", lines);
        Assert.Contains("1 row of mixed.csv refused", import.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_of_a_bad_file_prints_each_row_error_and_imports_nothing()
    {
        var csv = _home.File("bad.csv");
        await File.WriteAllTextAsync(csv, "timestamp,prompt,answer,outcome\n2026-03-02T09:14:00Z,Where is my parcel?,On its way.,liked\nnot a date,Hello,Hi,accepted\n");

        var import = await Cli.RunAsAsync(null, "import", "whatever", csv, "--server", "http://127.0.0.1:1");

        Assert.Equal(1, import.ExitCode);
        var lines = LifecycleCliTests.Lines(import.Out);
        Assert.Contains(lines, l => l.StartsWith("bad.csv: row 1, outcome: ", StringComparison.Ordinal) || l.StartsWith("bad.csv: row 2, outcome: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(", timestamp: ", StringComparison.Ordinal));
        Assert.Contains("in bad.csv; nothing was imported", import.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_writes_the_file_and_prints_its_path_and_markdown_goes_to_stdout()
    {
        await ApplyAsync("report-system");
        var html = _home.File("out.html");

        var write = await Cli.RunAsync("report", "report-system", "-o", html);
        Assert.True(write.ExitCode == 0, write.ToString());
        Assert.Equal(html, write.Out.Trim());
        Assert.Contains("<html", await File.ReadAllTextAsync(html), StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(html + ".partial"));

        var json = _home.File("out.json");
        var asJson = await Cli.RunAsync("report", "report-system", "--format", "json", "-o", json);
        Assert.True(asJson.ExitCode == 0, asJson.ToString());
        using (var document = JsonDocument.Parse(await File.ReadAllTextAsync(json)))
        {
            Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        }

        var md = await Cli.RunAsync("report", "report-system", "--format", "md");
        Assert.True(md.ExitCode == 0, md.ToString());
        Assert.StartsWith("#", md.Out.TrimStart(), StringComparison.Ordinal);
        Assert.Contains("report-system", md.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_format_must_be_known_and_an_unknown_system_fails()
    {
        var format = await Cli.RunAsAsync(null, "report", "x", "--format", "pdf", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("pdf", format.ErrorLine(), StringComparison.Ordinal);

        var target = _home.File("missing.html");
        var unknown = await Cli.RunAsync("report", "report-no-such-system", "-o", target);
        Assert.Equal(1, unknown.ExitCode);
        unknown.ErrorLine();
        Assert.False(File.Exists(target));
    }

    private async Task ApplyAsync(string name)
    {
        var apply = await Cli.RunAsync("apply", "-f", Cli.Spec(name));
        Assert.True(apply.ExitCode == 0, apply.ToString());
    }

    public void Dispose() => _home.Dispose();
}
