using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Pilotage.Server.Gateway.Protocols.Upstream;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// Anthropic and Responses API streams passed through the real gateway with the upstream's bytes cut where a network
/// cuts them: the events that carry only text are read in one pass and the others as trees, and either way each
/// event reaches the client as the upstream wrote it, the evidence holds the whole text and the token counts, and an
/// event the tree cannot read still ends the stream.
/// </summary>
public sealed class PassThroughStreamTests
{
    private static readonly string[] AnthropicEvents =
    [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_up\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"fake-model\",\"content\":[],\"usage\":{\"input_tokens\":31,\"output_tokens\":1}}}",
        "event: ping\ndata: {\"type\":\"ping\"}",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"A refund is due.\"}}",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Caf\\u00e9 \\\"déjà\\\"\\n\"}}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"vu 😀\"}}",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":44}}",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}",
    ];

    /// <summary>The events as one body, cut into pieces at every <paramref name="every"/> characters (CRLF line ends where <paramref name="crlf"/>).</summary>
    private static List<string> Pieces(IEnumerable<string> events, int every, bool crlf = false)
    {
        var body = string.Concat(events.Select(e => (crlf ? e.Replace("\n", "\r\n", StringComparison.Ordinal) : e) + (crlf ? "\r\n\r\n" : "\n\n")));
        return [.. Enumerable.Range(0, (body.Length + every - 1) / every).Select(i => body.Substring(i * every, Math.Min(every, body.Length - i * every)))];
    }

    private static string Framed(IEnumerable<string> events) => string.Concat(events.Select(e => e + "\n\n"));

    [Theory]
    [InlineData(7, false)]
    [InlineData(45, true)]
    public async Task An_anthropic_stream_cut_anywhere_reaches_the_client_event_for_event_with_its_text_and_counts(int every, bool crlf)
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic", mode: "full");
        h.Upstream.StreamPieceDelay = TimeSpan.Zero;
        h.Upstream.RawEventPieces = Pieces(AnthropicEvents, every, crlf);
        using var raw = AnthropicMessagesTests.Raw(h);
        using var response = await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("Can I get a refund?", stream: true));
        Assert.Equal(Framed(AnthropicEvents), await response.Content.ReadAsStringAsync());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", 31, 44), (record.Outcome, record.TokensIn, record.TokensOut));
        Assert.Equal("Café \"déjà\"\nvu 😀", record.ResponseContent);
    }

    /// <summary>To a chat client, each text delta becomes in one pass the chunk its tree becomes, byte for byte, whatever
    /// the network cut (an escape, a surrogate pair's escape, a line's end); the evidence holds the text the client read.</summary>
    [Theory]
    // Cuts that fall between the halves of no raw surrogate pair: each piece is encoded alone, and half a pair would be sent as U+FFFD.
    [InlineData(5, false)]
    [InlineData(13, true)]
    public async Task An_anthropic_stream_cut_anywhere_reaches_a_chat_client_as_the_chunks_its_trees_become(int every, bool crlf)
    {
        string[] events =
        [
            .. AnthropicEvents.Take(7),
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"\\ud83d\\ude00 <b>&\\u0027 \\u00e9\"}}",
            .. AnthropicEvents.Skip(7),
        ];
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic", mode: "full");
        h.Upstream.StreamPieceDelay = TimeSpan.Zero;
        h.Upstream.RawEventPieces = Pieces(events, every, crlf);
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Can I get a refund?", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        // What the tree translation makes of the same events (the usage chunk aside: this client did not ask for it).
        var tree = new AnthropicUpstreamStream();
        var chunks = events.SelectMany(e => tree.Translate(e[7..e.IndexOf('\n', StringComparison.Ordinal)], e[(e.IndexOf("data: ", StringComparison.Ordinal) + 6)..]).ToList())
            .Where(c => c == "[DONE]" || JsonNode.Parse(c)!["choices"] is JsonArray { Count: > 0 });
        Assert.Equal(string.Concat(chunks.Select(c => $"data: {c}\n\n")), body);
        var text = string.Concat(body.Split("\n\n").Where(l => l.StartsWith("data: {", StringComparison.Ordinal))
            .Select(l => JsonNode.Parse(l[6..])!["choices"]![0]!["delta"]!["content"]?.GetValue<string>()));
        Assert.Equal("Café \"déjà\"\nvu 😀", text.Replace("😀 <b>&' é", "", StringComparison.Ordinal));
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", text), (record.Outcome, record.ResponseContent));
    }

    [Fact]
    public async Task An_anthropic_text_delta_the_tree_cannot_read_still_ends_the_stream_as_malformed()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic", mode: "full");
        string[] events =
        [
            AnthropicEvents[0], AnthropicEvents[5], AnthropicEvents[6],
            // A key given twice: which text is meant cannot be known.
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"a\",\"text\":\"b\"}}",
            AnthropicEvents[9], AnthropicEvents[10],
        ];
        h.Upstream.RawEventPieces = Pieces(events, 20);
        h.Upstream.StreamPieceDelay = TimeSpan.Zero;
        using var raw = AnthropicMessagesTests.Raw(h);
        using var response = await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("Can I get a refund?", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.StartsWith(Framed(events.Take(3)), body, StringComparison.Ordinal);
        Assert.Contains("event: error\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("message_stop", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_malformed", "Café \"déjà\"\n"), (record.Outcome, record.RefusalCode, record.ResponseContent));
    }

    [Theory]
    [InlineData(9)]
    [InlineData(60)]
    public async Task A_responses_stream_cut_anywhere_reaches_the_client_event_for_event_with_its_text_counts_and_pilotages_id(int every)
    {
        await using var h = await UpstreamProtocolTests.StartAsync("openai-responses", mode: "full");
        static string Event(string type, JsonObject fields)
        {
            var data = new JsonObject { ["type"] = type };
            foreach (var (name, value) in fields.ToList())
            {
                fields.Remove(name);
                data[name] = value;
            }
            return $"event: {type}\ndata: {data.ToJsonString()}";
        }
        JsonObject Response(string status) => new() { ["id"] = "resp_upstream", ["object"] = "response", ["status"] = status, ["model"] = "fake-model", ["output"] = new JsonArray(), ["usage"] = new JsonObject { ["input_tokens"] = 12, ["output_tokens"] = 34 } };
        string[] events =
        [
            Event("response.created", new JsonObject { ["sequence_number"] = 0, ["response"] = Response("in_progress") }),
            Event("response.output_text.delta", new JsonObject { ["sequence_number"] = 1, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 0, ["delta"] = "Refunds take \"5\" days.\n", ["logprobs"] = new JsonArray() }),
            Event("response.refusal.delta", new JsonObject { ["sequence_number"] = 2, ["item_id"] = "msg_1", ["output_index"] = 0, ["content_index"] = 1, ["delta"] = "Not that one é😀" }),
            Event("response.output_text.done", new JsonObject { ["sequence_number"] = 3, ["text"] = "Refunds take \"5\" days.\n" }),
            Event("response.completed", new JsonObject { ["sequence_number"] = 4, ["response"] = Response("completed") }),
        ];
        h.Upstream.StreamPieceDelay = TimeSpan.Zero;
        h.Upstream.RawEventPieces = Pieces(events, every);
        using var response = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Can I get a refund?", stream = true });
        var interaction = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        var body = await response.Content.ReadAsStringAsync();
        // The deltas and the done event as the upstream wrote them; the events with the response name Pilotage's record.
        Assert.Contains(Framed(events.Skip(1).Take(3)), body, StringComparison.Ordinal);
        var sent = ResponsesApiTests.SseEvents(body);
        Assert.Equal(["response.created", "response.output_text.delta", "response.refusal.delta", "response.output_text.done", "response.completed"], sent.Select(e => e.Type));
        Assert.All(new[] { sent[0], sent[^1] }, e => Assert.Equal("resp_" + interaction, e.Data["response"]!["id"]!.GetValue<string>()));
        var record = await h.InteractionAsync(interaction);
        Assert.Equal(("served", 12, 34), (record.Outcome, record.TokensIn, record.TokensOut));
        Assert.Equal("Refunds take \"5\" days.\nNot that one é😀", record.ResponseContent);
    }
}
