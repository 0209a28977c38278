using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The same governance in every protocol a client speaks: each refusal in the caller's own error shape, held
/// answers as valid answers of its protocol (whole and streamed), and a wait that hands over the reviewer's decision.
/// </summary>
public sealed class ProtocolGovernanceTests
{
    public enum Protocol { Chat, Responses, Messages }

    private static (string Path, object Body) Request(Protocol protocol, string text, bool stream = false) => protocol switch
    {
        Protocol.Chat => ("/v1/chat/completions", GatewayHarness.ChatBody(text, stream)),
        Protocol.Responses => ("/v1/responses", new { model = GatewayHarness.System, input = text, stream }),
        _ => ("/v1/messages", AnthropicMessagesTests.Body(text, stream)),
    };

    /// <summary>The error's Pilotage code, read from the protocol's own error shape.</summary>
    private static async Task<(HttpStatusCode Status, string Code, string Message)> ErrorAsync(Protocol protocol, HttpResponseMessage response)
    {
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (protocol == Protocol.Messages)
        {
            Assert.Equal("error", json.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(json.GetProperty("error").GetProperty("type").GetString()));
        }
        var error = json.GetProperty("error");
        return (response.StatusCode, error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!);
    }

    private static string? AnswerText(Protocol protocol, JsonNode answer) => protocol switch
    {
        Protocol.Chat => answer["choices"]![0]!["message"]!["content"]!.GetValue<string>(),
        Protocol.Responses => answer["output"]![0]!["content"]![0]!["text"]!.GetValue<string>(),
        _ => answer["content"]![0]!["text"]!.GetValue<string>(),
    };

    private static string StreamedText(Protocol protocol, string body)
    {
        if (protocol == Protocol.Chat)
        {
            return string.Concat(body.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
                .Select(l => JsonNode.Parse(l[6..])!["choices"]?[0]?["delta"]?["content"]?.GetValue<string>()));
        }
        var events = ResponsesApiTests.SseEvents(body);
        return protocol == Protocol.Responses
            ? string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data["delta"]!.GetValue<string>()))
            : string.Concat(events.Where(e => e.Type == "content_block_delta").Select(e => e.Data["delta"]!["text"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData(Protocol.Chat)]
    [InlineData(Protocol.Responses)]
    [InlineData(Protocol.Messages)]
    public async Task Every_refusal_reaches_the_caller_in_its_own_protocol_and_is_recorded(Protocol protocol)
    {
        await using var h = await GatewayHarness.StartAsync(extra: "  dataBoundary:\n    block: [credit_card]\n  limits:\n    requestsPerMinutePerKey: 3");
        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olaf@example.org", "member", "elsewhere"));
        var (path, body) = Request(protocol, "hi");

        var forbidden = await ErrorAsync(protocol, await outsider.PostAsJsonAsync(path, body));
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.Status);

        var blocked = await h.Member.PostAsJsonAsync(path, Request(protocol, "my card is 4111 1111 1111 1111").Body);
        Assert.Equal(((HttpStatusCode)422, "data_boundary_blocked"), Pick(await ErrorAsync(protocol, blocked)));
        Assert.Equal("refused", (await h.InteractionAsync(blocked.Headers.GetValues("x-pilotage-interaction-id").Single())).Outcome);

        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;
        var failed = await h.Member.PostAsJsonAsync(path, body);
        var upstream = await ErrorAsync(protocol, failed);
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (upstream.Status, upstream.Code));
        Assert.Contains("127.0.0.1", upstream.Message, StringComparison.Ordinal);
        Assert.Equal("failed", (await h.InteractionAsync(failed.Headers.GetValues("x-pilotage-interaction-id").Single())).Outcome);

        // The key's third request in the minute is its last; the fourth is refused for the rate.
        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync(path, body)).StatusCode);
        var limited = await h.Member.PostAsJsonAsync(path, body);
        Assert.Equal(((HttpStatusCode)429, "rate_limited"), Pick(await ErrorAsync(protocol, limited)));

        (await h.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/pause", new { reason = "wrong refund amounts" })).EnsureSuccessStatusCode();
        var paused = await ErrorAsync(protocol, await h.Server.ClientFor(h.MemberKey).PostAsJsonAsync(path, body));
        Assert.Equal(((HttpStatusCode)423, "system_paused"), Pick(paused));
        Assert.Contains("wrong refund amounts", paused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Protocol.Chat)]
    [InlineData(Protocol.Responses)]
    [InlineData(Protocol.Messages)]
    public async Task Without_a_wait_a_held_answer_is_a_valid_answer_naming_the_interaction_whole_and_streamed(Protocol protocol)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "approval");
        var (path, body) = Request(protocol, "Can I get a refund?");
        var whole = await h.Member.PostAsJsonAsync(path, body);
        Assert.Equal(HttpStatusCode.Accepted, whole.StatusCode);
        Assert.Equal("true", whole.Headers.GetValues("x-pilotage-held").Single());
        var id = whole.Headers.GetValues("x-pilotage-interaction-id").Single();
        var notice = AnswerText(protocol, (await whole.Content.ReadFromJsonAsync<JsonNode>())!);
        Assert.Contains("held for review", notice, StringComparison.Ordinal);
        Assert.Contains(id, notice, StringComparison.Ordinal);
        Assert.Equal("held", (await h.InteractionAsync(id)).Outcome);

        var streamed = await h.Member.PostAsJsonAsync(path, Request(protocol, "And a discount?", stream: true).Body);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        Assert.Equal("true", streamed.Headers.GetValues("x-pilotage-held").Single());
        var streamedId = streamed.Headers.GetValues("x-pilotage-interaction-id").Single();
        var text = StreamedText(protocol, await streamed.Content.ReadAsStringAsync());
        Assert.Contains(streamedId, text, StringComparison.Ordinal);
        Assert.DoesNotContain("refund the order", text, StringComparison.Ordinal);
        Assert.False(h.Upstream.LastRequest["stream"]?.GetValue<bool>() ?? false); // held answers are fetched whole
    }

    [Theory]
    [InlineData(Protocol.Chat)]
    [InlineData(Protocol.Responses)]
    [InlineData(Protocol.Messages)]
    public async Task With_a_wait_the_caller_gets_the_reviewers_edit_or_rejection_and_a_streamed_wait_ends_in_the_notice(Protocol protocol)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "approval\n    approval:\n      wait: 30s");
        var reviewer = h.Server.ClientFor(await h.Server.CreateKeyAsync("rita@example.org"));
        var (path, body) = Request(protocol, "Can I get a refund?");

        var asking = h.Member.PostAsJsonAsync(path, body);
        var id = await PendingAsync(reviewer);
        var edited = await reviewer.PostAsJsonAsync($"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = "Yes, within 5 days." });
        Assert.True(edited.IsSuccessStatusCode, await edited.Content.ReadAsStringAsync());
        var answered = await asking;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal(id, answered.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("Yes, within 5 days.", AnswerText(protocol, (await answered.Content.ReadFromJsonAsync<JsonNode>())!));

        asking = h.Member.PostAsJsonAsync(path, Request(protocol, "And a discount?").Body);
        id = await PendingAsync(reviewer);
        (await reviewer.PostAsJsonAsync($"/api/v1/approvals/{id}/reject", new { reason = "promises a discount we do not offer" })).EnsureSuccessStatusCode();
        var rejected = await ErrorAsync(protocol, await asking);
        Assert.Equal((HttpStatusCode.Forbidden, "answer_rejected"), (rejected.Status, rejected.Code));
        Assert.Contains("discount we do not offer", rejected.Message, StringComparison.Ordinal);

        var streaming = h.Member.PostAsJsonAsync(path, Request(protocol, "Where is my order?", stream: true).Body);
        id = await PendingAsync(reviewer);
        (await reviewer.PostAsJsonAsync($"/api/v1/approvals/{id}/release", new { reason = "fine" })).EnsureSuccessStatusCode();
        var released = await streaming;
        Assert.Equal(h.Upstream.AnswerText, StreamedText(protocol, await released.Content.ReadAsStringAsync()));
    }

    private static (HttpStatusCode, string) Pick((HttpStatusCode Status, string Code, string Message) error) => (error.Status, error.Code);

    /// <summary>The next held answer in the reviewer's queue, once it appears.</summary>
    private static async Task<string> PendingAsync(HttpClient reviewer)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var queue = await reviewer.GetFromJsonAsync<JsonElement[]>($"/api/v1/approvals?system={GatewayHarness.System}");
            if (queue!.FirstOrDefault(q => q.GetProperty("state").GetString() == "pending") is { ValueKind: JsonValueKind.Object } item) return item.GetProperty("interactionId").GetString()!;
            await Task.Delay(50);
        }
        throw new InvalidOperationException("no held answer appeared");
    }
}
