using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Cli.Tests;

/// <summary>
/// A system in its pilot on the shared server, served by a loopback upstream, with an owner who is a
/// member of the pilot group (so the gateway lets them through like any pilot user).
/// </summary>
public sealed record PilotSystem(string Slug, string OwnerEmail, string OwnerKey, string Group)
{
    /// <summary>Sets the system up through the CLI as the admin and returns it.</summary>
    /// <param name="mode">The pilot's mode.</param>
    public static async Task<PilotSystem> CreateAsync(Cli cli, TempDirectory home, FakeUpstream upstream, string slug, bool ownerInGroup = true, string mode = "draft")
    {
        var owner = $"{slug}-owner@example.org";
        var group = $"{slug}-pilot";
        var add = ownerInGroup
            ? await cli.RunAsync("users", "add", owner, "--role", "owner", "--groups", group)
            : await cli.RunAsync("users", "add", owner, "--role", "owner");
        Assert.True(add.ExitCode == 0, add.ToString());
        var key = await cli.RunAsync("keys", "create", "--user", owner, "--json");
        Assert.True(key.ExitCode == 0, key.ToString());
        var spec = home.File(slug + ".yaml");
        await File.WriteAllTextAsync(spec, $$"""
            apiVersion: pilotage/v1
            kind: AiSystem
            metadata: { name: {{slug}} }
            spec:
              owner: {{owner}}
              purpose: Draft replies to support tickets
              risk: low
              upstream: { baseUrl: {{upstream.BaseUrl}}, model: fake-model }
              config: { systemPrompt: You draft polite replies to support tickets., temperature: 0.2 }
              dataBoundary: { block: [credit_card] }
              review: { reviewers: [{{slug}}-leads], minutesPerDay: 120, slaHours: 24 }
              baseline: { manualMinutesPerTask: 9 }
              pilot: { group: {{group}}, mode: {{mode}}, ends: 2099-12-31 }
            """);
        var apply = await cli.RunAsync("apply", "-f", spec);
        Assert.True(apply.ExitCode == 0, apply.ToString());
        var pilot = await cli.RunAsync("decide", slug, "pilot", "--reason", "start the pilot");
        Assert.True(pilot.ExitCode == 0, pilot.ToString());
        return new PilotSystem(slug, owner, key.Json().GetProperty("key").GetString()!, group);
    }

    /// <summary>One chat completion through the gateway as the owner; returns the interaction id.</summary>
    public async Task<string> AskAsync(ServerFixture server, string prompt)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", OwnerKey);
        var body = JsonSerializer.Serialize(new { model = Slug, messages = new[] { new { role = "user", content = prompt } } });
        using var response = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    /// <summary>GET on the control API as the admin.</summary>
    public static async Task<JsonElement> GetAsync(ServerFixture server, string path)
    {
        using var http = new HttpClient { BaseAddress = new Uri(server.Url), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerFixture.AdminToken);
        var text = await http.GetStringAsync(path);
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
