using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// A short-lived key (a contractor's, or one about to leak) tries to mint a key that outlives it. It must not, for its
/// holder or, for an admin's key, for anybody else; a key that expires sooner is fine.
/// </summary>
public sealed class KeyDelegationTests
{
    [Fact]
    public async Task An_expiring_key_cannot_create_a_key_that_outlives_it_for_anyone()
    {
        await using var server = await PilotageTestServer.StartAsync();
        var expires = DateTimeOffset.UtcNow.AddDays(2);
        await server.CreateUserWithKeyAsync("mia@example.org", "member", "support-pilot");
        var member = server.ClientFor(await server.CreateKeyAsync("mia@example.org", expires));
        await server.CreateUserWithKeyAsync("ops@example.org", "admin");
        var admin = server.ClientFor(await server.CreateKeyAsync("ops@example.org", expires));

        foreach (var (client, user, who) in new[] { (member, (string?)null, "member for herself"), (admin, "ops@example.org", "admin for himself"), (admin, "mia@example.org", "admin for someone else") })
        {
            var never = await client.PostAsJsonAsync("/api/v1/keys", new { user, name = "forever" });
            await AssertRefusedAsync(never, who, "would never expire");

            var later = await client.PostAsJsonAsync("/api/v1/keys", new { user, name = "later", expiresAt = expires.AddDays(30) });
            await AssertRefusedAsync(later, who, "is later than");

            var sooner = await client.PostAsJsonAsync("/api/v1/keys", new { user, name = "sooner", expiresAt = expires.AddHours(-1) });
            Assert.True(sooner.StatusCode == HttpStatusCode.Created, $"{who}: {await sooner.Content.ReadAsStringAsync()}");
            var minted = server.ClientFor((await sooner.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString());
            Assert.Equal(HttpStatusCode.OK, (await minted.GetAsync("/api/v1/me")).StatusCode);
        }

        // Only the refused keys are missing: nothing was written for them.
        var keys = await server.Admin.GetFromJsonAsync<JsonElement[]>("/api/v1/keys");
        Assert.DoesNotContain(keys!, k => k.GetProperty("name").GetString() is "forever" or "later");
        Assert.Equal(3, keys!.Count(k => k.GetProperty("name").GetString() == "sooner"));

        // A key that does not expire still creates keys that do not either.
        Assert.Equal(HttpStatusCode.Created, (await server.Admin.PostAsJsonAsync("/api/v1/keys", new { user = "mia@example.org", name = "unbounded" })).StatusCode);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string who, string reason)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{who}: {(int)response.StatusCode} {body}");
        var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(reason, detail, StringComparison.Ordinal);
        Assert.Contains("expiresAt", detail, StringComparison.Ordinal);
    }
}
