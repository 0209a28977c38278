using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Reviews;

/// <summary>
/// One server and upstream shared by a test class, with the people the review rules tell apart.
/// Each test makes its own system (a unique name), so figures from one test never leak into another.
/// </summary>
public sealed class ReviewFixture : IAsyncLifetime
{
    public GatewayHarness Harness { get; private set; } = null!;
    /// <summary>mia: member of the pilot group; her key makes the interactions.</summary>
    public HttpClient Member => Harness.Member;
    /// <summary>olga: member of another group.</summary>
    public HttpClient Outsider { get; private set; } = null!;
    /// <summary>rita: reviewer in support-leads, the review group of every system made here.</summary>
    public HttpClient Reviewer { get; private set; } = null!;
    /// <summary>rob: reviewer in other-leads, which reviews no system made here.</summary>
    public HttpClient OtherReviewer { get; private set; } = null!;
    public HttpClient Auditor { get; private set; } = null!;
    public HttpClient Owner => Harness.Owner;
    public HttpClient Admin => Harness.Server.Admin;
    private int _systems;

    public async Task InitializeAsync()
    {
        Harness = await GatewayHarness.StartAsync();
        var server = Harness.Server;
        Outsider = server.ClientFor(await server.CreateUserWithKeyAsync("olga@example.org", "member", "other-team"));
        Reviewer = server.ClientFor(await server.CreateKeyAsync("rita@example.org"));
        OtherReviewer = server.ClientFor(await server.CreateUserWithKeyAsync("rob@example.org", "reviewer", "other-leads"));
        Auditor = server.ClientFor(await server.CreateUserWithKeyAsync("audrey@example.org", "auditor"));
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();

    /// <summary>A new system in pilot with the given mode, reviewed by support-leads, used by support-pilot.</summary>
    public async Task<string> NewSystemAsync(string mode = "draft", string extra = "")
    {
        var slug = $"sys-{Interlocked.Increment(ref _systems)}-{mode.Replace('_', '-')}";
        await Harness.Server.ApplyAsync(GatewayHarness.Spec(slug, Harness.Upstream.BaseUrl, mode, extra));
        var response = await Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/decisions", new { outcome = "pilot", reason = "test" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return slug;
    }

    /// <summary>A chat completion through the gateway as the member; returns the interaction id.</summary>
    public async Task<string> ChatAsync(string system, string prompt = "Where is my order?", bool stream = false, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(prompt, stream, model: system));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} {body}");
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        return (response.StatusCode, await ReadAsync(response));
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (response.StatusCode, await ReadAsync(response));
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (string.IsNullOrEmpty(text)) return default;
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    public async Task<JsonElement> MetricsAsync(string system)
    {
        var (status, body) = await GetAsync(Admin, $"/api/v1/systems/{system}/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }

    public static (double? Value, long N) Metric(JsonElement metrics, string name)
    {
        var metric = metrics.GetProperty("metrics").GetProperty(name);
        var value = metric.GetProperty("value");
        return (value.ValueKind == JsonValueKind.Null ? null : value.GetDouble(), metric.GetProperty("n").GetInt64());
    }

    public PilotageDbContext Db() => Harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();

    public async Task<List<RollupRow>> RollupsAsync(string system)
    {
        await using var db = Db();
        return await db.Rollups.AsNoTracking().Where(r => r.System == system).ToListAsync();
    }
}
