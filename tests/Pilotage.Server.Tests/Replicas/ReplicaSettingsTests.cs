using Pilotage.Server.Replicas;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Replicas;

public sealed class ReplicaSettingsTests
{
    private static Func<string, string?> Env(string? listen, string? seconds) => name => name switch
    {
        "PILOTAGE_REPLICA_LISTEN" => listen,
        "PILOTAGE_REPLICA_CHECK_SECONDS" => seconds,
        _ => null,
    };

    [Fact]
    public void Defaults_listen_and_check_every_five_seconds()
    {
        var options = ReplicaOptions.FromEnvironment(Env(null, null));
        Assert.True(options.Listen);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CheckInterval);
        var off = ReplicaOptions.FromEnvironment(Env("off", "0.5"));
        Assert.False(off.Listen);
        Assert.Equal(TimeSpan.FromMilliseconds(500), off.CheckInterval);
    }

    [Theory]
    [InlineData("maybe", null, "PILOTAGE_REPLICA_LISTEN is 'maybe'")]
    [InlineData(null, "0", "between 0.2 and 3600")]
    [InlineData(null, "five", "PILOTAGE_REPLICA_CHECK_SECONDS is 'five'")]
    public void Bad_settings_say_what_is_wrong_and_what_to_give(string? listen, string? seconds, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ReplicaOptions.FromEnvironment(Env(listen, seconds)));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_server_on_the_same_SQLite_file_is_told_that_SQLite_is_single_replica()
    {
        using var folder = new TempDirectory();
        var database = folder.File("pilotage.db");
        await using var first = await ServerProcess.StartAsync(database);
        Assert.DoesNotContain("already serving", first.Output, StringComparison.Ordinal);
        await using var second = await ServerProcess.StartAsync(database);
        for (var i = 0; i < 50 && !second.Output.Contains("already serving", StringComparison.Ordinal); i++) await Task.Delay(100);
        Assert.Contains("Another Pilotage server is already serving the SQLite store", second.Output, StringComparison.Ordinal);
        Assert.Contains("single-replica", second.Output, StringComparison.Ordinal);
    }
}
