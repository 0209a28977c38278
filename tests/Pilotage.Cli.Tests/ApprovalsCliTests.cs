using Microsoft.Extensions.Logging;
using Pilotage.Cli.Client;
using Pilotage.Cli.Serve;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

[Collection(ServerCollection.Name)]
public sealed class ApprovalsCliTests(ServerFixture server) : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-home");

    private Cli Cli => new(server, _home);

    [Fact]
    public async Task Approvals_on_an_empty_queue_prints_a_friendly_line()
    {
        var list = await Cli.RunAsync("approvals", "--system", "approvals-nothing-held");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("no answers waiting for approval for approvals-nothing-held; nothing to review", list.Out.Trim());

        var released = await Cli.RunAsync("approvals", "--system", "approvals-nothing-held", "--state", "released");
        Assert.Equal("no released answers for approvals-nothing-held", released.Out.Trim());

        var json = await Cli.RunAsync("approvals", "--system", "approvals-nothing-held", "--json");
        Assert.Empty(json.Json().EnumerateArray());
    }

    [Fact]
    public async Task Approvals_state_must_be_a_known_one()
    {
        var list = await Cli.RunAsAsync(null, "approvals", "--state", "lost", "--server", "http://127.0.0.1:1");

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("lost", list.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_without_a_reason_is_refused_before_asking_the_server()
    {
        var reject = await Cli.RunAsAsync(null, "approvals", "reject", "int_123", "--server", "http://127.0.0.1:1");

        Assert.Equal(2, reject.ExitCode);
        Assert.Contains("a rejection needs a reason", reject.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Release_or_reject_of_an_unknown_id_says_so()
    {
        var release = await Cli.RunAsync("approvals", "release", "no-such-interaction");
        Assert.Equal(1, release.ExitCode);
        Assert.Contains("no held answer 'no-such-interaction'", release.ErrorLine(), StringComparison.Ordinal);

        var reject = await Cli.RunAsync("approvals", "reject", "no-such-interaction", "--reason", "wrong tone");
        Assert.Equal(1, reject.ExitCode);
        Assert.Contains("no held answer 'no-such-interaction'", reject.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_owner_who_asked_cannot_release_their_own_held_answer_and_someone_else_can()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var system = await PilotSystem.CreateAsync(Cli, _home, upstream, "approvals-four-eyes", mode: "approval");
        var held = await system.AskAsync(server, "Can I get a refund?");

        // The owner's own question, released with the owner's own key: refused, whatever the role.
        var own = await Cli.RunAsAsync(system.OwnerKey, "approvals", "release", held);
        Assert.Equal(1, own.ExitCode);
        var error = own.ErrorLine();
        Assert.Contains("four eyes", error, StringComparison.Ordinal);
        Assert.Contains(system.OwnerEmail, error, StringComparison.Ordinal);
        var still = await PilotSystem.GetAsync(server, $"/api/v1/interactions/{held}");
        Assert.Equal("pending", still.GetProperty("approval").GetProperty("state").GetString());

        var released = await Cli.RunAsync("approvals", "release", held);
        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Equal("released", (await PilotSystem.GetAsync(server, $"/api/v1/interactions/{held}")).GetProperty("approval").GetProperty("state").GetString());
    }

    [Fact]
    public void Serve_logs_warnings_only_unless_verbose()
    {
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>(), interactive: false);

        Assert.Equal(LogLevel.Warning, ServeCommand.Options(console, null, null, verbose: false).LogLevel);
        Assert.Equal(LogLevel.Information, ServeCommand.Options(console, null, null, verbose: true).LogLevel);
        Assert.Same(TextWriter.Null, ServeCommand.Options(console, null, null, verbose: false).Announce);
    }

    public void Dispose() => _home.Dispose();
}
