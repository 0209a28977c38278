using Pilotage.Cli.Serve;

namespace Pilotage.Cli.Tests;

/// <summary>The runtime settings the executable gives itself before the runtime reads them.</summary>
public sealed class RuntimeDefaultsTests
{
    [Fact]
    public void Without_operator_values_the_pool_keeps_1024_arrays_of_a_size_per_core_and_idle_workers_do_not_spin()
    {
        var environment = new Dictionary<string, string>();

        RuntimeDefaults.Apply(name => environment.GetValueOrDefault(name), (name, value) => environment[name] = value);

        Assert.Equal("1024", environment["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"]);
        Assert.Equal("0", environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"]);
        Assert.Equal(2, environment.Count);
    }

    [Theory]
    [InlineData("DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION", "32")]
    [InlineData("DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION", "256")]
    [InlineData("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "70")]
    [InlineData("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0x46")]
    public void An_operator_value_wins_and_the_other_default_still_applies(string variable, string value)
    {
        var environment = new Dictionary<string, string> { [variable] = value };

        RuntimeDefaults.Apply(name => environment.GetValueOrDefault(name), (name, written) => environment[name] = written);

        Assert.Equal(value, environment[variable]);
        Assert.Equal(2, environment.Count);
    }
}
