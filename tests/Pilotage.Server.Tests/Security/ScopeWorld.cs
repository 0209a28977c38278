using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Dashboard;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>The records of one system that the routes name: what an attacker asks for.</summary>
/// <param name="HeldId">An answer held for approval (its interaction, its queue item, its approval).</param>
public sealed record ScopeTarget(string Slug, string HeldId, long EvalRun, long Change, long Incident);

/// <summary>
/// A real server with two systems in approval-mode pilots, each with its own owner, reviewer (in its
/// review group) and member (in its pilot group), and real records of each: a held answer from its
/// member, an evaluation run of its owner, a change request, an incident its member filed. Plus an admin
/// and an auditor, who read every system. People are named by side and role: <c>alpha-owner</c>,
/// <c>beta-member</c>, <c>admin</c>, <c>auditor</c>.
/// </summary>
public sealed class ScopeWorld : IAsyncLifetime
{
    public const string Alpha = "alpha";
    public const string Beta = "beta";
    public static readonly string[] SideRoles = ["owner", "reviewer", "member"];

    private readonly Dictionary<string, string> _tokens = [];
    private readonly Dictionary<string, HttpClient> _api = [];
    private readonly Dictionary<string, DashboardFixture.Session> _dashboard = [];
    private readonly SemaphoreSlim _signIn = new(1, 1);

    public PilotageTestServer Server { get; private set; } = null!;
    public FakeUpstream Upstream { get; private set; } = null!;
    public Dictionary<string, ScopeTarget> Targets { get; } = [];

    /// <summary>Records that do not exist: what "not yours" must look exactly like.</summary>
    public static ScopeTarget Ghost { get; } = new("scope-ghost", "int_0000000000ghost", 987_654, 987_653, 987_652);

    public static string SlugOf(string side) => $"scope-{side}";

    public static string Email(string person) => $"{person}@example.org";

    public async Task InitializeAsync()
    {
        Upstream = await FakeUpstream.StartAsync();
        Server = await PilotageTestServer.StartAsync();
        _tokens["admin"] = PilotageTestServer.AdminToken;
        _tokens["auditor"] = await Server.CreateUserWithKeyAsync(Email("auditor"), "auditor");
        foreach (var side in new[] { Alpha, Beta })
        {
            _tokens[$"{side}-owner"] = await Server.CreateUserWithKeyAsync(Email($"{side}-owner"), "owner");
            _tokens[$"{side}-reviewer"] = await Server.CreateUserWithKeyAsync(Email($"{side}-reviewer"), "reviewer", $"{side}-reviewers");
            _tokens[$"{side}-member"] = await Server.CreateUserWithKeyAsync(Email($"{side}-member"), "member", $"{side}-users");
        }
        foreach (var side in new[] { Alpha, Beta }) Targets[side] = await SetUpAsync(side);
    }

    private async Task<ScopeTarget> SetUpAsync(string side)
    {
        var slug = SlugOf(side);
        await Server.ApplyAsync(Spec(slug, side, Upstream.BaseUrl));
        await JsonAsync(await Server.Admin.PostAsJsonAsync($"/api/v1/systems/{slug}/decisions", new { outcome = "pilot", reason = "scope test" }));

        using var held = await Api($"{side}-member").PostAsJsonAsync("/v1/chat/completions",
            new { model = slug, messages = new[] { new { role = "user", content = $"Where is order {side}?" } } });
        if (held.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"{slug}: expected a held answer, got {(int)held.StatusCode} {await held.Content.ReadAsStringAsync()}");
        var heldId = held.Headers.GetValues("x-pilotage-interaction-id").Single();

        var run = await JsonAsync(await Api($"{side}-owner").PostAsJsonAsync($"/api/v1/systems/{slug}/evals", new { testSet = "scope", testSetHash = "abc", cases = 1 }));
        var incident = await JsonAsync(await Api($"{side}-member").PostAsJsonAsync("/api/v1/incidents",
            new { system = slug, kind = "complaint", severity = "low", title = $"{side} complaint" }));

        // A change request as apply would have written it for a system past its pilot.
        await using var db = Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var system = db.Systems.Single(s => s.Slug == slug);
        var change = new ChangeRequestRow
        {
            System = slug, Status = "open", RequestedBy = Email($"{side}-owner"), RequestedAt = DateTimeOffset.UtcNow,
            BaseVersion = system.ConfigVersion, SpecJson = system.SpecJson, SpecHash = system.SpecHash, Diff = "[]",
        };
        db.ChangeRequests.Add(change);
        await db.SaveChangesAsync();
        return new ScopeTarget(slug, heldId, run.GetProperty("id").GetInt64(), change.Id, incident.GetProperty("id").GetInt64());
    }

    public static string Spec(string slug, string side, string upstream) => $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {slug}
        spec:
          owner: {Email($"{side}-owner")}
          purpose: Read scoping test system
          risk: low
          upstream:
            baseUrl: {upstream}
            model: fake-model
          review:
            reviewers: [{side}-reviewers]
          pilot:
            group: {side}-users
            mode: approval
            ends: 2099-12-31
        """;

    /// <summary>A bearer client for the control API and the gateway.</summary>
    public HttpClient Api(string person)
    {
        if (!_api.TryGetValue(person, out var client)) _api[person] = client = Server.ClientFor(_tokens[person]);
        return client;
    }

    /// <summary>A browser-like session signed in to the dashboard with the person's key (made once, reused).</summary>
    public async Task<DashboardFixture.Session> DashboardAsync(string person)
    {
        await _signIn.WaitAsync();
        try
        {
            if (_dashboard.TryGetValue(person, out var session)) return session;
            session = new DashboardFixture.Session(Server.Url);
            var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = _tokens[person] });
            if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"sign-in of {person}: {(int)response.StatusCode}");
            return _dashboard[person] = session;
        }
        finally
        {
            _signIn.Release();
        }
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task DisposeAsync()
    {
        foreach (var session in _dashboard.Values) session.Dispose();
        _signIn.Dispose();
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
