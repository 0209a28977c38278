using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Evidence;
using Pilotage.Server.Hosting;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Bench.Ingest;

/// <summary>
/// The real Pilotage server, in process, with one system in pilot: its evidence writer, metrics
/// service and store are the ones the gateway and the API use.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    public const string Slug = "support-drafts";
    private const string AdminToken = "bench";
    private static readonly string[] ReviewerGroups = ["support-leads"];

    private readonly WebApplication _app;

    private BenchServer(WebApplication app, SystemPosition system, string url)
    {
        _app = app;
        System = system;
        Url = url;
    }

    /// <summary>Where the server listens, for calls through its HTTP API.</summary>
    public string Url { get; }

    /// <summary>A client that calls the API as the bench's admin.</summary>
    public HttpClient Admin()
    {
        var client = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    public SystemPosition System { get; }
    public PilotageStore Store => _app.Services.GetRequiredService<PilotageStore>();
    public EvidenceWriter Writer => _app.Services.GetRequiredService<EvidenceWriter>();
    public SystemMetrics Metrics => _app.Services.GetRequiredService<SystemMetrics>();

    public static async Task<BenchServer> StartAsync(string database)
    {
        var app = PilotageApp.Build(new PilotageServerOptions
        {
            Database = database,
            Urls = "http://127.0.0.1:0",
            AdminToken = AdminToken,
            CredentialsPath = "",
            LogLevel = LogLevel.Warning,
            Announce = TextWriter.Null,
        });
        try
        {
            var url = await PilotageApp.StartAsync(app, CancellationToken.None);
            using var admin = new HttpClient { BaseAddress = new Uri(url) };
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            await OkAsync(admin.PostAsJsonAsync("/api/v1/users", new { email = "owner@example.org", role = "owner", groups = Array.Empty<string>() }), "create owner");
            await OkAsync(admin.PostAsJsonAsync("/api/v1/users", new { email = Workload.Reviewer, role = "reviewer", groups = ReviewerGroups }), "create reviewer");
            using (var yaml = new StringContent(Spec, Encoding.UTF8, "application/yaml"))
            {
                await OkAsync(admin.PostAsync("/api/v1/systems/apply", yaml), "apply");
            }
            await OkAsync(admin.PostAsJsonAsync($"/api/v1/systems/{Slug}/decisions", new { outcome = "pilot", reason = "bench" }), "start pilot");
            var policy = app.Services.GetRequiredService<PolicyCache>();
            await policy.RefreshAsync(CancellationToken.None);
            var state = policy.Current.Systems[Slug].State;
            var position = new SystemPosition(Slug, state.Lifecycle.Phase.ToString().ToLowerInvariant(), state.Lifecycle.Stage, state.ConfigVersion);
            return new BenchServer(app, position, url);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    private static async Task OkAsync(Task<HttpResponseMessage> call, string what)
    {
        using var response = await call;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    // The harness's system of the server tests; the upstream is never called.
    private const string Spec = """
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: support-drafts
        spec:
          owner: owner@example.org
          purpose: Draft replies to support tickets
          risk: low
          upstream:
            baseUrl: http://127.0.0.1:9/v1
            model: fake-model
            pricePer1kInput: 0.5
            pricePer1kOutput: 1.5
          config:
            systemPrompt: You draft polite replies to support tickets.
            temperature: 0.2
          review:
            reviewers: [support-leads]
          pilot:
            group: support-pilot
            mode: draft
            ends: 2099-12-31
        """;

    /// <summary>Stops the host (which drains the evidence queue) and releases the store.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Npgsql.NpgsqlConnection.ClearAllPools();
    }
}
