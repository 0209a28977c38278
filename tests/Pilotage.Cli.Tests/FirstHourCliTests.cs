using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// The first hour with the example system: an evaluation while the model is down, the admin evaluating
/// a system they do not use, a member acknowledging training from the CLI, and pilot end dates that do
/// not rot. Each against the shared real server, through the CLI.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class FirstHourCliTests(ServerFixture server) : IAsyncLifetime
{
    private readonly TempDirectory _home = new("pilotage-cli-home");
    private FakeUpstream _upstream = null!;

    private Cli Cli => new(server, _home);

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _home.Dispose();
    }

    /// <summary>The example spec under <paramref name="slug"/>, pointed at the fake model, with its pilot started by the admin.</summary>
    private async Task StartExampleAsync(string slug, string? criterion = null)
    {
        var spec = Cli.Spec(slug, text =>
        {
            text = text.Replace("http://127.0.0.1:11434/v1", _upstream.BaseUrl, StringComparison.Ordinal)
                .Replace("group: support-pilot", $"group: {slug}-pilot", StringComparison.Ordinal);
            return criterion is null ? text : text.Replace("      - { metric: pass_rate.edge, min: 0.7, else: narrow }", criterion, StringComparison.Ordinal);
        });
        var apply = await Cli.RunAsync("apply", "-f", spec);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var pilot = await Cli.RunAsync("decide", slug, "pilot", "--reason", "start");
        Assert.True(pilot.ExitCode == 0, pilot.ToString());
    }

    [Fact]
    public async Task An_evaluation_while_the_model_is_down_counts_errors_apart_and_recommends_nothing()
    {
        await StartExampleAsync("first-hour-down", "      - { metric: pass_rate, min: 0.7, else: narrow }");
        _upstream.Behaviour = UpstreamBehaviour.ServerError;
        var previous = Pilots.EvalRunner.BaseDelay;
        Pilots.EvalRunner.BaseDelay = TimeSpan.FromMilliseconds(5);
        CliResult eval;
        try
        {
            // The admin, as the README does: not in the pilot group, training not acknowledged.
            eval = await Cli.RunAsync("eval", "first-hour-down", "--set", RepoPaths.Examples("testsets/support-reply-drafts.yaml"), "--retries", "0");
        }
        finally
        {
            Pilots.EvalRunner.BaseDelay = previous;
        }

        // The card number and IBAN cases are refused by the data boundary, which they expect: they ran.
        var lines = LifecycleCliTests.Lines(eval.Out);
        Assert.True(eval.ExitCode == 0, eval.ToString());
        Assert.Contains(lines, l => EvalCliTests.Cells(l) is ["all", "2", "0", "0", "11", "100.0 %"]);
        Assert.Contains(lines, l => EvalCliTests.Cells(l) is ["normal", "0", "0", "0", "3", "-"]);
        Assert.Contains(lines, l => l.StartsWith("errors: 11 cases errored", StringComparison.Ordinal) && l.Contains("count in no pass rate", StringComparison.Ordinal));
        Assert.DoesNotContain("not_in_allowed_group", eval.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("training_required", eval.Out, StringComparison.Ordinal);

        var metrics = await PilotSystem.GetAsync(server, "/api/v1/systems/first-hour-down/metrics");
        var passRate = metrics.GetProperty("metrics").GetProperty("pass_rate");
        Assert.Equal(2, passRate.GetProperty("n").GetInt64());
        Assert.Equal(11, passRate.GetProperty("errors").GetInt64());
        Assert.Equal(1, passRate.GetProperty("value").GetDouble());
        var normal = metrics.GetProperty("metrics").GetProperty("pass_rate.normal");
        Assert.Equal(JsonValueKind.Null, normal.GetProperty("value").ValueKind);
        Assert.Equal(3, normal.GetProperty("errors").GetInt64());
        Assert.False(metrics.GetProperty("metrics").GetProperty("acceptance_rate").TryGetProperty("errors", out _));

        var table = await Cli.RunAsync("metrics", "first-hour-down");
        Assert.Contains(LifecycleCliTests.Lines(table.Out), l => l.StartsWith("pass_rate.normal", StringComparison.Ordinal) && l.Contains("0 (+3 errored)", StringComparison.Ordinal));

        var report = (await PilotSystem.GetAsync(server, "/api/v1/systems/first-hour-down/report?format=json"));
        Assert.Equal(11, report.GetProperty("realism").GetProperty("errors").GetInt32());
        Assert.Equal(2, report.GetProperty("realism").GetProperty("testCases").GetInt32());
        Assert.True(report.GetProperty("realism").GetProperty("weak").GetBoolean()); // only policy_boundary ran
        Assert.Contains("11 more cases errored", report.GetProperty("realism").GetProperty("coverageMessage").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_every_case_errors_the_run_says_so_exits_1_and_no_recommendation_follows()
    {
        await StartExampleAsync("first-hour-all-down", "      - { metric: pass_rate.edge, min: 0.7, else: narrow }");
        _upstream.Behaviour = UpstreamBehaviour.ServerError;
        var set = _home.File("edge.jsonl");
        await File.WriteAllLinesAsync(set, Enumerable.Range(1, 4).Select(i =>
            $$$"""{"id":"edge-{{{i}}}","category":"edge","prompt":"Unusual question {{{i}}}","expect":{"contains":["refund"]}}"""));

        var eval = await Cli.RunAsync("eval", "first-hour-all-down", "--set", set, "--retries", "0");

        Assert.Equal(1, eval.ExitCode);
        // After the coverage warning, one error line.
        Assert.StartsWith("error: every case of evaluation run", eval.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
        Assert.Contains(LifecycleCliTests.Lines(eval.Out), l => l.StartsWith("errors: all 4 cases errored", StringComparison.Ordinal));
        var report = await PilotSystem.GetAsync(server, "/api/v1/systems/first-hour-all-down/report?format=json");
        Assert.Equal("insufficient_evidence", report.GetProperty("criteria").GetProperty("recommendation").GetProperty("kind").GetString());
        var html = await GetTextAsync("/api/v1/systems/first-hour-all-down/report?format=html");
        Assert.Contains("not evaluated: every case errored", html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"badge good\">coverage<", html, StringComparison.Ordinal);
        var status = await Cli.RunAsync("status", "first-hour-all-down");
        Assert.Contains("recommendation: insufficient evidence", status.Out, StringComparison.Ordinal);
        Assert.Contains("4 errored, not counted", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_acknowledges_training_from_the_cli_and_the_gateway_then_serves_her()
    {
        await StartExampleAsync("first-hour-training");
        var add = await Cli.RunAsync("users", "add", "tia@example.org", "--groups", "first-hour-training-pilot");
        Assert.True(add.ExitCode == 0, add.ToString());
        var key = (await Cli.RunAsync("keys", "create", "--user", "tia@example.org", "--json")).Json().GetProperty("key").GetString()!;

        var before = await AskAsync(key, "first-hour-training");
        Assert.Equal(HttpStatusCode.Forbidden, before.Status);
        Assert.Contains("training_required", before.Body, StringComparison.Ordinal);
        Assert.Contains("pilotage training ack first-hour-training", before.Body, StringComparison.Ordinal);

        var show = await Cli.RunAsAsync(key, "training", "show", "first-hour-training");
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("Use for drafts only; never send card numbers.", show.Out, StringComparison.Ordinal);
        Assert.Contains("not acknowledged yet", show.Out, StringComparison.Ordinal);

        var ack = await Cli.RunAsAsync(key, "training", "ack", "first-hour-training");
        Assert.True(ack.ExitCode == 0, ack.ToString());
        Assert.Contains("acknowledged the training of first-hour-training", ack.Out, StringComparison.Ordinal);
        Assert.True((await Cli.RunAsAsync(key, "training", "show", "first-hour-training", "--json")).Json().GetProperty("acknowledged").GetBoolean());

        var after = await AskAsync(key, "first-hour-training");
        Assert.True(after.Status == HttpStatusCode.OK, after.Body);
        var audit = await Cli.RunAsync("audit", "export");
        Assert.Contains(audit.Out.Split('\n'), l => l.Contains("\"training.acknowledged\"", StringComparison.Ordinal) && l.Contains("tia@example.org", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Training_for_a_system_that_does_not_exist_says_so_in_one_line()
    {
        var ack = await Cli.RunAsync("training", "ack", "no-such-system");

        Assert.Equal(1, ack.ExitCode);
        Assert.Equal("error: there is no AI system 'no-such-system'", ack.ErrorLine());
    }

    [Fact]
    public async Task A_relative_end_is_stored_as_a_date_and_applying_the_file_again_changes_nothing()
    {
        var spec = Cli.Spec("first-hour-relative");
        Assert.Contains("ends: +90d", await File.ReadAllTextAsync(spec), StringComparison.Ordinal);

        var apply = await Cli.RunAsync("apply", "-f", spec);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var again = await Cli.RunAsync("apply", "-f", spec);
        Assert.Equal(["first-hour-relative unchanged", "no changes"], LifecycleCliTests.Lines(again.Out));

        var stored = await PilotSystem.GetAsync(server, "/api/v1/systems/first-hour-relative");
        var pilot = stored.GetProperty("spec").GetProperty("pilot");
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(90).ToString("yyyy-MM-dd"), pilot.GetProperty("ends").GetString());
        Assert.Equal("+90d", pilot.GetProperty("endsRelative").GetString());
    }

    [Fact]
    public async Task A_pilot_that_already_ended_is_refused_unless_imported_with_allow_past()
    {
        var spec = Cli.Spec("first-hour-past", text => text.Replace("ends: +90d", "ends: 2025-06-30", StringComparison.Ordinal));

        var refused = await Cli.RunAsync("apply", "-f", spec);

        Assert.Equal(1, refused.ExitCode);
        var error = Assert.Single(LifecycleCliTests.Lines(refused.Out));
        Assert.StartsWith("first-hour-past.yaml: spec.pilot.ends: the pilot ends on 2025-06-30, which has already passed", error, StringComparison.Ordinal);
        Assert.Contains("--allow-past", error, StringComparison.Ordinal);
        Assert.Matches(@"at line 25, column \d+$", error);
        Assert.Equal(1, (await Cli.RunAsync("diff", "-f", spec)).ExitCode);

        var imported = await Cli.RunAsync("apply", "-f", spec, "--allow-past");
        Assert.True(imported.ExitCode == 0, imported.ToString());
        var again = await Cli.RunAsync("apply", "-f", spec);
        Assert.True(again.ExitCode == 0, again.ToString()); // the stored date is not refused again
        var audit = (await Cli.RunAsync("audit", "export")).Out.Split('\n');
        var entry = Assert.Single(audit, l => l.Contains("\"system.past_pilot_imported\"", StringComparison.Ordinal) && l.Contains("system:first-hour-past", StringComparison.Ordinal));
        Assert.Contains("2025-06-30", entry, StringComparison.Ordinal);
        Assert.Contains("--allow-past", entry, StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, string Body)> AskAsync(string key, string slug)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var body = JsonSerializer.Serialize(new { model = slug, messages = new[] { new { role = "user", content = "Draft a reply to ticket 4711" } } });
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<string> GetTextAsync(string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.AdminToken);
        return await http.GetStringAsync(path);
    }
}
