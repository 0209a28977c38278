using System.ClientModel;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using OpenAI;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>A clock the tests move: a pilot can be made to expire without waiting for its end date.</summary>
public sealed class AdjustableTime : TimeProvider
{
    public TimeSpan Offset { get; set; }

    /// <summary>
    /// When set, the clock throws while the gateway arms a request's upstream time-outs: a fault nobody planned
    /// for, in the middle of a request's path, to check what the gateway does with one.
    /// </summary>
    public bool FailWhileArmingTimeouts { get; set; }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;

    public override long GetTimestamp()
    {
        if (FailWhileArmingTimeouts && new System.Diagnostics.StackTrace().GetFrames().Any(f => f.GetMethod()?.DeclaringType == typeof(Pilotage.Server.Gateway.UpstreamTimeouts)))
        {
            throw new InvalidOperationException("injected clock fault");
        }
        return base.GetTimestamp();
    }
}

/// <summary>A Pilotage server and a loopback upstream, with one system in pilot and a member of its group.</summary>
public sealed class GatewayHarness : IAsyncDisposable
{
    public const string System = "support-drafts";
    public const string Group = "support-pilot";

    private GatewayHarness(PilotageTestServer server, FakeUpstream upstream, AdjustableTime time)
    {
        Server = server;
        Upstream = upstream;
        Time = time;
    }

    public PilotageTestServer Server { get; }
    public FakeUpstream Upstream { get; }
    public AdjustableTime Time { get; }
    public string MemberKey { get; private set; } = "";
    public HttpClient Member { get; private set; } = null!;
    public HttpClient Owner { get; private set; } = null!;

    /// <param name="mode">The pilot's mode.</param>
    /// <param name="extra">More YAML under <c>spec:</c> (two-space indented lines).</param>
    public static async Task<GatewayHarness> StartAsync(string mode = "draft", string extra = "", bool startPilot = true, string? database = null,
        Func<Pilotage.Server.Hosting.PilotageServerOptions, Pilotage.Server.Hosting.PilotageServerOptions>? configure = null)
    {
        var upstream = await FakeUpstream.StartAsync();
        var time = new AdjustableTime();
        var server = await PilotageTestServer.StartAsync(database, time, configure: configure);
        var harness = new GatewayHarness(server, upstream, time);
        harness.Owner = server.ClientFor(await server.CreateUserWithKeyAsync("owner@example.org", "owner"));
        await server.CreateUserWithKeyAsync("rita@example.org", "reviewer", "support-leads");
        harness.MemberKey = await server.CreateUserWithKeyAsync("mia@example.org", "member", Group);
        harness.Member = server.ClientFor(harness.MemberKey);
        await server.ApplyAsync(Spec(System, upstream.BaseUrl, mode, extra));
        if (startPilot) await harness.DecideAsync("pilot");
        return harness;
    }

    public static string Spec(string name, string upstream, string mode, string extra) => $"""
        apiVersion: pilotage/v1
        kind: AiSystem
        metadata:
          name: {name}
        spec:
          owner: owner@example.org
          purpose: Draft replies to support tickets
          risk: low
          upstream:
            baseUrl: {upstream}
            model: fake-model
            pricePer1kInput: 0.5
            pricePer1kOutput: 1.5
          config:
            systemPrompt: You draft polite replies to support tickets.
            temperature: 0.2
          review:
            reviewers: [support-leads]
          pilot:
            group: {Group}
            mode: {mode}
            ends: 2099-12-31
        {extra}
        """;

    /// <param name="override">Decide against the evidence's recommendation (tests often move a system without evidence).</param>
    public async Task DecideAsync(string outcome, string reason = "test", bool @override = false)
    {
        var response = await Server.Admin.PostAsJsonAsync($"/api/v1/systems/{System}/decisions", new { outcome, reason, @override });
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"decide {outcome}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The official OpenAI .NET SDK pointed at the gateway: only the endpoint and key differ.</summary>
    public ChatClient OpenAiChat(string? key = null) =>
        new OpenAIClient(new ApiKeyCredential(key ?? MemberKey), new OpenAIClientOptions { Endpoint = new Uri(Server.Url + "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) })
            .GetChatClient(System);

    public static object ChatBody(string content, bool stream = false, object? tools = null, string model = System) =>
        tools is null
            ? new { model, stream, messages = new object[] { new { role = "user", content } } }
            : new { model, stream, messages = new object[] { new { role = "user", content } }, tools };

    /// <summary>The evidence record of an interaction; waits for records written asynchronously (refusals).</summary>
    public async Task<InteractionRow> InteractionAsync(string id)
    {
        var store = Server.App.Services.GetRequiredService<PilotageStore>();
        for (var attempt = 0; attempt < 100; attempt++)
        {
            await using var db = store.CreateDbContext();
            var row = await db.Interactions.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id);
            if (row is not null) return row;
            await Task.Delay(50);
        }
        throw new InvalidOperationException($"no evidence record for {id}");
    }

    public async Task<int> InteractionCountAsync()
    {
        await using var db = Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        return await db.Interactions.CountAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}
