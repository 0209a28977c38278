using Pilotage.Cli.Serve;

namespace Pilotage.Cli.Tests;

/// <summary>The thread pool's spinning the executable turns off before the pool starts a worker.</summary>
public sealed class ThreadPoolSpinDefaultTests
{
    [Fact]
    public void Without_an_operator_value_idle_workers_do_not_spin()
    {
        var environment = new Dictionary<string, string>();

        ThreadPoolSpinDefault.Apply(name => environment.GetValueOrDefault(name), (name, value) => environment[name] = value);

        Assert.Equal("0", environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"]);
    }

    [Theory]
    [InlineData("70")]
    [InlineData("0x46")]
    public void An_operator_value_wins(string value)
    {
        var environment = new Dictionary<string, string> { ["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"] = value };

        ThreadPoolSpinDefault.Apply(name => environment.GetValueOrDefault(name), (name, written) => environment[name] = written);

        Assert.Equal(value, environment["DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"]);
    }
}
