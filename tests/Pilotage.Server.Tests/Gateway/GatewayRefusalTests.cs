using System.ClientModel;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>Every refusal reason, with its status, its OpenAI-shaped error and a message a person can act on.</summary>
public sealed class GatewayRefusalTests
{
    internal static async Task<(HttpStatusCode Status, string Code, string Message, HttpResponseMessage Response)> SendAsync(HttpClient client, object body, string path = "/v1/chat/completions")
    {
        var response = await client.PostAsJsonAsync(path, body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = json.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        return (response.StatusCode, error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!, response);
    }

    [Fact]
    public async Task Keys_that_are_missing_wrong_revoked_or_expired_get_401()
    {
        await using var h = await GatewayHarness.StartAsync();
        var body = GatewayHarness.ChatBody("hi");
        Assert.Equal((HttpStatusCode.Unauthorized, "missing_api_key"), Pick(await SendAsync(h.Server.Anonymous, body)));
        Assert.Equal((HttpStatusCode.Unauthorized, "invalid_api_key"), Pick(await SendAsync(h.Server.ClientFor("plt_nope_nope"), body)));

        var key = await h.Server.CreateKeyAsync("mia@example.org");
        var id = key.Split('_')[1];
        (await h.Server.Admin.DeleteAsync($"/api/v1/keys/{id}")).EnsureSuccessStatusCode();
        var revoked = await SendAsync(h.Server.ClientFor(key), body);
        Assert.Equal((HttpStatusCode.Unauthorized, "key_revoked"), Pick(revoked));

        var expiring = await h.Server.CreateKeyAsync("mia@example.org", DateTimeOffset.UtcNow.AddHours(1));
        h.Time.Offset = TimeSpan.FromHours(2);
        Assert.Equal((HttpStatusCode.Unauthorized, "key_expired"), Pick(await SendAsync(h.Server.ClientFor(expiring), body)));
        Assert.Empty(h.Upstream.Received);

        // The official SDK surfaces the status and message.
        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => h.OpenAiChat("plt_nope_nope").CompleteChatAsync([ChatMessage.CreateUserMessage("hi")]));
        Assert.Equal(401, sdk.Status);
    }

    [Fact]
    public async Task An_unknown_system_is_404_and_a_malformed_body_is_400()
    {
        await using var h = await GatewayHarness.StartAsync();
        var unknown = await SendAsync(h.Member, GatewayHarness.ChatBody("hi", model: "gpt-4o"));
        Assert.Equal((HttpStatusCode.NotFound, "model_not_found"), Pick(unknown));
        Assert.Contains("/v1/models", unknown.Message, StringComparison.Ordinal);

        using var broken = new StringContent("{\"model\": ", System.Text.Encoding.UTF8, "application/json");
        var response = await h.Member.PostAsync("/v1/chat/completions", broken);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(h.Member, new { model = GatewayHarness.System, messages = Array.Empty<object>() })).Status);
    }

    [Fact]
    public async Task A_user_outside_the_stage_groups_is_refused_with_what_to_do()
    {
        await using var h = await GatewayHarness.StartAsync();
        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "member", "sales"));
        var refused = await SendAsync(outsider, GatewayHarness.ChatBody("hi"));
        Assert.Equal((HttpStatusCode.Forbidden, "not_in_allowed_group"), Pick(refused));
        Assert.Contains(GatewayHarness.Group, refused.Message, StringComparison.Ordinal);
        Assert.Contains("owner@example.org", refused.Message, StringComparison.Ordinal);
        var record = await h.InteractionAsync(refused.Response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("refused", record.Outcome);
        Assert.Equal("not_in_allowed_group", record.RefusalCode);
        Assert.Empty(h.Upstream.Received);

        // Added to the group, the very next request is served.
        (await h.Server.Admin.PutAsync($"/api/v1/groups/{GatewayHarness.Group}/members/olga@example.org", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await outsider.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    [Fact]
    public async Task Training_must_be_acknowledged_when_the_spec_requires_it()
    {
        const string training = "  training:\n    required: true\n    text: Use for drafts only; never paste card numbers.";
        await using var h = await GatewayHarness.StartAsync(extra: training);
        var refused = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal((HttpStatusCode.Forbidden, "training_required"), Pick(refused));
        Assert.Contains("/v1/training/support-drafts/acknowledge", refused.Message, StringComparison.Ordinal);

        var text = await h.Member.GetFromJsonAsync<JsonElement>("/v1/training/support-drafts");
        Assert.Contains("never paste card numbers", text.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.False(text.GetProperty("acknowledged").GetBoolean());
        var ack = await h.Member.PostAsync("/v1/training/support-drafts/acknowledge", null);
        Assert.True((await ack.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("acknowledged").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    [Fact]
    public async Task A_pause_takes_effect_on_the_next_request_and_says_who_when_and_why()
    {
        await using var h = await GatewayHarness.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        (await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "wrong refund amounts in drafts" })).EnsureSuccessStatusCode();

        var paused = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)423, "system_paused"), Pick(paused));
        Assert.Contains("owner@example.org", paused.Message, StringComparison.Ordinal);
        Assert.Contains("wrong refund amounts in drafts", paused.Message, StringComparison.Ordinal);
        Assert.Contains("manual process", paused.Message, StringComparison.Ordinal);
        Assert.Single(h.Upstream.Received);

        Assert.Equal(HttpStatusCode.BadRequest, (await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/resume", new { })).StatusCode);
        (await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/resume", new { reason = "prompt fixed" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    [Fact]
    public async Task An_expired_pilot_stops_serving_until_a_decision_is_recorded()
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Time.Offset = new DateTimeOffset(2100, 1, 2, 0, 0, 0, TimeSpan.Zero) - DateTimeOffset.UtcNow;
        var expired = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)423, "pilot_expired"), Pick(expired));
        Assert.Contains("2099-12-31", expired.Message, StringComparison.Ordinal);
        Assert.Contains("owner@example.org", expired.Message, StringComparison.Ordinal);

        var extend = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "extend", reason = "need 200 more samples", newEndDate = "2100-02-01" });
        Assert.Equal(HttpStatusCode.OK, extend.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    [Fact]
    public async Task Proposed_decided_and_retired_systems_do_not_serve()
    {
        await using var h = await GatewayHarness.StartAsync(startPilot: false);
        var proposed = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)423, "system_not_serving"), Pick(proposed));
        Assert.Contains("pilotage decide support-drafts pilot", proposed.Message, StringComparison.Ordinal);

        await h.DecideAsync("pilot");
        // Without criteria the evidence recommends proceed: narrowing goes against it, so it is an override.
        var refused = await h.Server.Admin.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/decisions", new { outcome = "narrow", reason = "only billing tickets" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("override", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await h.DecideAsync("narrow", "only billing tickets", @override: true);
        Assert.Equal(((HttpStatusCode)423, "system_not_serving"), Pick(await SendAsync(h.Member, GatewayHarness.ChatBody("hi"))));
        await h.DecideAsync("retire", "replaced by the new helpdesk");
        var retired = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)423, "system_retired"), Pick(retired));
        Assert.Empty(h.Upstream.Received);
    }

    [Fact]
    public async Task The_data_boundary_blocks_before_anything_is_sent_and_redacts_what_it_may_send()
    {
        const string boundary = "  dataBoundary:\n    block: [credit_card]\n    redact: [email, phone]";
        await using var h = await GatewayHarness.StartAsync(extra: boundary);
        var blocked = await SendAsync(h.Member, GatewayHarness.ChatBody("Refund card 4111 1111 1111 1111 please"));
        Assert.Equal(((HttpStatusCode)422, "data_boundary_blocked"), Pick(blocked));
        Assert.Contains("credit card", blocked.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", blocked.Message, StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
        var record = await h.InteractionAsync(blocked.Response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Contains("credit_card", record.DetectorHits, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", record.RequestContent ?? "", StringComparison.Ordinal);

        var served = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Reply to ana.lopez@example.org or +44 20 7946 0958"));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var sent = h.Upstream.LastRequest["messages"]![1]!["content"]!.GetValue<string>();
        Assert.Equal("Reply to [REDACTED:email] or [REDACTED:phone]", sent);
        var evidence = await h.InteractionAsync(served.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.DoesNotContain("ana.lopez", evidence.RequestContent, StringComparison.Ordinal);
        Assert.Contains("\"phone\"", evidence.DetectorHits, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Budgets_and_rate_limits_answer_429()
    {
        const string limits = "  limits:\n    costPerDay: 0.1\n    requestsPerMinutePerKey: 3";
        await using var h = await GatewayHarness.StartAsync(extra: limits);
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode); // costs 0.12
        var budget = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)429, "budget_exceeded"), Pick(budget));
        Assert.Contains("limits.costPerDay", budget.Message, StringComparison.Ordinal);

        // Without the budget, the rate limit remains: this key has used 2 of its 3 requests a minute.
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "  limits:\n    requestsPerMinutePerKey: 3"));
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        var limited = await SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal(((HttpStatusCode)429, "rate_limited"), Pick(limited));
        Assert.NotNull(limited.Response.Headers.RetryAfter);
        // Another key of the same person has its own allowance.
        var second = h.Server.ClientFor(await h.Server.CreateKeyAsync("mia@example.org"));
        Assert.Equal(HttpStatusCode.OK, (await second.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }

    private static (HttpStatusCode, string) Pick((HttpStatusCode Status, string Code, string Message, HttpResponseMessage Response) result) => (result.Status, result.Code);
}

/// <summary>Upstream faults map to 502/504 in the OpenAI error shape, are recorded, and never stall the server.</summary>
public sealed class GatewayUpstreamFaultTests
{
    [Theory]
    [InlineData(UpstreamBehaviour.ServerError, 502, "upstream_error")]
    [InlineData(UpstreamBehaviour.Unauthorized, 502, "upstream_auth")]
    [InlineData(UpstreamBehaviour.Malformed, 502, "upstream_malformed")]
    public async Task Upstream_errors_become_502_with_evidence(UpstreamBehaviour behaviour, int status, string code)
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.Behaviour = behaviour;
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        Assert.Equal(status, (int)response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("failed", record.Outcome);
        Assert.Equal(code, record.RefusalCode);
    }

    [Fact]
    public async Task An_upstream_redirect_is_reported_with_its_target_not_followed()
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.Behaviour = UpstreamBehaviour.Redirect;
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("upstream_redirect", error.GetProperty("code").GetString());
        Assert.Contains("/v1/moved/chat/completions", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("upstream.baseUrl", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received); // the moved address (which would have answered) was never called
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_redirect", (int?)307), (record.Outcome, record.RefusalCode, record.UpstreamStatus));
    }

    [Fact]
    public async Task Cookies_an_upstream_sets_are_not_sent_with_anyone_s_later_calls()
    {
        // One pooled handler serves every caller: a cookie kept from one answer would reach the next callers' calls.
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.SetCookie = "affinity=first-caller; Path=/";
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        }
        Assert.Equal(3, h.Upstream.Received.Count);
        Assert.Empty(h.Upstream.Cookies);
    }

    [Fact]
    public async Task A_hanging_upstream_times_out_at_the_first_byte_limit_with_504()
    {
        await using var h = await GatewayHarness.StartAsync(extra: "");
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "").Replace("model: fake-model", "model: fake-model\n    firstByteTimeoutSeconds: 1", StringComparison.Ordinal));
        h.Upstream.Behaviour = UpstreamBehaviour.Hang;
        var started = DateTime.UtcNow;
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));
        // The server is still responsive for everything else.
        Assert.Equal(HttpStatusCode.OK, (await h.Server.Anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task An_unreachable_upstream_is_502()
    {
        await using var h = await GatewayHarness.StartAsync();
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, "http://127.0.0.1:9/v1", "draft", ""));
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("upstream_unreachable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stream_that_stops_midway_ends_with_an_error_event_and_a_failed_record()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.Behaviour = UpstreamBehaviour.TruncatedStream;
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Contains("upstream_truncated", StringComparison.Ordinal), body);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("failed", record.Outcome);
    }

    [Fact]
    public async Task Durable_mode_releases_no_answer_when_its_record_cannot_be_stored()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        var count = await h.InteractionCountAsync();
        await using (var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE interactions RENAME TO interactions_away");
        }
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("evidence_unavailable", body, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Upstream.AnswerText, body, StringComparison.Ordinal);

        // Streaming: the chunks flow, but the final event is the error, not [DONE].
        var streamed = await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi", stream: true))).Content.ReadAsStringAsync();
        Assert.Contains("evidence_unavailable", streamed, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", streamed, StringComparison.Ordinal);

        // The SDK sees a failed call, not an answer.
        var sdk = await Assert.ThrowsAsync<ClientResultException>(() => h.OpenAiChat().CompleteChatAsync([ChatMessage.CreateUserMessage("hi")]));
        Assert.Equal(503, sdk.Status);

        await using (var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            await db.Database.ExecuteSqlRawAsync("ALTER TABLE interactions_away RENAME TO interactions");
        }
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
        Assert.Equal(count + 1, await h.InteractionCountAsync());
    }

    [Fact]
    public async Task A_fault_nobody_planned_for_is_an_OpenAI_shaped_500_that_names_the_interaction_and_is_logged()
    {
        var logs = new CapturingLoggerProvider();
        await using var h = await GatewayHarness.StartAsync(mode: "full", configure: o => o with { LoggerProviders = [logs] });
        h.Time.FailWhileArmingTimeouts = true;
        var calls = new (string Path, object Body)[]
        {
            ("/v1/chat/completions", GatewayHarness.ChatBody("hi")),
            ("/v1/chat/completions", GatewayHarness.ChatBody("hi", stream: true)),
            ("/v1/embeddings", new { model = GatewayHarness.System, input = "hi" }),
        };
        foreach (var (path, body) in calls)
        {
            var (status, code, message, response) = await GatewayRefusalTests.SendAsync(h.Member, body, path);
            Assert.Equal((HttpStatusCode.InternalServerError, "internal_error"), (status, code));
            var id = response.Headers.GetValues(Pilotage.Server.Gateway.OpenAiErrors.InteractionHeader).Single();
            Assert.Contains(id, message, StringComparison.Ordinal);
            Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(id, StringComparison.Ordinal) && l.Contains("injected clock fault", StringComparison.Ordinal));
        }
        Assert.Empty(h.Upstream.Received);

        h.Time.FailWhileArmingTimeouts = false;
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }
}
