using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Systems;

/// <summary>Configuration versions and manual rollback, end to end: a real server and the fake upstream.</summary>
public sealed class ConfigVersionTests
{
    private const string System = GatewayHarness.System;
    private const string PromptA = "You draft polite replies to support tickets.";
    private const string PromptB = "You answer in pirate speak.";

    /// <summary>v1 (prompt A) from the harness, then v2 (prompt B).</summary>
    private static async Task<GatewayHarness> StartWithTwoVersionsAsync()
    {
        var harness = await GatewayHarness.StartAsync();
        var changed = GatewayHarness.Spec(System, harness.Upstream.BaseUrl, "draft", "").Replace(PromptA, PromptB, StringComparison.Ordinal);
        await harness.Server.ApplyAsync(changed);
        return harness;
    }

    private static async Task ChatAsync(GatewayHarness harness)
    {
        using var response = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<JsonElement> VersionsAsync(HttpClient client)
    {
        using var response = await client.GetAsync($"/api/v1/systems/{System}/versions");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Rollback_puts_the_earlier_prompt_in_force_for_the_next_request_and_versions_lists_it()
    {
        await using var harness = await StartWithTwoVersionsAsync();
        await ChatAsync(harness);
        Assert.Contains(PromptB, harness.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);

        using var rollback = await harness.Owner.PostAsJsonAsync($"/api/v1/systems/{System}/rollback", new { reason = "the pirate prompt confused customers" });
        var body = await rollback.Content.ReadAsStringAsync();
        Assert.True(rollback.StatusCode == HttpStatusCode.OK, body);
        var view = JsonDocument.Parse(body).RootElement;
        Assert.Equal(1, view.GetProperty("restoredFrom").GetInt32());
        Assert.Equal(3, view.GetProperty("configVersion").GetInt32());

        await ChatAsync(harness);
        var sent = harness.Upstream.LastRequest.ToJsonString();
        Assert.Contains(PromptA, sent, StringComparison.Ordinal);
        Assert.DoesNotContain(PromptB, sent, StringComparison.Ordinal);

        var versions = (await VersionsAsync(harness.Server.Admin)).EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal([false, false, true], versions.Select(v => v.GetProperty("current").GetBoolean()));
        Assert.Equal(versions[0].GetProperty("hash").GetString(), versions[2].GetProperty("hash").GetString());
        Assert.NotEqual(versions[1].GetProperty("hash").GetString(), versions[2].GetProperty("hash").GetString());
        Assert.Contains("owner@example.org", versions[2].GetProperty("createdBy").GetString(), StringComparison.Ordinal);

        await using var db = harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var audit = await db.AuditEntries.AsNoTracking().SingleAsync(e => e.Action == "system.config_rolled_back" && e.Subject == $"system:{System}");
        Assert.Equal("owner@example.org", audit.Actor);
        Assert.Contains("the pirate prompt confused customers", audit.After, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_to_a_named_version_and_refusals()
    {
        await using var harness = await StartWithTwoVersionsAsync();
        var url = $"/api/v1/systems/{System}/rollback";

        using (var noReason = await harness.Owner.PostAsJsonAsync(url, new { toVersion = 1 }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
            Assert.Contains("reason", await noReason.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var member = await harness.Member.PostAsJsonAsync(url, new { toVersion = 1, reason = "x" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, member.StatusCode);
        }
        using (var unknown = await harness.Owner.PostAsJsonAsync(url, new { toVersion = 7, reason = "x" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        using (var current = await harness.Owner.PostAsJsonAsync(url, new { toVersion = 2, reason = "x" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, current.StatusCode);
            Assert.Contains("already in force", await current.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var missing = await harness.Owner.PostAsJsonAsync("/api/v1/systems/no-such-system/rollback", new { reason = "x" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var ok = await harness.Server.Admin.PostAsJsonAsync(url, new { toVersion = 1, reason = "back to the polite prompt" }))
        {
            Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        }
        // Version 1's configuration is now in force (as version 3): rolling back to it again changes nothing.
        using (var again = await harness.Owner.PostAsJsonAsync(url, new { toVersion = 1, reason = "x" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("already in force", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(3, (await VersionsAsync(harness.Server.Admin)).GetArrayLength());
        await ChatAsync(harness);
        Assert.Contains(PromptA, harness.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);
    }
}
