using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>The day-to-day verbs around a pilot: incidents, the review queue and the readiness questions.</summary>
[Collection(ServerCollection.Name)]
public sealed class WorkCliTests(ServerFixture server) : IAsyncLifetime
{
    private readonly TempDirectory _home = new("pilotage-cli-home");
    private FakeUpstream _upstream = null!;

    private Cli Cli => new(server, _home);

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    [Fact]
    public async Task An_incident_is_filed_listed_shown_and_worked_to_closed()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "incident-flow");
        var interaction = await system.AskAsync(server, "Where is my parcel?");

        var file = await Cli.RunAsync("incident", "file", system.Slug, "--severity", "high", "--title", "Promised a refund we do not give",
            "--description", "The draft promised a full refund.", "--interaction", interaction);
        Assert.True(file.ExitCode == 0, file.ToString());
        var match = System.Text.RegularExpressions.Regex.Match(file.Out.Trim(), @"^filed incident (\d+) \(high\) against incident-flow: Promised a refund we do not give; the owner is notified$");
        Assert.True(match.Success, file.Out);
        var id = match.Groups[1].Value;

        var list = await Cli.RunAsync("incident", "list", "--system", system.Slug);
        Assert.True(list.ExitCode == 0, list.ToString());
        var row = EvalCliTests.Cells(Assert.Single(LifecycleCliTests.Lines(list.Out).Skip(1)));
        Assert.Equal([id, system.Slug, "incident", "high", "open", "-"], row[..6]);

        var none = await Cli.RunAsync("incident", "list", "--system", system.Slug, "--status", "resolved");
        Assert.Equal("no incidents match", none.Out.Trim());

        var show = await Cli.RunAsync("incident", "show", id);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches(@"description:\s+The draft promised a full refund\.", show.Out);
        Assert.Contains(interaction, show.Out, StringComparison.Ordinal);

        var investigate = await Cli.RunAsync("incident", "update", id, "--status", "investigating", "--assign", system.OwnerEmail);
        Assert.True(investigate.ExitCode == 0, investigate.ToString());
        Assert.Equal($"incident {id} (incident-flow): investigating, high, assigned to {system.OwnerEmail}", investigate.Out.Trim());

        Assert.Equal(0, (await Cli.RunAsAsync(system.OwnerKey, "incident", "update", id, "--status", "resolved")).ExitCode);
        var close = await Cli.RunAsAsync(system.OwnerKey, "incident", "update", id, "--status", "reviewed");
        Assert.Equal(1, close.ExitCode);
        close.ErrorLine(); // a high incident needs its review note first

        var closed = await Cli.RunAsAsync(system.OwnerKey, "incident", "update", id, "--status", "reviewed", "--note", "Knowledge base fixed; refunds wording reviewed.", "--json");
        Assert.True(closed.ExitCode == 0, closed.ToString());
        Assert.Equal("reviewed", closed.Json().GetProperty("status").GetString());
    }

    [Fact]
    public async Task Incident_verbs_check_their_values_before_asking_the_server()
    {
        var severity = await Cli.RunAsAsync(null, "incident", "file", "x", "--severity", "huge", "--title", "t", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, severity.ExitCode);
        Assert.Contains("huge", severity.ErrorLine(), StringComparison.Ordinal);

        var noTitle = await Cli.RunAsAsync(null, "incident", "file", "x", "--severity", "low", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, noTitle.ExitCode);
        noTitle.ErrorLine();

        var nothing = await Cli.RunAsAsync(null, "incident", "update", "7", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, nothing.ExitCode);
        Assert.Contains("nothing to change", nothing.ErrorLine(), StringComparison.Ordinal);

        var unknown = await Cli.RunAsync("incident", "show", "999999");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no incident 999999", unknown.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_draft_waits_in_the_review_queue_until_reviewed()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "review-queue");
        var interaction = await system.AskAsync(server, "My parcel is late.");

        var queue = await Cli.RunAsync("reviews", "--system", system.Slug);
        Assert.True(queue.ExitCode == 0, queue.ToString());
        var lines = LifecycleCliTests.Lines(queue.Out);
        Assert.Equal(["ID", "SYSTEM", "KIND", "WAITING", "OPENED BY", "ANSWER"], EvalCliTests.Cells(lines[0]));
        var row = EvalCliTests.Cells(Assert.Single(lines.Skip(1)));
        Assert.Equal(interaction, row[0]);
        Assert.Equal(system.Slug, row[1]);

        var edited = await Cli.RunAsync("review", interaction, "edited", "--final-text", "We will refund the order today.", "--seconds", "40", "--tag", "tone");
        Assert.True(edited.ExitCode == 0, edited.ToString());
        Assert.Equal($"{interaction} ({system.Slug}): edited", edited.Out.Trim());

        var empty = await Cli.RunAsync("reviews", "--system", system.Slug);
        Assert.Equal($"no answers waiting for review for {system.Slug}; the queue is empty", empty.Out.Trim());

        var replaced = await Cli.RunAsync("review", interaction, "accepted", "--json");
        Assert.True(replaced.ExitCode == 0, replaced.ToString());
        Assert.Equal("replaced", replaced.Json().GetProperty("status").GetString());
        Assert.Equal("accepted", replaced.Json().GetProperty("review").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Review_checks_its_outcome_and_final_text_locally()
    {
        var outcome = await Cli.RunAsAsync(null, "review", "int_1", "liked", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("liked", outcome.ErrorLine(), StringComparison.Ordinal);

        var noText = await Cli.RunAsAsync(null, "review", "int_1", "edited", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, noText.ExitCode);
        Assert.Contains("final text", noText.ErrorLine(), StringComparison.Ordinal);

        var both = await Cli.RunAsAsync(null, "review", "int_1", "edited", "--final-text", "a", "--final-file", "b", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, both.ExitCode);
        both.ErrorLine();
    }

    [Fact]
    public async Task Readiness_lists_the_questions_by_group_and_records_an_answer()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "readiness-cli");

        var show = await Cli.RunAsync("readiness", system.Slug);
        Assert.True(show.ExitCode == 0, show.ToString());
        var lines = LifecycleCliTests.Lines(show.Out);
        Assert.Equal(20, lines.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^(pilot|production|rollout|value)\.[a-z_]+\s")));
        Assert.True(lines.Count(l => l.StartsWith("ID ", StringComparison.Ordinal)) == 4, show.Out);
        Assert.Contains(lines, l => l.StartsWith("rollout.risky_tasks ", StringComparison.Ordinal));

        var answer = await Cli.RunAsAsync(system.OwnerKey, "readiness", system.Slug, "answer", "rollout.risky_tasks", "Refunds over 500 EUR stay manual.");
        Assert.True(answer.ExitCode == 0, answer.ToString());
        Assert.StartsWith($"{system.Slug}: answered rollout.risky_tasks", answer.Out.Trim(), StringComparison.Ordinal);

        var json = await Cli.RunAsync("readiness", system.Slug, "--json");
        var question = json.Json().GetProperty("questions").EnumerateArray().Single(q => q.GetProperty("id").GetString() == "rollout.risky_tasks");
        Assert.Contains("Refunds over 500 EUR stay manual.", question.GetRawText(), StringComparison.Ordinal);

        var unknown = await Cli.RunAsAsync(system.OwnerKey, "readiness", system.Slug, "answer", "no.such_question", "x");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no readiness question 'no.such_question'", unknown.ErrorLine(), StringComparison.Ordinal);

        var usage = await Cli.RunAsAsync(null, "readiness", "x", "reply", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, usage.ExitCode);
        usage.ErrorLine();
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _home.Dispose();
    }
}
