using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary><c>pilotage handover</c>, <c>hold</c> and <c>purge</c> against the shared server.</summary>
[Collection(ServerCollection.Name)]
public sealed class OwnershipRetentionCliTests(ServerFixture server) : IAsyncLifetime
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

    [Fact]
    public async Task Handover_moves_ownership_only_when_the_new_owner_accepts()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "cli-handover");
        Assert.Equal(0, (await Cli.RunAsync("users", "add", "cli-heir@example.org", "--role", "owner")).ExitCode);
        var heirKey = (await Cli.RunAsync("keys", "create", "--user", "cli-heir@example.org", "--json")).Json().GetProperty("key").GetString()!;

        var usage = await Cli.RunAsync("handover", system.Slug);
        Assert.Equal(2, usage.ExitCode);
        var proposed = await Cli.RunAsAsync(system.OwnerKey, "handover", system.Slug, "--to", "cli-heir@example.org", "--reason", "moving teams");
        Assert.True(proposed.ExitCode == 0, proposed.ToString());
        Assert.Contains("handover to cli-heir@example.org proposed", proposed.Out, StringComparison.Ordinal);
        var notYet = await Cli.RunAsync("status", system.Slug);
        Assert.Contains("handover to cli-heir@example.org pending", notYet.Out, StringComparison.Ordinal);

        var accepted = await Cli.RunAsAsync(heirKey, "handover", system.Slug, "--accept");
        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        Assert.Contains($"{system.Slug}: owned by cli-heir@example.org", accepted.Out, StringComparison.Ordinal);
        var oldOwner = await Cli.RunAsAsync(system.OwnerKey, "pause", system.Slug, "--reason", "x");
        Assert.NotEqual(0, oldOwner.ExitCode);
    }

    [Fact]
    public async Task A_legal_hold_blocks_purge_until_released()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "cli-hold");
        await system.AskAsync(server, "Where is my parcel?");
        Assert.Equal(2, (await Cli.RunAsync("hold", system.Slug)).ExitCode);
        var held = await Cli.RunAsync("hold", system.Slug, "--reason", "complaint 7");
        Assert.True(held.ExitCode == 0, held.ToString());
        Assert.Contains("under legal hold (complaint 7)", held.Out, StringComparison.Ordinal);

        var blocked = await Cli.RunAsAsync(system.OwnerKey, "purge", system.Slug, "--older-than", "1");
        Assert.NotEqual(0, blocked.ExitCode);
        Assert.Contains("legal hold", blocked.ErrorLine(), StringComparison.Ordinal);

        Assert.Equal(0, (await Cli.RunAsync("hold", system.Slug, "--release")).ExitCode);
        var purged = await Cli.RunAsAsync(system.OwnerKey, "purge", system.Slug, "--older-than", "1");
        Assert.True(purged.ExitCode == 0, purged.ToString());
        Assert.Contains("content older than 1 days blanked: 0 interactions", purged.Out, StringComparison.Ordinal);
        var json = await Cli.RunAsAsync(system.OwnerKey, "purge", system.Slug, "--older-than", "1", "--json");
        Assert.Equal(1, json.Json().GetProperty("olderThanDays").GetInt32());
    }
}
