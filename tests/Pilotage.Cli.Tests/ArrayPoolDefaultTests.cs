using Pilotage.Cli.Serve;

namespace Pilotage.Cli.Tests;

/// <summary>The shared array pool's retention the executable sets before anything rents from the pool.</summary>
public sealed class ArrayPoolDefaultTests
{
    [Fact]
    public void Without_an_operator_value_the_pool_keeps_1024_arrays_of_a_size_per_core()
    {
        var environment = new Dictionary<string, string>();

        ArrayPoolDefault.Apply(name => environment.GetValueOrDefault(name), (name, value) => environment[name] = value);

        Assert.Equal("1024", environment["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"]);
    }

    [Theory]
    [InlineData("32")]
    [InlineData("256")]
    public void An_operator_value_wins(string value)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"] = value };

        ArrayPoolDefault.Apply(name => environment.GetValueOrDefault(name), (name, written) => environment[name] = written);

        Assert.Equal(value, environment["DOTNET_SYSTEM_BUFFERS_SHAREDARRAYPOOL_MAXARRAYSPERPARTITION"]);
    }
}
