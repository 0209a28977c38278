using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class SystemsCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Apply_notes_under_the_system_each_custom_pattern_that_runs_with_a_timeout()
    {
        var spec = Cli.Spec("apply-timed-pattern", text => text.Replace(
            "dataBoundary: { block: [credit_card, iban], redact: [email, phone] }",
            "dataBoundary: { block: [credit_card], redact: [ticket, order], detectors: [ { name: ticket, pattern: 'T-[0-9]{4}' }, { name: order, pattern: 'O-[0-9]+(?![0-9])' } ] }",
            StringComparison.Ordinal));

        var apply = await Cli.RunAsync("apply", "-f", spec);

        Assert.True(apply.ExitCode == 0, apply.ToString());
        var lines = apply.Out.Trim().Split('\n');
        Assert.Equal("apply-timed-pattern created (config v1)", lines[0]);
        var note = Assert.Single(lines[1..]);
        Assert.StartsWith("  note: data boundary detector 'order' runs on the backtracking engine because it uses ", note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_of_the_example_creates_it_and_status_shows_it_proposed_with_its_owner()
    {
        var spec = Cli.Spec("apply-create");

        var apply = await Cli.RunAsync("apply", "-f", spec);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Equal("apply-create created (config v1)", apply.Out.Trim());
        Assert.Equal("", apply.Err);

        var list = await Cli.RunAsync("status");
        Assert.True(list.ExitCode == 0, list.ToString());
        var row = list.Out.Split('\n').Single(l => l.StartsWith("apply-create ", StringComparison.Ordinal));
        Assert.Contains("proposed", row, StringComparison.Ordinal);
        Assert.Contains("dana@example.org", row, StringComparison.Ordinal);
        Assert.Contains("medium", row, StringComparison.Ordinal);
        Assert.StartsWith("SYSTEM", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", list.Out, StringComparison.Ordinal); // no colour when redirected

        var detail = await Cli.RunAsync("status", "apply-create");
        Assert.True(detail.ExitCode == 0, detail.ToString());
        Assert.Contains("owner:", detail.Out, StringComparison.Ordinal);
        Assert.Contains("dana@example.org", detail.Out, StringComparison.Ordinal);
        Assert.Contains("Draft replies to customer support tickets", detail.Out, StringComparison.Ordinal);
        Assert.Matches(@"phase:\s+proposed", detail.Out);
        Assert.Matches(@"config version:\s+v1", detail.Out);
        Assert.Matches(@"spec hash:\s+\S{16,}", detail.Out);
        Assert.Contains("recommendation:", detail.Out, StringComparison.Ordinal);
        // dana@example.org has no account here: the seed's "skipping ownership" mistake is shown.
        Assert.Contains("warning: Skipping ownership", detail.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_apply_changes_nothing()
    {
        var spec = Cli.Spec("apply-twice");
        Assert.Equal(0, (await Cli.RunAsync("apply", "-f", spec)).ExitCode);

        var again = await Cli.RunAsync("apply", "-f", spec);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(["apply-twice unchanged", "no changes"], Lines(again.Out));
    }

    [Fact]
    public async Task Diff_shows_an_edited_field_and_apply_then_reports_the_update()
    {
        var spec = Cli.Spec("diff-edit");
        Assert.Equal(0, (await Cli.RunAsync("apply", "-f", spec)).ExitCode);

        var same = await Cli.RunAsync("diff", "-f", spec, "--exit-code");
        Assert.True(same.ExitCode == 0, same.ToString());
        Assert.Equal(["diff-edit: none", "no changes"], Lines(same.Out));

        Cli.Spec("diff-edit", t => t.Replace("temperature: 0.2", "temperature: 0.4", StringComparison.Ordinal));
        var diff = await Cli.RunAsync("diff", "-f", spec);
        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.Contains("diff-edit: update (config v2)", diff.Out, StringComparison.Ordinal);
        Assert.Contains("  ~ spec.config.temperature: 0.2 → 0.4", diff.Out, StringComparison.Ordinal);

        var strict = await Cli.RunAsync("diff", "-f", spec, "--exit-code");
        Assert.Equal(3, strict.ExitCode);

        var apply = await Cli.RunAsync("apply", "-f", spec);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        Assert.Equal("diff-edit updated (config v2): 1 change", apply.Out.Trim());
    }

    [Fact]
    public async Task Diff_of_a_new_system_lists_its_fields_as_additions()
    {
        var diff = await Cli.RunAsync("diff", "-f", Cli.Spec("diff-new"));

        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.StartsWith("diff-new: create (config v1)", diff.Out, StringComparison.Ordinal);
        Assert.Contains("  + spec.owner: dana@example.org", diff.Out, StringComparison.Ordinal);
        Assert.Equal(1, (await Cli.RunAsync("status", "diff-new")).ExitCode); // diff applied nothing
    }

    [Fact]
    public async Task An_invalid_spec_prints_each_located_error_and_the_server_gets_nothing()
    {
        var spec = Cli.Spec("invalid-spec", t => t
            .Replace("risk: medium", "risk: extreme", StringComparison.Ordinal)
            .Replace("metric: acceptance_rate, min: 0.8", "metric: happiness, min: 0.8", StringComparison.Ordinal));
        var auditBefore = (await Cli.RunAsync("audit", "verify", "--json")).Json().GetProperty("entries").GetInt64();

        var apply = await Cli.RunAsync("apply", "-f", spec);

        Assert.True(apply.ExitCode == 1, apply.ToString());
        var errors = Lines(apply.Out);
        Assert.True(errors.Length >= 2, apply.ToString());
        Assert.All(errors, e => Assert.Matches(@"^invalid-spec\.yaml: \S+: .+ at line \d+, column \d+$", e));
        Assert.Contains(errors, e => e.Contains("spec.risk", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("happiness", StringComparison.Ordinal));
        Assert.Equal($"error: {errors.Length} problems in the spec; nothing was applied", apply.ErrorLine());

        Assert.Equal(1, (await Cli.RunAsync("status", "invalid-spec")).ExitCode);
        Assert.Equal(auditBefore, (await Cli.RunAsync("audit", "verify", "--json")).Json().GetProperty("entries").GetInt64());
    }

    [Fact]
    public async Task An_invalid_spec_with_json_gives_the_errors_as_json()
    {
        var spec = Cli.Spec("invalid-json", t => t.Replace("risk: medium", "risk: extreme", StringComparison.Ordinal));

        var apply = await Cli.RunAsync("apply", "-f", spec, "--json");

        Assert.Equal(1, apply.ExitCode);
        var error = Assert.Single(apply.Json().GetProperty("errors").EnumerateArray());
        Assert.Equal("spec.risk", error.GetProperty("path").GetString());
        Assert.True(error.GetProperty("line").GetInt32() > 0);
        apply.ErrorLine();
    }

    [Fact]
    public async Task A_folder_and_repeated_files_are_applied_together_and_json_parses()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home.Path, "specs")).FullName;
        Cli.Spec("folder-b", file: Path.Combine("specs", "b.yaml"));
        Cli.Spec("folder-a", file: Path.Combine("specs", "a.yml"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a spec");
        var single = Cli.Spec("folder-c");

        var apply = await Cli.RunAsync("apply", "-f", folder, "-f", single, "--json");

        Assert.True(apply.ExitCode == 0, apply.ToString());
        var json = apply.Json();
        Assert.True(json.GetProperty("changed").GetBoolean());
        Assert.Equal(["folder-a", "folder-b", "folder-c"], json.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("slug").GetString()!).ToArray());
        Assert.All(json.GetProperty("results").EnumerateArray(), r => Assert.Equal("created", r.GetProperty("action").GetString()));

        var diff = await Cli.RunAsync("diff", "-f", folder, "--json");
        Assert.False(diff.Json().GetProperty("changed").GetBoolean());

        var status = await Cli.RunAsync("status", "--json");
        Assert.Contains(status.Json().EnumerateArray(), s => s.GetProperty("slug").GetString() == "folder-a");
        var one = await Cli.RunAsync("status", "folder-a", "--json");
        Assert.Equal("proposed", one.Json().GetProperty("system").GetProperty("phase").GetString());
    }

    [Fact]
    public async Task A_missing_file_is_reported_without_contacting_the_server()
    {
        var apply = await Cli.RunAsAsync(null, "apply", "-f", Path.Combine(_home.Path, "nope.yaml"), "--server", "http://127.0.0.1:1");

        Assert.Equal(1, apply.ExitCode);
        Assert.Contains("file not found", apply.Out, StringComparison.Ordinal);
        Assert.Equal("error: 1 problem in the spec; nothing was applied", apply.ErrorLine());
    }

    [Fact]
    public async Task Status_of_an_unknown_system_says_so()
    {
        var status = await Cli.RunAsync("status", "no-such-system");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("no system 'no-such-system'", status.ErrorLine(), StringComparison.Ordinal);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public void Dispose() => _home.Dispose();
}
