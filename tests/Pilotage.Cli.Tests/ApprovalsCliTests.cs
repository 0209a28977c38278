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
    public void Serve_logs_warnings_only_unless_verbose()
    {
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>(), interactive: false);

        Assert.Equal(LogLevel.Warning, ServeCommand.Options(console, null, null, verbose: false).LogLevel);
        Assert.Equal(LogLevel.Information, ServeCommand.Options(console, null, null, verbose: true).LogLevel);
        Assert.Same(TextWriter.Null, ServeCommand.Options(console, null, null, verbose: false).Announce);
    }

    public void Dispose() => _home.Dispose();
}
