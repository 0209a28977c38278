using System.Net;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Pilotage.Cli.Client;
using Pilotage.Cli.Serve;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

public sealed class ServeCliTests : IDisposable
{
    private readonly TempDirectory _home = new("pilotage-cli-serve");

    [Fact]
    public async Task A_bad_db_value_is_a_one_line_usage_error()
    {
        var serve = await Cli.RunWithAsync(new Dictionary<string, string?>(), "serve", "--db", "postgresql://pilotage@db/pilotage", "--urls", "http://127.0.0.1:0");

        Assert.Equal(2, serve.ExitCode);
        Assert.Contains("PostgreSQL URLs are not supported", serve.ErrorLine(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_PILOTAGE_GC_LATENCY_is_a_one_line_usage_error_that_names_the_choices()
    {
        var serve = await Cli.RunWithAsync(new Dictionary<string, string?> { ["PILOTAGE_GC_LATENCY"] = "fast" }, "serve", "--db", _home.File("gc.db"), "--urls", "http://127.0.0.1:0");

        Assert.Equal(2, serve.ExitCode);
        Assert.Contains("PILOTAGE_GC_LATENCY must be 'sustained' (the default) or 'interactive', not 'fast'", serve.ErrorLine(), StringComparison.Ordinal);
        Assert.False(File.Exists(_home.File("gc.db")), "nothing is started on a setting that cannot be read");
    }

    [Fact]
    public async Task An_identity_provider_over_plain_http_elsewhere_than_loopback_stops_the_start_with_the_reason()
    {
        var serve = await Cli.RunWithAsync(new Dictionary<string, string?>(), "serve", "--db", _home.File("oidc.db"), "--urls", "http://127.0.0.1:0",
            "--oidc-authority", "http://login.example.org/realms/acme", "--oidc-audience", "api://pilotage");

        Assert.Equal(2, serve.ExitCode);
        Assert.Contains("--oidc-authority must use https", serve.ErrorLine(), StringComparison.Ordinal);
        Assert.False(File.Exists(_home.File("oidc.db")), "nothing is started on a provider that cannot be trusted");
    }

    [Fact]
    public async Task A_client_secret_variable_that_is_not_set_is_named()
    {
        var serve = await Cli.RunWithAsync(new Dictionary<string, string?>(), "serve", "--db", _home.File("oidc2.db"), "--urls", "http://127.0.0.1:0",
            "--oidc-authority", "https://login.example.org/realms/acme", "--oidc-client-id", "pilotage", "--oidc-client-secret-env", "PILOTAGE_TEST_NO_SUCH_SECRET");

        Assert.Equal(2, serve.ExitCode);
        Assert.Contains("PILOTAGE_TEST_NO_SUCH_SECRET", serve.ErrorLine(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, System.Runtime.GCLatencyMode.SustainedLowLatency)]
    [InlineData("sustained", System.Runtime.GCLatencyMode.SustainedLowLatency)]
    [InlineData(" Interactive ", System.Runtime.GCLatencyMode.Interactive)]
    public void PILOTAGE_GC_LATENCY_chooses_the_collectors_latency_mode(string? value, System.Runtime.GCLatencyMode expected)
    {
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?> { ["PILOTAGE_GC_LATENCY"] = value }, interactive: false);

        Assert.Equal(expected, ServeCommand.Options(console, null, null, verbose: false).GcLatency);
    }

    [Fact]
    public async Task Serve_runs_until_cancelled_and_then_exits_cleanly()
    {
        var port = FreePort();
        var environment = new Dictionary<string, string?>
        {
            ["PILOTAGE_DB"] = _home.File("serve.db"),
            ["PILOTAGE_ADMIN_TOKEN"] = "serve-admin-token",
            ["XDG_CONFIG_HOME"] = _home.Path,
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var serving = Task.Run(() => CliApp.RunAsync(["serve", "--urls", $"http://127.0.0.1:{port}"], TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), environment, cancellationToken: stop.Token));

        var client = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = $"http://127.0.0.1:{port}", ["PILOTAGE_TOKEN"] = "serve-admin-token" };
        CliResult status;
        do
        {
            await Task.Delay(100);
            status = await Cli.RunWithAsync(client, "status");
        }
        while (status.ExitCode != 0 && !serving.IsCompleted && !stop.IsCancellationRequested);
        Assert.True(status.ExitCode == 0, status + "\n--- serve\n" + stdout + stderr);
        Assert.Contains("no AI systems yet", status.Out, StringComparison.Ordinal);

        await stop.CancelAsync();
        Assert.Equal(0, await serving);
        Assert.Contains($"Pilotage is serving on http://127.0.0.1:{port}", stdout.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stderr.ToString());
    }

    [Theory]
    [InlineData("--upstream-secret", "PILOTAGE_ADMIN_TOKEN", "are Pilotage's own settings")]
    [InlineData("--upstream-secret", "OPENAI API KEY", "write the name of an environment variable")]
    [InlineData("--upstream-allow", "10.0.0.0/40", "is not a network")]
    [InlineData("--upstream-allow", "not a host!", "is neither a network")]
    public async Task A_bad_upstream_list_entry_is_a_one_line_usage_error(string flag, string entry, string expected)
    {
        var database = _home.File("lists.db");
        var serve = await Cli.RunWithAsync(new Dictionary<string, string?>(), "serve", "--db", database, "--urls", "http://127.0.0.1:0", flag, entry);

        Assert.Equal(2, serve.ExitCode);
        Assert.Contains(flag, serve.ErrorLine(), StringComparison.Ordinal);
        Assert.Contains(expected, serve.ErrorLine(), StringComparison.Ordinal);
        Assert.False(File.Exists(database), "nothing is started on a list that cannot be read");
    }

    [Theory]
    [InlineData(null, 500)]
    [InlineData("2000", 2000)]
    public void PILOTAGE_DATA_BOUNDARY_BUDGET_MS_sets_the_budget_of_custom_patterns(string? value, int milliseconds)
    {
        var console = new CliConsole(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?> { ["PILOTAGE_DATA_BOUNDARY_BUDGET_MS"] = value }, interactive: false);

        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), ServeCommand.Options(console, null, null, verbose: false).DataBoundaryBudget);
    }

    [Fact]
    public async Task Serve_applies_the_operators_upstream_lists_from_its_flags()
    {
        var port = FreePort();
        var environment = new Dictionary<string, string?>
        {
            ["PILOTAGE_DB"] = _home.File("upstreams.db"),
            ["PILOTAGE_ADMIN_TOKEN"] = "serve-admin-token",
            ["XDG_CONFIG_HOME"] = _home.Path,
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var serving = Task.Run(() => CliApp.RunAsync(
            ["serve", "--urls", $"http://127.0.0.1:{port}", "--upstream-secret", "TEAM_MODEL_TOKEN", "--upstream-secret", "OPENAI_API_KEY=api.openai.com", "--upstream-allow", "127.0.0.1/32"],
            TextWriter.Synchronized(stdout), TextWriter.Synchronized(stderr), environment, cancellationToken: stop.Token));
        var client = new Dictionary<string, string?> { ["PILOTAGE_SERVER"] = $"http://127.0.0.1:{port}", ["PILOTAGE_TOKEN"] = "serve-admin-token", ["XDG_CONFIG_HOME"] = _home.Path };
        CliResult status;
        do
        {
            await Task.Delay(100);
            status = await Cli.RunWithAsync(client, "status");
        }
        while (status.ExitCode != 0 && !serving.IsCompleted && !stop.IsCancellationRequested);
        Assert.True(status.ExitCode == 0, status + "\n--- serve\n" + stdout + stderr);

        var listed = await Cli.RunWithAsync(client, "apply", "-f", SpecFile("listed", "http://127.0.0.1:9/v1", "TEAM_MODEL_TOKEN"));
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var unlisted = await Cli.RunWithAsync(client, "apply", "-f", SpecFile("unlisted", "http://127.0.0.1:9/v1", "MISTRAL_API_KEY"));
        Assert.NotEqual(0, unlisted.ExitCode);
        Assert.Contains("upstream.apiKeyEnv", unlisted.Out + unlisted.Err, StringComparison.Ordinal);
        var bound = await Cli.RunWithAsync(client, "apply", "-f", SpecFile("bound", "http://127.0.0.1:9/v1", "OPENAI_API_KEY"));
        Assert.Contains("sends only to api.openai.com", bound.Out + bound.Err, StringComparison.Ordinal);
        var elsewhere = await Cli.RunWithAsync(client, "apply", "-f", SpecFile("elsewhere", "http://10.0.0.7:8000/v1", "TEAM_MODEL_TOKEN"));
        Assert.Contains("upstream.baseUrl", elsewhere.Out + elsewhere.Err, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1/32", elsewhere.Out + elsewhere.Err, StringComparison.Ordinal);

        await stop.CancelAsync();
        Assert.Equal(0, await serving);
    }

    private string SpecFile(string name, string baseUrl, string variable)
    {
        var path = _home.File(name + ".yaml");
        File.WriteAllText(path, $"""
            apiVersion: pilotage/v1
            kind: AiSystem
            metadata:
              name: {name}
            spec:
              owner: ops@example.org
              purpose: Test the operator's upstream lists
              risk: low
              upstream:
                baseUrl: {baseUrl}
                model: m
                apiKeyEnv: {variable}
            """);
        return path;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _home.Dispose();
    }
}
