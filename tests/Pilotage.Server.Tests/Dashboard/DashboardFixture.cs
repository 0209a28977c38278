using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Dashboard;

/// <summary>
/// A server with two systems in pilot and real evidence: <see cref="Drafts"/> (draft mode, criteria, a
/// pause rule, e-mail redaction) with answers waiting for review, and <see cref="Approvals"/> (approval
/// mode) with one answer held. One person per role, each with a key.
/// </summary>
public partial class DashboardFixture : IAsyncLifetime
{
    public const string Drafts = GatewayHarness.System;
    public const string Approvals = "support-approvals";

    public const string Extra = """
            minSamples: 2
            questions: [quality, review_burden, value]
            criteria:
              - { metric: acceptance_rate, min: 0.8, else: redesign }
              - { metric: net_minutes_saved_per_task, min: 1, else: stop }
          baseline:
            manualMinutesPerTask: 0.5
          dataBoundary:
            redact: [email]
          pauseRules:
            - { metric: rejection_rate, over: 50, above: 0.9, action: pause }
        """;

    public GatewayHarness Harness { get; private set; } = null!;
    public PilotageTestServer Server => Harness.Server;
    public string Url => Server.Url;
    public string OwnerKey { get; private set; } = "";
    public string ReviewerKey { get; private set; } = "";
    public string AuditorKey { get; private set; } = "";
    public string MemberKey => Harness.MemberKey;
    public IReadOnlyList<string> Pending { get; private set; } = [];
    public string HeldId { get; private set; } = "";

    /// <summary>Token per role name, as <see cref="Pilotage.Core.Access.Roles"/> spells them.</summary>
    public IReadOnlyDictionary<string, string> Tokens => new Dictionary<string, string>
    {
        ["admin"] = PilotageTestServer.AdminToken,
        ["owner"] = OwnerKey,
        ["reviewer"] = ReviewerKey,
        ["auditor"] = AuditorKey,
        ["member"] = MemberKey,
    };

    public virtual async Task InitializeAsync()
    {
        Harness = await GatewayHarness.StartAsync("draft", Extra);
        OwnerKey = await Server.CreateKeyAsync("owner@example.org");
        ReviewerKey = await Server.CreateKeyAsync("rita@example.org");
        AuditorKey = await Server.CreateUserWithKeyAsync("audrey@example.org", "auditor");

        var served = new List<string>();
        foreach (var prompt in new[] { "Where is my order 1?", "Please write to ann@example.org about order 2", "Where is my order 3?", "Can I return item 4?" })
        {
            var response = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(prompt));
            response.EnsureSuccessStatusCode();
            served.Add(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        }
        await PostAsync(Server.Admin, $"/api/v1/interactions/{served[0]}/review", new { outcome = "accepted", seconds = 60 });
        Pending = served.Skip(1).ToList();

        await Server.ApplyAsync(GatewayHarness.Spec(Approvals, Harness.Upstream.BaseUrl, "approval", ""));
        await PostAsync(Server.Admin, $"/api/v1/systems/{Approvals}/decisions", new { outcome = "pilot", reason = "start the approval pilot", @override = true });
        var held = await Harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Can I get a refund?", model: Approvals));
        if (held.StatusCode != HttpStatusCode.Accepted) throw new InvalidOperationException($"expected a held answer, got {(int)held.StatusCode}");
        HeldId = (await held.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public virtual async Task DisposeAsync() => await Harness.DisposeAsync();

    public static async Task<JsonElement> PostAsync(HttpClient client, string path, object body)
    {
        var response = await client.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A cookie-keeping client that does not follow redirects, like a browser a test can inspect.</summary>
    public Session NewSession() => new(Url);

    /// <summary>Signs in through the form (with its anti-forgery token) and returns the session.</summary>
    public async Task<Session> SignInAsync(string token)
    {
        var session = NewSession();
        var response = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = token });
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"sign-in: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return session;
    }

    public sealed partial class Session : IDisposable
    {
        private readonly HttpClientHandler _handler;

        public Session(string url)
        {
            _handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer(), UseCookies = true };
            Client = new HttpClient(_handler) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        }

        public HttpClient Client { get; }
        public CookieContainer Cookies => _handler.CookieContainer;

        public Task<HttpResponseMessage> GetAsync(string path) => Client.GetAsync(path);

        /// <summary>GETs the form's page for its anti-forgery token, then posts the fields with it.</summary>
        public async Task<HttpResponseMessage> PostFormAsync(string path, Dictionary<string, string> fields, string? formPage = null)
        {
            var page = await Client.GetStringAsync(formPage ?? path.Split('?')[0]);
            var token = CsrfField().Match(page);
            if (!token.Success) throw new InvalidOperationException($"no anti-forgery token on {formPage ?? path}");
            fields["__csrf"] = WebUtility.HtmlDecode(token.Groups[1].Value);
            using var content = new FormUrlEncodedContent(fields);
            return await Client.PostAsync(path, content);
        }

        public void Dispose()
        {
            Client.Dispose();
            _handler.Dispose();
        }

        [GeneratedRegex("name=\"__csrf\" type=\"hidden\" value=\"([^\"]+)\"")]
        private static partial Regex CsrfField();
    }
}
