using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pilotage.Server.Tests.Dashboard;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Approval mode holds an answer until someone other than the person who asked releases it. The attack:
/// the owner, an admin or a reviewer asks through the gateway with their own key and releases their own
/// held answer, through every door (approvals, reviews on the API and the app endpoint, the dashboard).
/// </summary>
public sealed class FourEyesTests
{
    private const string System = GatewayHarness.System;

    [Fact]
    public async Task Nobody_releases_their_own_held_answer_whatever_their_role_and_someone_else_can()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "approval");
        var server = harness.Server;
        var admin = await EmailAsync(server.Admin);
        var rita = server.ClientFor(await server.CreateKeyAsync("rita@example.org"));
        // The owner, the admin and a reviewer of the system also use it: they are in its pilot group.
        foreach (var person in new[] { "owner@example.org", "rita@example.org", admin })
        {
            (await server.Admin.PutAsync($"/api/v1/groups/{GatewayHarness.Group}/members/{person}", null)).EnsureSuccessStatusCode();
        }
        var askers = new[] { (Client: harness.Owner, Email: "owner@example.org"), (Client: server.Admin, Email: admin), (Client: rita, Email: "rita@example.org") };
        var held = new Dictionary<string, string>();
        foreach (var (client, email) in askers) held[email] = await AskAsync(client);

        foreach (var (client, email) in askers)
        {
            var id = held[email];
            await RefusedAsync(await client.PostAsJsonAsync($"/api/v1/approvals/{id}/release", new { reason = "looks fine" }), email);
            await RefusedAsync(await client.PostAsJsonAsync($"/api/v1/interactions/{id}/review", new { outcome = "accepted" }), email);
            await RefusedAsync(await client.PostAsJsonAsync($"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = "my own edit" }), email);
            // The app's endpoint with the same key, in the OpenAI error shape.
            using var app = await client.PostAsJsonAsync($"/v1/interactions/{id}/review", new { outcome = "accepted" });
            Assert.Equal(HttpStatusCode.Forbidden, app.StatusCode);
            Assert.Contains("four eyes", (await app.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Equal("pending", await StatusAsync(client, id));
        }

        // The dashboard does not offer the release to the asker, and refuses a release posted by hand.
        using (var session = new DashboardFixture.Session(server.Url))
        {
            Assert.Equal(HttpStatusCode.Redirect, (await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = await server.CreateKeyAsync("owner@example.org") })).StatusCode);
            var page = await session.Client.GetStringAsync($"/dashboard/reviews?id={held["owner@example.org"]}");
            Assert.Contains("id=\"four-eyes\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"release\"", page, StringComparison.Ordinal);
            using var forged = await session.PostFormAsync("/dashboard/reviews?handler=Release", new() { ["id"] = held["owner@example.org"] }, "/dashboard/reviews");
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
            Assert.Contains("four eyes", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("pending", await StatusAsync(harness.Owner, held["owner@example.org"]));
        }

        // Each is released by someone else: the reviewer releases the owner's and the admin's, the admin the reviewer's.
        Assert.Equal(HttpStatusCode.OK, (await rita.PostAsJsonAsync($"/api/v1/approvals/{held["owner@example.org"]}/release", new { reason = "checked" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await rita.PostAsJsonAsync($"/api/v1/interactions/{held[admin]}/review", new { outcome = "accepted" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Admin.PostAsJsonAsync($"/api/v1/approvals/{held["rita@example.org"]}/release", new { reason = "checked" })).StatusCode);
        foreach (var (client, email) in askers) Assert.Equal("released", await StatusAsync(client, held[email]));
    }

    [Fact]
    public async Task The_asker_may_still_reject_their_own_held_answer_and_review_their_own_draft()
    {
        await using var harness = await GatewayHarness.StartAsync(mode: "approval");
        var server = harness.Server;
        (await server.Admin.PutAsync($"/api/v1/groups/{GatewayHarness.Group}/members/owner@example.org", null)).EnsureSuccessStatusCode();
        var held = await AskAsync(harness.Owner);
        using (var rejected = await harness.Owner.PostAsJsonAsync($"/api/v1/approvals/{held}/reject", new { reason = "I asked the wrong question" }))
        {
            Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);
        }
        Assert.Equal("rejected", await StatusAsync(harness.Owner, held));

        // Draft mode: the answer was returned; the asker's own review is the normal review.
        await server.ApplyAsync(GatewayHarness.Spec("drafts-own", harness.Upstream.BaseUrl, "draft", ""));
        (await server.Admin.PostAsJsonAsync("/api/v1/systems/drafts-own/decisions", new { outcome = "pilot", reason = "test" })).EnsureSuccessStatusCode();
        using var draft = await harness.Owner.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?", model: "drafts-own"));
        Assert.Equal(HttpStatusCode.OK, draft.StatusCode);
        var id = draft.Headers.GetValues("x-pilotage-interaction-id").Single();
        using var reviewed = await harness.Owner.PostAsJsonAsync($"/v1/interactions/{id}/review", new { outcome = "edited", final_text = "Your order ships tomorrow." });
        Assert.Equal(HttpStatusCode.OK, reviewed.StatusCode);
    }

    private static async Task<string> AskAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Can I get a refund?"));
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    private static async Task RefusedAsync(HttpResponseMessage response, string asker)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{asker} released their own held answer: {(int)response.StatusCode} {body}");
            var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString()!;
            Assert.Contains("four eyes", detail, StringComparison.Ordinal);
            Assert.Contains(asker, detail, StringComparison.Ordinal);
        }
    }

    /// <summary>The held answer's state as the app sees it (x-pilotage-status of GET /v1/interactions/{id}).</summary>
    private static async Task<string> StatusAsync(HttpClient client, string id)
    {
        using var response = await client.GetAsync($"/v1/interactions/{id}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-pilotage-status").Single();
    }

    private static async Task<string> EmailAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("email").GetString()!;
}
