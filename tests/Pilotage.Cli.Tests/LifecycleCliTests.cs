using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class LifecycleCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Decide_pilot_moves_a_proposed_system_into_its_pilot_and_decisions_lists_it()
    {
        await ApplyAsync("decide-pilot");

        var decide = await Cli.RunAsync("decide", "decide-pilot", "pilot", "--reason", "ready for the support pilot");

        Assert.True(decide.ExitCode == 0, decide.ToString());
        Assert.Matches(@"^decide-pilot: proposed → pilot \(decision \d+ by \S+@\S+\)$", decide.Out.Trim());
        Assert.Equal("", decide.Err);
        Assert.Matches(@"phase:\s+pilot", (await Cli.RunAsync("status", "decide-pilot")).Out);

        var decisions = await Cli.RunAsync("decisions", "decide-pilot");
        Assert.True(decisions.ExitCode == 0, decisions.ToString());
        Assert.StartsWith("ID", decisions.Out, StringComparison.Ordinal);
        var row = Assert.Single(Lines(decisions.Out).Skip(1));
        Assert.Contains("proposed → pilot", row, StringComparison.Ordinal);
        Assert.Contains("ready for the support pilot", row, StringComparison.Ordinal);

        var json = Assert.Single((await Cli.RunAsync("decisions", "decide-pilot", "--json")).Json().EnumerateArray());
        Assert.Equal("pilot", json.GetProperty("outcome").GetString());
        Assert.Equal("pilot", json.GetProperty("toPhase").GetString());
    }

    [Fact]
    public async Task A_forbidden_move_fails_with_the_servers_reason_and_changes_nothing()
    {
        await ApplyAsync("decide-forbidden");

        var expand = await Cli.RunAsync("decide", "decide-forbidden", "expand", "--reason", "skip the pilot");

        Assert.Equal(1, expand.ExitCode);
        Assert.Equal("", expand.Out);
        var error = expand.ErrorLine();
        Assert.Contains("cannot expand", error, StringComparison.Ordinal);
        Assert.Contains("proposed", error, StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+proposed", (await Cli.RunAsync("status", "decide-forbidden")).Out);
        Assert.Contains("no decisions recorded for decide-forbidden", (await Cli.RunAsync("decisions", "decide-forbidden")).Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decide_refuses_locally_an_unknown_outcome_or_a_missing_reason()
    {
        var unknown = await Cli.RunAsAsync(null, "decide", "anything", "launch", "--reason", "x", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("launch", unknown.ErrorLine(), StringComparison.Ordinal);

        var noReason = await Cli.RunAsAsync(null, "decide", "anything", "pilot", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, noReason.ExitCode);
        Assert.Contains("needs a reason", noReason.ErrorLine(), StringComparison.Ordinal);

        var blank = await Cli.RunAsAsync(null, "decide", "anything", "pilot", "--reason", "  ", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, blank.ExitCode);
        blank.ErrorLine();
    }

    [Fact]
    public async Task Extend_needs_until_and_then_moves_the_pilots_end_date()
    {
        await ApplyAsync("decide-extend");
        Assert.Equal(0, (await Cli.RunAsync("decide", "decide-extend", "pilot", "--reason", "start")).ExitCode);

        var missing = await Cli.RunAsync("decide", "decide-extend", "extend", "--reason", "more samples needed");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--until", missing.ErrorLine(), StringComparison.Ordinal);

        var bad = await Cli.RunAsync("decide", "decide-extend", "extend", "--reason", "more samples needed", "--until", "31/01/2027");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("not a date", bad.ErrorLine(), StringComparison.Ordinal);

        var misplaced = await Cli.RunAsync("decide", "decide-extend", "stop", "--reason", "x", "--until", "2027-01-31");
        Assert.Equal(2, misplaced.ExitCode);
        misplaced.ErrorLine();

        var extend = await Cli.RunAsync("decide", "decide-extend", "extend", "--reason", "more samples needed", "--until", "2027-01-31");
        Assert.True(extend.ExitCode == 0, extend.ToString());
        Assert.Matches(@"^decide-extend: pilot extended to 2027-01-31 \(decision \d+ by \S+\)$", extend.Out.Trim());
        Assert.Contains(Lines((await Cli.RunAsync("decisions", "decide-extend")).Out), l => l.Contains("extend to 2027-01-31", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Deciding_against_the_evidence_needs_override_and_is_then_recorded()
    {
        await ApplyAsync("decide-override");
        Assert.Equal(0, (await Cli.RunAsync("decide", "decide-override", "pilot", "--reason", "start")).ExitCode);

        var against = await Cli.RunAsync("decide", "decide-override", "stop", "--reason", "budget withdrawn");
        Assert.Equal(1, against.ExitCode);
        Assert.Contains("--override", against.ErrorLine(), StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+pilot", (await Cli.RunAsync("status", "decide-override")).Out);

        var overridden = await Cli.RunAsync("decide", "decide-override", "stop", "--override", "--reason", "budget withdrawn by the board");
        Assert.True(overridden.ExitCode == 0, overridden.ToString());
        Assert.Matches(@"^decide-override: pilot → \S+ \(decision \d+ by \S+\)$", overridden.Out.Trim());
        Assert.Contains(Lines((await Cli.RunAsync("decisions", "decide-override")).Out), l => l.Contains("budget withdrawn by the board", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Pause_then_resume_with_a_reason_and_both_are_audited()
    {
        await ApplyAsync("pause-resume");
        Assert.Equal(0, (await Cli.RunAsync("decide", "pause-resume", "pilot", "--reason", "start")).ExitCode);

        var pause = await Cli.RunAsync("pause", "pause-resume", "--reason", "customer complaint under investigation");

        Assert.True(pause.ExitCode == 0, pause.ToString());
        Assert.Matches(@"^pause-resume: paused by \S+ at \d{4}-\d\d-\d\d \d\d:\d\dZ$", pause.Out.Trim());
        Assert.Matches(@"phase:\s+paused", (await Cli.RunAsync("status", "pause-resume")).Out);
        var paused = Assert.Single(await AuditAsync("system.paused", "system:pause-resume"));
        Assert.Contains("customer complaint under investigation", paused.GetProperty("after").GetString(), StringComparison.Ordinal);

        var again = await Cli.RunAsync("pause", "pause-resume");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already paused", again.ErrorLine(), StringComparison.Ordinal);

        var noReason = await Cli.RunAsync("resume", "pause-resume");
        Assert.Equal(2, noReason.ExitCode);
        Assert.Contains("needs a reason", noReason.ErrorLine(), StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+paused", (await Cli.RunAsync("status", "pause-resume")).Out);

        var resume = await Cli.RunAsync("resume", "pause-resume", "--reason", "complaint was about the manual process");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.Equal("pause-resume: resumed, now pilot", resume.Out.Trim());
        Assert.Matches(@"phase:\s+pilot", (await Cli.RunAsync("status", "pause-resume")).Out);
        Assert.Single(await AuditAsync("system.resumed", "system:pause-resume"));
    }

    [Fact]
    public async Task Pause_needs_a_system_or_all_but_not_both()
    {
        var none = await Cli.RunAsAsync(null, "pause", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("--all", none.ErrorLine(), StringComparison.Ordinal);

        var both = await Cli.RunAsAsync(null, "pause", "x", "--all", "--reason", "r", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, both.ExitCode);
        both.ErrorLine();

        var allWithoutReason = await Cli.RunAsAsync(null, "pause", "--all", "--server", "http://127.0.0.1:1");
        Assert.Equal(2, allWithoutReason.ExitCode);
        Assert.Contains("needs a reason", allWithoutReason.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pause_of_a_proposed_system_says_why_not()
    {
        await ApplyAsync("pause-proposed");

        var pause = await Cli.RunAsync("pause", "pause-proposed");

        Assert.Equal(1, pause.ExitCode);
        Assert.Contains("cannot pause", pause.ErrorLine(), StringComparison.Ordinal);
    }

    private async Task ApplyAsync(string name, Func<string, string>? edit = null, Cli? cli = null)
    {
        cli ??= Cli;
        var apply = await cli.RunAsync("apply", "-f", cli.Spec(name, edit));
        Assert.True(apply.ExitCode == 0, apply.ToString());
    }

    private async Task<List<JsonElement>> AuditAsync(string action, string subject)
    {
        var export = await Cli.RunAsync("audit", "export");
        Assert.True(export.ExitCode == 0, export.ToString());
        return Lines(export.Out)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(e => e.GetProperty("action").GetString() == action && e.GetProperty("subject").GetString() == subject)
            .ToList();
    }

    internal static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Dispose() => _home.Dispose();
}

/// <summary>
/// 'pause --all' touches every serving system, so it gets a server of its own: the shared one holds
/// other tests' systems.
/// </summary>
public sealed class PauseAllCliTests : IAsyncLifetime
{
    private readonly ServerFixture _server = new();
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(_server, _home);

    public Task InitializeAsync() => _server.InitializeAsync();

    [Fact]
    public async Task Pause_all_pauses_every_serving_system_and_skips_the_others()
    {
        foreach (var name in new[] { "all-serving-a", "all-serving-b", "all-proposed" })
        {
            Assert.Equal(0, (await Cli.RunAsync("apply", "-f", Cli.Spec(name))).ExitCode);
        }
        Assert.Equal(0, (await Cli.RunAsync("decide", "all-serving-a", "pilot", "--reason", "start")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("decide", "all-serving-b", "pilot", "--reason", "start")).ExitCode);

        var pause = await Cli.RunAsync("pause", "--all", "--reason", "upstream leaking data");

        Assert.True(pause.ExitCode == 0, pause.ToString());
        Assert.Equal("", pause.Err);
        var lines = LifecycleCliTests.Lines(pause.Out);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("all-serving-a: paused (was pilot) by ", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("all-serving-b: paused (was pilot) by ", lines[1], StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+paused", (await Cli.RunAsync("status", "all-serving-a")).Out);
        Assert.Matches(@"phase:\s+paused", (await Cli.RunAsync("status", "all-serving-b")).Out);
        Assert.Matches(@"phase:\s+proposed", (await Cli.RunAsync("status", "all-proposed")).Out);

        var nothing = await Cli.RunAsync("pause", "--all", "--reason", "again");
        Assert.Equal(0, nothing.ExitCode);
        Assert.Contains("nothing to pause", nothing.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pause_all_carries_on_past_a_refusal_and_then_fails()
    {
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "olga@example.org", "--role", "owner")).ExitCode);
        var key = (await Cli.RunAsync("keys", "create", "--user", "olga@example.org", "--json")).Json().GetProperty("key").GetString();
        Assert.Equal(0, (await Cli.RunAsync("apply", "-f", Cli.Spec("theirs-a"))).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("apply", "-f", Cli.Spec("mine-b", t => t.Replace("owner: dana@example.org", "owner: olga@example.org", StringComparison.Ordinal)))).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("decide", "theirs-a", "pilot", "--reason", "start")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync("decide", "mine-b", "pilot", "--reason", "start")).ExitCode);
        // Proposed as its next owner, Olga sees theirs-a (to decide whether to accept it) but may not pause it yet.
        var handover = await Cli.RunAsync("handover", "theirs-a", "--to", "olga@example.org");
        Assert.True(handover.ExitCode == 0, handover.ToString());

        var pause = await Cli.RunAsAsync(key, "pause", "--all", "--reason", "incident");

        Assert.Equal(1, pause.ExitCode);
        var lines = LifecycleCliTests.Lines(pause.Out);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("mine-b: paused (was pilot) by olga@example.org", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("theirs-a: NOT paused: ", lines[1], StringComparison.Ordinal);
        Assert.Contains("1 of 2", pause.ErrorLine(), StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+paused", (await Cli.RunAsync("status", "mine-b")).Out);
        Assert.Matches(@"phase:\s+pilot", (await Cli.RunAsync("status", "theirs-a")).Out);

        var json = await Cli.RunAsAsync(key, "pause", "--all", "--reason", "incident", "--json");
        Assert.Equal(1, json.ExitCode);
        var failed = Assert.Single(json.Json().GetProperty("failed").EnumerateArray());
        Assert.Equal("theirs-a", failed.GetProperty("system").GetString());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _home.Dispose();
    }
}
