using Pilotage.Server.Gateway.Allowances;
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
    public void Shared_limits_default_to_giving_back_every_half_second_and_ten_second_leases()
    {
        var options = AllowanceOptions.FromEnvironment(_ => null);
        Assert.Equal(TimeSpan.FromSeconds(0.5), options.ReturnInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), options.LeaseTime);
        var fast = AllowanceOptions.FromEnvironment(name => name == "PILOTAGE_LIMIT_RETURN_SECONDS" ? "0.2" : "1");
        Assert.Equal(TimeSpan.FromSeconds(0.2), fast.ReturnInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), fast.LeaseTime);
    }

    [Theory]
    [InlineData("PILOTAGE_LIMIT_RETURN_SECONDS", "2", "PILOTAGE_LIMIT_RETURN_SECONDS is '2'; give a number of seconds between 0.05 and 0.5")]
    [InlineData("PILOTAGE_LIMIT_LEASE_SECONDS", "soon", "PILOTAGE_LIMIT_LEASE_SECONDS is 'soon'; give a number of seconds between 0.5 and 600")]
    public void Bad_limit_settings_say_what_is_wrong_and_what_to_give(string name, string value, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => AllowanceOptions.FromEnvironment(n => n == name ? value : null));
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
