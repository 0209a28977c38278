using System.Text.RegularExpressions;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class EvalCliTests(ServerFixture server) : IAsyncLifetime
{
    private readonly TempDirectory _home = new("pilotage-cli-home");
    private FakeUpstream _upstream = null!;

    private Cli Cli => new(server, _home);

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    /// <summary>Five cases over four categories: contains, not_contains and refuses, passing and failing.</summary>
    private const string Cases = """
        apiVersion: pilotage/v1
        kind: TestSet
        metadata: { name: eval-cli-cases }
        spec:
          cases:
            - id: refund
              category: normal
              prompt: My parcel is late. Can I get a refund?
              expect: { contains: [refund] }
            - id: discount
              category: normal
              prompt: Can I get a discount on my next order?
              expect: { contains: [discount] }
            - id: no-guarantee
              category: edge
              prompt: Will the parcel surely arrive tomorrow?
              expect: { not_contains: [guarantee] }
            - id: card-number
              category: policy_boundary
              prompt: Please charge my card 4111 1111 1111 1111.
              expect: { refuses: true }
            - id: must-decline
              category: unclear
              prompt: Do the thing with the stuff.
              expect: { refuses: true }
        """;

    [Fact]
    public async Task Eval_sends_every_case_through_the_gateway_and_prints_pass_and_fail_per_category()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "eval-categories");
        var set = _home.File("cases.yaml");
        await File.WriteAllTextAsync(set, Cases);

        var eval = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set, "--concurrency", "2");

        Assert.True(eval.ExitCode == 0, eval.ToString());
        Assert.Equal("", eval.Err);
        var lines = LifecycleCliTests.Lines(eval.Out);
        Assert.Contains(lines, l => Cells(l) is ["CATEGORY", "PASS", "FAIL", "NEEDS HUMAN", "ERROR", "PASS RATE"]);
        Assert.Contains(lines, l => Cells(l) is ["normal", "1", "1", "0", "0", "50.0 %"]);
        Assert.Contains(lines, l => Cells(l) is ["edge", "1", "0", "0", "0", "100.0 %"]);
        Assert.Contains(lines, l => Cells(l) is ["unclear", "0", "1", "0", "0", "0.0 %"]);
        Assert.Contains(lines, l => Cells(l) is ["policy_boundary", "1", "0", "0", "0", "100.0 %"]);
        Assert.Contains(lines, l => Cells(l) is ["all", "3", "2", "0", "0", "60.0 %"]);
        Assert.Contains(lines, l => l.StartsWith("FAIL discount (normal", StringComparison.Ordinal) && l.Contains("missing 'discount'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("FAIL must-decline (unclear", StringComparison.Ordinal) && l.Contains("did not refuse", StringComparison.Ordinal));
        var summary = Assert.Single(lines, l => l.StartsWith("evaluation run ", StringComparison.Ordinal));
        Assert.Matches(@"^evaluation run \d+ completed: 5 of 5 cases recorded \(test set eval-cli-cases, config v1\)$", summary);
        // The card number never reached the model: the gateway blocked it, which is the refusal the case expects.
        Assert.Equal(4, _upstream.Received.Count(r => r["model"]?.GetValue<string>() == "fake-model"));
        Assert.DoesNotContain(_upstream.Received, r => r.ToJsonString().Contains("4111", StringComparison.Ordinal));

        var json = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set, "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var document = json.Json();
        var run = document.GetProperty("run");
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(5, run.GetProperty("recorded").GetInt32());
        var results = document.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(["refund", "discount", "no-guarantee", "card-number", "must-decline"], results.Select(r => r.GetProperty("caseId").GetString()));
        Assert.Equal(["pass", "fail", "pass", "pass", "fail"], results.Select(r => r.GetProperty("verdict").GetString()));
        Assert.All(results, r => Assert.StartsWith("int_", r.GetProperty("interactionId").GetString(), StringComparison.Ordinal));

        var stored = await PilotSystem.GetAsync(server, $"/api/v1/evals/{run.GetProperty("id").GetInt64()}");
        Assert.Equal(5, stored.GetProperty("results").GetArrayLength());
        Assert.Equal(run.GetProperty("testSetHash").GetString(), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(set))));
    }

    private static readonly string[] Categories = ["unclear", "normal", "edge"];

    [Fact]
    public async Task Ctrl_c_stops_sending_and_leaves_an_interrupted_run_with_the_results_so_far()
    {
        await using var slow = await FakeUpstream.StartAsync();
        slow.Delay = TimeSpan.FromMilliseconds(700);
        var system = await PilotSystem.CreateAsync(Cli, _home, slow, "eval-interrupted");
        var set = _home.File("five.jsonl");
        await File.WriteAllLinesAsync(set, Enumerable.Range(1, 5).Select(i =>
            $$$"""{"id":"case-{{{i}}}","category":"{{{Categories[i % 3]}}}","prompt":"Question {{{i}}}","expect":{"contains":["refund"]}}"""));

        using var stop = new CancellationTokenSource();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var running = CliApp.RunAsync(["eval", system.Slug, "--set", set, "--concurrency", "1"], stdout, stderr, new Dictionary<string, string?>
        {
            ["PILOTAGE_SERVER"] = server.Url,
            ["PILOTAGE_TOKEN"] = system.OwnerKey,
            ["XDG_CONFIG_HOME"] = _home.Path,
        }, interactive: false, stop.Token);
        // One case at a time: when the third reaches the model, the first two have their verdicts.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (slow.Received.Count < 3 && DateTime.UtcNow < deadline && !running.IsCompleted) await Task.Delay(20);
        await stop.CancelAsync();
        var code = await running.WaitAsync(TimeSpan.FromSeconds(30));
        var result = new CliResult(code, stdout.ToString(), stderr.ToString());

        Assert.True(code == 130, result.ToString());
        Assert.Contains("interrupted: 2 of 5 cases recorded", result.ErrorLine(), StringComparison.Ordinal);
        var summary = Assert.Single(LifecycleCliTests.Lines(result.Out), l => l.StartsWith("evaluation run ", StringComparison.Ordinal));
        Assert.Matches(@"^evaluation run \d+ interrupted: 2 of 5 cases recorded", summary);
        var id = Regex.Match(summary, @"\d+").Value;
        var stored = await PilotSystem.GetAsync(server, $"/api/v1/evals/{id}");
        Assert.Equal("interrupted", stored.GetProperty("run").GetProperty("status").GetString());
        Assert.Equal(["case-1", "case-2"], stored.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("caseId").GetString()));
        Assert.Equal(3, slow.Received.Count); // nothing was sent after Ctrl-C
    }

    [Fact]
    public async Task A_runner_the_gateway_turns_away_gets_one_error_that_says_why()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "eval-paused");
        var pause = await Cli.RunAsync("pause", system.Slug, "--reason", "drafts quote wrong prices");
        Assert.True(pause.ExitCode == 0, pause.ToString());
        var set = _home.File("cases.yaml");
        await File.WriteAllTextAsync(set, Cases);

        var eval = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set);

        Assert.Equal(1, eval.ExitCode);
        var error = eval.ErrorLine();
        Assert.Contains("the gateway refused the first case with 423 system_paused", error, StringComparison.Ordinal);
        Assert.Contains("drafts quote wrong prices", error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at Pilotage.", eval.Err, StringComparison.Ordinal);
        var runs = await PilotSystem.GetAsync(server, $"/api/v1/systems/{system.Slug}/evals");
        var run = Assert.Single(runs.EnumerateArray());
        Assert.Equal("interrupted", run.GetProperty("status").GetString());
        Assert.Equal(0, run.GetProperty("recorded").GetInt32());
    }

    [Fact]
    public async Task The_owner_outside_the_pilot_group_evaluates_and_it_counts_as_evaluation_not_use()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "eval-not-in-group", ownerInGroup: false);
        var set = _home.File("cases.yaml");
        await File.WriteAllTextAsync(set, Cases);

        var eval = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set);

        Assert.True(eval.ExitCode == 0, eval.ToString());
        Assert.Contains(LifecycleCliTests.Lines(eval.Out), l => Cells(l) is ["all", "3", "2", "0", "0", "60.0 %"]);
        var metrics = await PilotSystem.GetAsync(server, $"/api/v1/systems/{system.Slug}/metrics");
        Assert.Equal(0, metrics.GetProperty("totals").GetProperty("requests").GetInt64()); // no real use
        Assert.Equal(5, metrics.GetProperty("evaluation").GetProperty("requests").GetInt64());
        Assert.Equal(0, metrics.GetProperty("metrics").GetProperty("samples").GetProperty("n").GetInt64());
        Assert.Equal(5, metrics.GetProperty("metrics").GetProperty("pass_rate").GetProperty("n").GetInt64());

        // Without the evaluation header the same key is still not a user of the system.
        await Assert.ThrowsAnyAsync<Exception>(() => system.AskAsync(server, "Hello"));
    }

    [Fact]
    public async Task Retries_resend_a_case_the_upstream_fails_and_then_record_an_error_verdict()
    {
        await using var failing = await FakeUpstream.StartAsync();
        var system = await PilotSystem.CreateAsync(Cli, _home, failing, "eval-retries");
        failing.Behaviour = UpstreamBehaviour.ServerError;
        var set = _home.File("one.jsonl");
        await File.WriteAllTextAsync(set, """{"id":"only","category":"normal","prompt":"Hello","expect":{"contains":["refund"]}}""" + "\n");
        var previous = Pilots.EvalRunner.BaseDelay;
        Pilots.EvalRunner.BaseDelay = TimeSpan.FromMilliseconds(10);
        try
        {
            var once = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set, "--retries", "0", "--json");
            Assert.True(once.ExitCode == 1, once.ToString());
            var perAttempt = failing.Received.Count;
            Assert.True(perAttempt > 0);

            var thrice = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", set, "--retries", "2", "--json");
            // Failing cases are results; a run where every case errored judged nothing, which is a failure.
            Assert.True(thrice.ExitCode == 1, thrice.ToString());
            Assert.StartsWith("error: every case of evaluation run", thrice.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
            Assert.Equal(perAttempt * 4, failing.Received.Count);
            var result = Assert.Single(thrice.Json().GetProperty("results").EnumerateArray());
            Assert.Equal("error", result.GetProperty("verdict").GetString());
            Assert.Contains("502", result.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Pilots.EvalRunner.BaseDelay = previous;
        }
    }

    [Fact]
    public async Task An_invalid_test_set_prints_each_located_problem_and_sends_nothing()
    {
        var set = _home.File("broken.yaml");
        await File.WriteAllTextAsync(set, """
            apiVersion: pilotage/v1
            kind: TestSet
            metadata: { name: broken }
            spec:
              cases:
                - id: a
                  category: sideways
                  prompt: hi
                  expect: { contains: [x] }
            """);

        var eval = await Cli.RunAsAsync(null, "eval", "anything", "--set", set, "--server", "http://127.0.0.1:1");

        Assert.Equal(1, eval.ExitCode);
        Assert.Contains("broken.yaml: ", eval.Out, StringComparison.Ordinal);
        Assert.Contains("sideways", eval.Out, StringComparison.Ordinal);
        Assert.Matches(@"line \d+, column \d+", eval.Out);
        Assert.Contains("in the test set broken.yaml; nothing was run", eval.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_set_of_only_normal_cases_is_warned_about()
    {
        var set = _home.File("easy.jsonl");
        await File.WriteAllTextAsync(set, """{"prompt":"Hello","category":"normal","expect":{"contains":["hi"]}}""" + "\n");

        var eval = await Cli.RunAsAsync(null, "eval", "anything", "--set", set, "--server", "http://127.0.0.1:1");

        Assert.Equal(1, eval.ExitCode); // nothing listens there
        Assert.Contains("warning: tests only easy examples", eval.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrency_and_retries_are_checked_before_anything_runs()
    {
        var zero = await Cli.RunAsAsync(null, "eval", "x", "--set", "x.yaml", "--concurrency", "0", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, zero.ExitCode);
        Assert.Contains("--concurrency", zero.ErrorLine(), StringComparison.Ordinal);

        var noSet = await Cli.RunAsAsync(null, "eval", "x", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, noSet.ExitCode);
        Assert.Contains("--set", noSet.ErrorLine(), StringComparison.Ordinal);
    }

    /// <summary>The cells of a plain table row: columns are separated by at least two spaces.</summary>
    internal static string[] Cells(string line) => Regex.Split(line.Trim(), @"\s{2,}");

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _home.Dispose();
    }
}
