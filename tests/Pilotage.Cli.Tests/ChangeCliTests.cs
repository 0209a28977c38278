using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// Change control from the command line: apply opens a change request, the regression gate refuses
/// a candidate that answers worse (the fake model really answers worse to the new prompt), and four-eyes.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed partial class ChangeCliTests(ServerFixture server) : IAsyncLifetime
{
    private readonly TempDirectory _home = new("pilotage-cli-home");
    private FakeUpstream _upstream = null!;

    private Cli Cli => new(server, _home);

    private const string PoliteSpecPrompt = "systemPrompt: You draft polite replies to support tickets.";
    private const string PiratePrompt = "systemPrompt: You answer in pirate speak.";

    private const string Cases = """
        apiVersion: pilotage/v1
        kind: TestSet
        metadata: { name: refunds }
        spec:
          cases:
            - { id: late, category: normal, prompt: My parcel is late. Can I get a refund?, expect: { contains: [refund] } }
            - { id: broken, category: normal, prompt: The mug arrived broken., expect: { contains: [refund] } }
            - { id: twice, category: edge, prompt: I was charged twice., expect: { contains: [refund] } }
            - { id: wrong, category: edge, prompt: You sent the wrong size., expect: { contains: [refund] } }
        """;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        // The candidate prompt makes the model worse: it stops offering refunds.
        _upstream.Answerer = body => body.ToJsonString().Contains("pirate", StringComparison.Ordinal)
            ? "Arr, the sea took yer parcel."
            : "Sorry about that; we will refund the order within 5 days.";
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _home.Dispose();
    }

    [GeneratedRegex(@"change request (\d+) opened")]
    private static partial Regex Opened();

    private async Task<(PilotSystem System, string SpecFile)> ProductionSystemAsync(string slug, string risk, string extra)
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, slug);
        var file = _home.File(slug + ".yaml");
        var yaml = (await File.ReadAllTextAsync(file)).Replace("risk: low", $"risk: {risk}", StringComparison.Ordinal) + extra;
        await File.WriteAllTextAsync(file, yaml);
        var apply = await Cli.RunAsync("apply", "-f", file);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        // Past the pilot through the store: proceeding needs evidence the lifecycle tests cover elsewhere.
        await using (var connection = new SqliteConnection($"Data Source={server.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE ai_systems SET phase = 'Production', stage = 0, last_decision = 'Proceed' WHERE slug = $slug";
            command.Parameters.AddWithValue("$slug", slug);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        return (system, file);
    }

    private async Task<long> RequestPirateAsync(PilotSystem system, string file)
    {
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace(PoliteSpecPrompt, PiratePrompt, StringComparison.Ordinal));
        var requested = await Cli.RunAsAsync(system.OwnerKey, "apply", "-f", file);
        Assert.True(requested.ExitCode == 0, requested.ToString());
        Assert.Contains("spec.config.systemPrompt: You draft polite replies to support tickets. -> You answer in pirate speak.", requested.Out, StringComparison.Ordinal);
        return long.Parse(Opened().Match(requested.Out).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Regression_gate_refuses_a_candidate_that_answers_worse_and_the_prompt_in_force_stays()
    {
        var (system, file) = await ProductionSystemAsync("change-gate", "low", """

              changeControl:
                regressionGate: { testSet: refunds, maxPassRateDrop: 0.05 }
            """);
        var cases = _home.File("refunds.yaml");
        await File.WriteAllTextAsync(cases, Cases);
        var baseline = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", cases);
        Assert.True(baseline.ExitCode == 0, baseline.ToString());
        Assert.Contains(LifecycleCliTests.Lines(baseline.Out), l => Regex.IsMatch(l, @"^all\s+4\s+0\s+0\s+0\s+100\.0 %$"));

        var id = await RequestPirateAsync(system, file);
        var number = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var approve = await Cli.RunAsync("change", "approve", number, "--reason", "try it");
        Assert.True(approve.ExitCode == 0, approve.ToString());
        Assert.Contains($"change request {number} of {system.Slug} is approved", approve.Out, StringComparison.Ordinal);

        var candidate = await Cli.RunAsAsync(system.OwnerKey, "eval", system.Slug, "--set", cases, "--change", number);
        Assert.True(candidate.ExitCode == 0, candidate.ToString());
        Assert.Contains(LifecycleCliTests.Lines(candidate.Out), l => Regex.IsMatch(l, @"^all\s+0\s+4\s+0\s+0\s+0\.0 %$"));

        var refused = await Cli.RunAsAsync(system.OwnerKey, "change", "apply", number);
        Assert.NotEqual(0, refused.ExitCode);
        var error = refused.ErrorLine();
        Assert.Contains("pass_rate", error, StringComparison.Ordinal);
        Assert.Contains("from 1 ", error, StringComparison.Ordinal);
        Assert.Contains("to 0 ", error, StringComparison.Ordinal);

        // The prompt in force is still the polite one: real traffic still gets refunds.
        await system.AskAsync(server, "My parcel is late.");
        Assert.Contains("polite replies", _upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);

        var list = await Cli.RunAsync("changes", system.Slug);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(LifecycleCliTests.Lines(list.Out), l => l.StartsWith(number + " ", StringComparison.Ordinal) && l.Contains("approved", StringComparison.Ordinal) && l.Contains("refused", StringComparison.Ordinal));
        var shown = await Cli.RunAsync("change", "show", number, "--json");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.False(shown.Json().GetProperty("gate").GetProperty("passed").GetBoolean());
        Assert.Equal(0.0, shown.Json().GetProperty("gate").GetProperty("candidatePassRate").GetDouble());
    }

    [Fact]
    public async Task High_risk_change_needs_a_second_person_then_applies_and_versions_compare_side_by_side()
    {
        var (system, file) = await ProductionSystemAsync("change-four-eyes", "high", "");
        var id = await RequestPirateAsync(system, file);
        var number = id.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var self = await Cli.RunAsAsync(system.OwnerKey, "change", "approve", number);
        Assert.NotEqual(0, self.ExitCode);
        Assert.Contains("four eyes", self.ErrorLine(), StringComparison.Ordinal);
        var reject = await Cli.RunAsync("change", "reject", number);
        Assert.Equal(2, reject.ExitCode);

        Assert.Equal(0, (await Cli.RunAsync("change", "approve", number, "--reason", "second pair of eyes")).ExitCode);
        var applied = await Cli.RunAsAsync(system.OwnerKey, "change", "apply", number);
        Assert.True(applied.ExitCode == 0, applied.ToString());
        Assert.Contains($"change request {number} applied: {system.Slug} now serves config v2", applied.Out, StringComparison.Ordinal);
        await system.AskAsync(server, "My parcel is late.");
        Assert.Contains("pirate", _upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);

        var byVersion = await Cli.RunAsync("metrics", system.Slug, "--by-version");
        Assert.True(byVersion.ExitCode == 0, byVersion.ToString());
        var header = LifecycleCliTests.Lines(byVersion.Out)[0];
        Assert.Matches(@"^METRIC\s+v1\s+v2 \*$", header);
        Assert.Contains(LifecycleCliTests.Lines(byVersion.Out), l => l.StartsWith("error_rate", StringComparison.Ordinal) && l.Contains("0 % (1 sample)", StringComparison.Ordinal));
    }
}
