using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The right error for the right fault: a caller's malformed body is their error, not the model's; and someone who
/// may not decide on a system is refused before its evidence is computed, so the refusal tells them nothing about it.
/// </summary>
public sealed class RightErrorTests
{
    [Fact]
    public async Task A_body_that_is_not_json_is_an_invalid_request_error_on_every_gateway_route()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        var served = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
        var id = served.Headers.GetValues("x-pilotage-interaction-id").Single();
        string[] routes =
        [
            "/v1/chat/completions", "/v1/embeddings",
            $"/v1/interactions/{id}/review", $"/v1/interactions/{id}/feedback", $"/v1/interactions/{id}/task", "/v1/manual-tasks",
        ];
        foreach (var route in routes)
        {
            foreach (var body in new[] { "{\"model\": \"support-drafts\", \"messages\": [", "not json at all", "\u00ff\u00fe" })
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                var response = await h.Member.PostAsync(route, content);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{route} with {body}: {(int)response.StatusCode} {text}");
                var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
                Assert.True(error.GetProperty("type").GetString() == "invalid_request_error", $"{route}: {text}");
                Assert.Equal("invalid_json", error.GetProperty("code").GetString());
            }
        }
        // A well-formed body of the wrong shape is the caller's error too.
        var shape = await h.Member.PostAsJsonAsync("/v1/chat/completions", new { model = GatewayHarness.System, messages = "hello" });
        Assert.Equal(HttpStatusCode.BadRequest, shape.StatusCode);
        Assert.Equal("invalid_request_error", JsonDocument.Parse(await shape.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        // Only the model's fault is an upstream_error.
        h.Upstream.Behaviour = Pilotage.Testing.UpstreamBehaviour.ServerError;
        var failed = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("upstream_error", JsonDocument.Parse(await failed.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Someone_who_may_not_decide_is_refused_before_the_evidence_so_the_refusal_reveals_none_of_it()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"))).StatusCode);
        var otherOwner = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "owner"));
        var reviewer = h.Server.ClientFor(await h.Server.CreateKeyAsync("rita@example.org"));
        var auditor = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("audrey@example.org", "auditor"));
        var decisions = $"/api/v1/systems/{GatewayHarness.System}/decisions";

        // What the system's own owner gets for the same requests: the evidence, quoted in the refusal.
        var owners = await h.Owner.PostAsJsonAsync(decisions, new { outcome = "stop", reason = "not convinced" });
        Assert.Equal(HttpStatusCode.Conflict, owners.StatusCode);
        Assert.Contains("recommends", await owners.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Another owner may not even see the system (read scoping: 404); the others see it and may not decide (403).
        foreach (var (client, who, refused) in new[]
                 {
                     (otherOwner, "another owner", HttpStatusCode.NotFound), (reviewer, "a reviewer", HttpStatusCode.Forbidden),
                     (h.Member, "a member", HttpStatusCode.Forbidden), (auditor, "an auditor", HttpStatusCode.Forbidden),
                 })
        {
            foreach (var outcome in new[] { "proceed", "stop", "narrow", "expand", "repilot" })
            {
                var response = await client.PostAsJsonAsync(decisions, new { outcome, reason = "I want to see the figures", @override = false });
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == refused, $"{who} deciding {outcome}: {(int)response.StatusCode} {body}");
                foreach (var revealing in new[] { "recommend", "evidence", "insufficient", "criteri", "blocker", "gate", "pass_rate", "sample", "readiness" })
                {
                    Assert.False(body.Contains(revealing, StringComparison.OrdinalIgnoreCase), $"{who} deciding {outcome} was told '{revealing}': {body}");
                }
            }
        }
        var recorded = await h.Server.Admin.GetFromJsonAsync<JsonElement[]>(decisions);
        Assert.Single(recorded!); // the harness's own 'pilot'
    }
}
