using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilotage.Cli.Demo;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// <c>pilotage demo</c>, the newcomer's first command: it must run from a clean build, write a report
/// with a recommendation, and show the pause rule stopping the system on the bad streak.
/// </summary>
public sealed partial class DemoCliTests : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-demo");

    [Fact]
    public async Task The_demo_runs_a_pilot_fires_the_pause_rule_and_writes_the_report()
    {
        var folder = Path.Combine(_home.Path, "run");
        var demo = await Cli.RunWithAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.Path }, "demo", "--no-serve", "--fast", "--dir", folder);

        Assert.True(demo.ExitCode == 0, demo.ToString());
        AssertTheStory(demo, folder);
        // The demo prints its admin token only while serving; it never writes the user's credentials file.
        Assert.False(File.Exists(Path.Combine(_home.Path, "pilotage", "credentials.json")));
    }

    [Fact]
    public async Task The_built_executable_runs_the_demo_too()
    {
        var folder = Path.Combine(_home.Path, "exe");
        var dll = Path.Combine(AppContext.BaseDirectory, "pilotage.dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // Default settings (with the simulated latency), as a newcomer runs it; only --dir is the test's.
        foreach (var arg in new[] { dll, "demo", "--no-serve", "--dir", folder }) start.ArgumentList.Add(arg);
        foreach (var name in new[] { "PILOTAGE_SERVER", "PILOTAGE_TOKEN", "PILOTAGE_DB", "PILOTAGE_ADMIN_TOKEN" }) start.Environment.Remove(name);
        start.Environment["XDG_CONFIG_HOME"] = _home.Path;

        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var result = new CliResult(process.ExitCode, await stdout, await stderr);

        Assert.True(result.ExitCode == 0, result.ToString());
        AssertTheStory(result, folder);
    }

    [Fact]
    public async Task Without_no_serve_the_demo_keeps_serving_and_the_lines_it_prints_work()
    {
        var folder = Path.Combine(_home.Path, "serve");
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var environment = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.Path };
        var demo = Task.Run(() => CliApp.RunAsync(["demo", "--fast", "--dir", folder], TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), environment, cancellationToken: stop.Token));
        while (!stdout.ToString().Contains("More: ", StringComparison.Ordinal) && !demo.IsCompleted && !stop.IsCancellationRequested) await Task.Delay(100);
        var output = stdout.ToString();
        Assert.True(output.Contains("More: ", StringComparison.Ordinal), output + stderr);

        var exports = ExportLine().Match(output);
        Assert.True(exports.Success, output);
        var (server, admin, key) = (exports.Groups[1].Value, exports.Groups[2].Value, exports.Groups[3].Value);
        Assert.Contains($"dashboard:      {server}/dashboard", output, StringComparison.Ordinal);
        Assert.Contains(admin, output[..output.IndexOf("export ", StringComparison.Ordinal)], StringComparison.Ordinal);

        // The curl line as printed: refused while paused; served again after the printed resume line.
        using var http = new HttpClient();
        async Task<(int Status, string Body)> CurlAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, server + "/v1/chat/completions")
            {
                Content = new StringContent("{\"model\":\"support-reply-drafts\",\"messages\":[{\"role\":\"user\",\"content\":\"Where is my order 4711?\"}]}", System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        var refused = await CurlAsync();
        Assert.Equal(423, refused.Status);
        Assert.Contains("system_paused", refused.Body, StringComparison.Ordinal);

        Assert.Contains("pilotage resume support-reply-drafts --reason", output, StringComparison.Ordinal);
        var resume = await Cli.RunWithAsync(new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = server, ["PILOTAGE_TOKEN"] = admin, ["XDG_CONFIG_HOME"] = _home.Path },
            "resume", "support-reply-drafts", "--reason", "X200 policy added to the knowledge base");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        var served = await CurlAsync();
        Assert.Equal(200, served.Status);
        Assert.Contains($"\"model\":\"{SimulatedModel.ModelId}\"", served.Body, StringComparison.Ordinal);
        Assert.Contains(SimulatedModel.Label, served.Body, StringComparison.Ordinal);

        await stop.CancelAsync();
        Assert.Equal(0, await demo);
        Assert.Contains("stopped; the database and the report stay in " + folder, stdout.ToString(), StringComparison.Ordinal);
    }

    private static void AssertTheStory(CliResult demo, string folder)
    {
        // The model is announced as simulated before anything else happens.
        Assert.Contains($"a SIMULATED model", demo.Out, StringComparison.Ordinal);
        // A newcomer's first run ends cleanly: no logged failure or stack trace from the shutdown.
        Assert.DoesNotContain("BackgroundService failed", demo.Out + demo.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", demo.Out + demo.Err, StringComparison.Ordinal);
        Assert.Contains(SimulatedModel.ModelId, demo.Out, StringComparison.Ordinal);

        // The data boundary blocked the tickets with card numbers; the rule fired; the gateway then refused.
        Assert.Matches(@"2 requests blocked by the data boundary", demo.Out);
        Assert.Matches(@"pause rule:\s+FIRED — .*rejection_rate 0\.\d+ over the last 20 reviews is above 0\.4; support-reply-drafts is paused", demo.Out);
        Assert.Matches(@"REFUSED by the gateway — 423 system_paused: 'support-reply-drafts' is paused by pause rule: rejection_rate", demo.Out);
        Assert.Matches(@"recommendation:\s+(redesign|stop|narrow|repilot|proceed|insufficient_evidence)", demo.Out);

        var path = ReportPath().Match(demo.Out).Groups[1].Value.Trim();
        Assert.Equal(Path.Combine(folder, "support-reply-drafts-report.html"), path);
        Assert.True(File.Exists(path), $"the report {path} is missing");
        var html = File.ReadAllText(path);
        Assert.Contains("id=\"recommendation\"", html, StringComparison.Ordinal);
        Assert.Matches(@"Recommendation</span> <strong>(redesign|stop|narrow|repilot|proceed)", html);
        Assert.Contains("by pause rule: rejection_rate", html, StringComparison.Ordinal);
        Assert.Matches(@"rejection_rate 0\.\d+ over the last 20 reviews is above 0\.4", html);
        Assert.Equal("", demo.Err);
    }

    [Theory]
    [InlineData("--upstream", "not a url")]
    [InlineData("--upstream", "ftp://models.example.org/v1")]
    [InlineData("--model", "llama3.1")]
    public async Task Bad_upstream_options_are_one_line_usage_errors(string option, string value)
    {
        var demo = await Cli.RunWithAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.Path }, "demo", "--no-serve", "--dir", Path.Combine(_home.Path, "bad"), option, value);

        Assert.Equal(2, demo.ExitCode);
        Assert.Contains(option == "--model" ? "give --upstream URL as well" : "is not an http(s) base URL", demo.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_refuses_json_output_with_a_pointer_to_the_report()
    {
        var demo = await Cli.RunWithAsync(new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = _home.Path }, "demo", "--no-serve", "--json", "--dir", Path.Combine(_home.Path, "json"));

        Assert.Equal(2, demo.ExitCode);
        Assert.Contains("--format json", demo.ErrorLine(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_home.Path, "json")), "nothing should start for a bad command line");
    }

    [Fact]
    public async Task The_simulated_model_labels_every_answer_and_answers_the_same_prompt_the_same_way()
    {
        await using var model = await SimulatedModel.StartAsync(TimeSpan.Zero, TimeSpan.Zero, CancellationToken.None);
        using var http = new HttpClient();
        async Task<JsonElement> AskAsync(string prompt)
        {
            using var response = await http.PostAsJsonAsync(model.BaseUrl + "/chat/completions",
                new { model = "anything", messages = new[] { new { role = "user", content = prompt } } });
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadFromJsonAsync<JsonElement>();
        }

        var prompt = "Customer writes: Where is my order 41234? I placed it 4 days ago and nothing has arrived.";
        var first = await AskAsync(prompt);
        var again = await AskAsync(prompt);

        Assert.Equal(SimulatedModel.ModelId, first.GetProperty("model").GetString());
        var content = first.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.StartsWith(SimulatedModel.Label + " ", content, StringComparison.Ordinal);
        Assert.Equal(content, again.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        // Across many tickets some answers are wrong and some unsafe, as the demo's story needs.
        var qualities = DemoScript.PilotTickets(60).Select(t => DemoScript.Answer(t.Prompt).Quality).ToList();
        Assert.Contains(AnswerQuality.Wrong, qualities);
        Assert.Contains(AnswerQuality.Unsafe, qualities);
        Assert.True(qualities.Count(q => q == AnswerQuality.Good) > qualities.Count / 2, "most ordinary answers should be good");
    }

    [GeneratedRegex(@"export PILOTAGE_SERVER=(\S+) PILOTAGE_TOKEN=(\S+) MIA_KEY=(\S+)")]
    private static partial Regex ExportLine();

    [GeneratedRegex(@"report:\s+(\S+\.html)")]
    private static partial Regex ReportPath();

    public void Dispose() => _home.Dispose();
}
