using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Hosting;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Hosting;

public sealed class BootstrapTests
{
    [Fact]
    public async Task Without_PILOTAGE_ADMIN_TOKEN_a_token_is_generated_printed_once_and_saved_for_the_cli()
    {
        using var folder = new TempDirectory();
        var credentials = folder.File("config/credentials.json");
        var options = new PilotageServerOptions { Database = folder.File("p.db"), Urls = "http://127.0.0.1:0", CredentialsPath = credentials, LogLevel = LogLevel.Warning };

        var firstOutput = new StringWriter();
        string token;
        string url;
        await using (var app = PilotageApp.Build(options with { Announce = firstOutput }))
        {
            url = await PilotageApp.StartAsync(app, CancellationToken.None);
            var printed = firstOutput.ToString();
            token = printed.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Single(w => w.StartsWith("plt_", StringComparison.Ordinal));
            Assert.Equal(token, Credentials.Find(credentials, url));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(credentials));

            using var client = new HttpClient { BaseAddress = new Uri(url) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var me = await client.GetFromJsonAsync<JsonElement>("/api/v1/me");
            Assert.Equal("admin", me.GetProperty("role").GetString());
            await app.StopAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        var secondOutput = new StringWriter();
        await using (var app = PilotageApp.Build(options with { Announce = secondOutput }))
        {
            await PilotageApp.StartAsync(app, CancellationToken.None);
            Assert.DoesNotContain("plt_", secondOutput.ToString(), StringComparison.Ordinal);
            await app.StopAsync();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_started_server_keeps_full_collections_in_the_background()
    {
        // The gateway's answers must not wait for a blocking full collection (20-30 ms in docs/benchmarks.md).
        // Process-wide: every server in this test process starts with the default, so none can race this one.
        using var folder = new TempDirectory();
        var options = new PilotageServerOptions { Database = folder.File("p.db"), Urls = "http://127.0.0.1:0", CredentialsPath = "", Announce = TextWriter.Null, LogLevel = LogLevel.Warning };
        Assert.Equal(System.Runtime.GCLatencyMode.SustainedLowLatency, options.GcLatency);
        await using var app = PilotageApp.Build(options);
        await PilotageApp.StartAsync(app, CancellationToken.None);
        Assert.Equal(System.Runtime.GCLatencyMode.SustainedLowLatency, System.Runtime.GCSettings.LatencyMode);
        await app.StopAsync();
    }

    [Theory]
    [InlineData(LogLevel.Warning, false)]
    [InlineData(LogLevel.Error, false)]
    [InlineData(LogLevel.Information, true)]
    public async Task Hosting_diagnostics_log_only_when_verbose_so_no_activity_is_made_per_request(LogLevel level, bool expected)
    {
        // ASP.NET Core makes an Activity per request whenever this category logs at any level (for log
        // scopes); the gateway's hot path should not pay for scopes nobody writes.
        using var folder = new TempDirectory();
        await using var app = PilotageApp.Build(new PilotageServerOptions { Database = folder.File("p.db"), Urls = "http://127.0.0.1:0", CredentialsPath = "", LogLevel = level });
        var hosting = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics");
        Assert.Equal(expected, hosting.IsEnabled(LogLevel.Critical));
        // Everything else keeps the chosen level: errors still reach the operator.
        Assert.True(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilotage.Server.Gateway.GatewayPipeline").IsEnabled(LogLevel.Error));
    }

    [Fact]
    public async Task The_host_does_not_watch_its_working_directory_for_configuration_changes()
    {
        // A reloadable appsettings.json would make the host watch the content root (the working directory,
        // where pilotage.db lives by default) recursively, and handle an event for every write to the WAL.
        using var folder = new TempDirectory();
        await using var app = PilotageApp.Build(new PilotageServerOptions { Database = folder.File("p.db"), Urls = "http://127.0.0.1:0", CredentialsPath = "" });
        var files = ((IConfigurationRoot)app.Configuration).Providers.OfType<FileConfigurationProvider>().ToList();
        Assert.NotEmpty(files);
        Assert.All(files, file => Assert.False(file.Source.ReloadOnChange, $"{file} is reloaded on change"));
    }

    [Fact]
    public async Task A_server_that_cannot_bind_its_port_fails_with_the_reason_and_stops_its_background_services_cleanly()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var folder = new TempDirectory();
        var logs = new CapturingLoggerProvider();
        var options = new PilotageServerOptions
        {
            Database = folder.File("p.db"), Urls = $"http://127.0.0.1:{port}", CredentialsPath = "", LogLevel = LogLevel.Warning,
            LoggerProviders = [logs], Announce = TextWriter.Null,
        };

        var failure = await Assert.ThrowsAsync<IOException>(() => PilotageApp.RunAsync(options, CancellationToken.None));
        Assert.Contains("address already in use", failure.Message, StringComparison.Ordinal);
        // The background services (retention purge, expiry watcher...) were started before Kestrel failed to
        // bind; they are stopped, not torn down by disposal and then reported as "BackgroundService failed".
        await Task.Delay(200);
        Assert.DoesNotContain(logs.Lines, line => line.Contains("BackgroundService failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_chosen_admin_token_works_and_is_never_printed()
    {
        var output = new StringWriter();
        await using var server = await PilotageTestServer.StartAsync(announce: output);
        Assert.DoesNotContain(PilotageTestServer.AdminToken, output.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.GetAsync("/api/v1/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.ClientFor("test-admin-tokeN").GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task Health_readiness_openapi_and_reference_page_answer()
    {
        await using var server = await PilotageTestServer.StartAsync();
        Assert.Equal("ok", (await server.Anonymous.GetStringAsync("/healthz")).Trim());
        var ready = await server.Anonymous.GetFromJsonAsync<JsonElement>("/readyz");
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.StartsWith("SQLite", ready.GetProperty("store").GetString(), StringComparison.Ordinal);

        var openapi = await server.Anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openapi.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/systems", "/api/v1/systems/apply", "/api/v1/keys", "/api/v1/audit/verify", "/api/v1/users/{email}" })
        {
            Assert.True(paths.TryGetProperty(path, out _) || paths.TryGetProperty(path + "/", out _), $"OpenAPI document lacks {path}");
        }

        var page = await server.Anonymous.GetStringAsync("/api");
        Assert.Contains("/api/v1/audit/verify", page, StringComparison.Ordinal);
        Assert.Contains("admin, auditor", page, StringComparison.Ordinal);

        var missing = await server.Admin.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Readiness_reports_an_unreachable_store()
    {
        await using var server = await PilotageTestServer.StartAsync();
        // A second app on a PostgreSQL port where nothing listens: liveness yes, readiness no.
        var options = new PilotageServerOptions { Database = "Host=127.0.0.1;Port=1;Timeout=1", Urls = "http://127.0.0.1:0", CredentialsPath = "", LogLevel = LogLevel.Critical };
        await using var app = PilotageApp.Build(options);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };
        var live = await client.GetAsync("/healthz");
        Assert.True(live.StatusCode == HttpStatusCode.OK, $"{live.StatusCode}: {await live.Content.ReadAsStringAsync()}");
        var ready = await client.GetAsync("/readyz");
        var body = await ready.Content.ReadAsStringAsync();
        Assert.True(ready.StatusCode == HttpStatusCode.ServiceUnavailable, $"{ready.StatusCode}: {body}");
        Assert.Contains("unavailable", body, StringComparison.Ordinal);
        await app.StopAsync();
    }
}
