using System.Net.Http.Headers;
using System.Text;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary><c>pilotage status</c> shows what needs attention, as the dashboard does, with the figure and where to act.</summary>
[Collection(ServerCollection.Name)]
public sealed class AttentionCliTests(ServerFixture server) : IAsyncLifetime
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
    public async Task Status_names_a_system_whose_every_request_fails_upstream_with_the_rate_and_the_link()
    {
        var system = await PilotSystem.CreateAsync(Cli, _home, _upstream, "attention-failing");
        var quiet = await Cli.RunAsync("status", system.Slug);
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Contains("nothing needs attention", quiet.Out, StringComparison.Ordinal);

        _upstream.Behaviour = UpstreamBehaviour.ServerError;
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", system.OwnerKey);
        for (var i = 0; i < 3; i++)
        {
            var body = $$"""{"model":"{{system.Slug}}","messages":[{"role":"user","content":"hi"}]}""";
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(System.Net.HttpStatusCode.BadGateway, response.StatusCode);
        }

        var host = new Uri(_upstream.BaseUrl).Authority;
        var expected = $"bad: 3 of 3 upstream calls to {host} failed in the last 24 h (100 %; upstream_error 3)";
        var one = await Cli.RunAsync("status", system.Slug);
        Assert.True(one.ExitCode == 0, one.ToString());
        var line = Assert.Single(LifecycleCliTests.Lines(one.Out), l => l.StartsWith(expected, StringComparison.Ordinal));
        Assert.EndsWith($"({server.Url}/dashboard/systems/{system.Slug}/report?handler=Full#controls)", line, StringComparison.Ordinal);

        var all = await Cli.RunAsync("status");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains(LifecycleCliTests.Lines(all.Out), l => l.StartsWith($"bad: {system.Slug}: 3 of 3 upstream calls to {host} failed", StringComparison.Ordinal));
    }
}
