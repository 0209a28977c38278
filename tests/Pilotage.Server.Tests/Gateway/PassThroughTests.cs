using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Models.Messages;
using OpenAI.Chat;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// A client of the upstream's own protocol: its body passes through with only what policy controls rewritten
/// (the model, the spec's configuration, read-only tools, redactions), and the upstream's answer and events come
/// back as they were, driven by the official clients. Every field is still scanned by the data boundary.
/// </summary>
public sealed class PassThroughTests
{
    private const string Thinking = "The customer wants a refund; policy allows it within 30 days.";
    private const string Answer = "Refunds take 5 days.";

    private static AnthropicClient Claude(GatewayHarness h) =>
        new() { ApiKey = h.MemberKey, BaseUrl = h.Server.Url, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(60) };

    private static MessageCreateParams Params(JsonObject body) =>
        MessageCreateParams.FromRawUnchecked(new Dictionary<string, JsonElement>(), new Dictionary<string, JsonElement>(),
            body.ToDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value)));

    /// <summary>A request with what the common model has no place for: thinking, cache_control, an earlier thinking block, an unknown field.</summary>
    private static JsonObject AnthropicBody() => new()
    {
        ["model"] = GatewayHarness.System,
        ["max_tokens"] = 2048,
        ["thinking"] = new JsonObject { ["type"] = "enabled", ["budget_tokens"] = 1024 },
        ["system"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Be brief.", ["cache_control"] = new JsonObject { ["type"] = "ephemeral" } }),
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = "Order 1234 arrived broken." },
            new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = new JsonArray(
                    new JsonObject { ["type"] = "thinking", ["thinking"] = "They may want a refund.", ["signature"] = "sig-earlier" },
                    new JsonObject { ["type"] = "text", ["text"] = "Sorry to hear that." }),
            },
            new JsonObject { ["role"] = "user", ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = "Can I get a refund?", ["cache_control"] = new JsonObject { ["type"] = "ephemeral" } }) }),
        ["metadata"] = new JsonObject { ["user_id"] = "u-42" },
    };

    private const string AnthropicAnswer = $$$"""
        {"id":"msg_up","type":"message","role":"assistant","model":"fake-model","content":[{"type":"thinking","thinking":"{{{Thinking}}}","signature":"sig-abc"},{"type":"text","text":"{{{Answer}}}"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":40,"cache_read_input_tokens":0}}
        """;

    private static readonly string[] AnthropicEvents =
    [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_up\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"fake-model\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":120,\"output_tokens\":1}}}",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}",
        $"event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"thinking_delta\",\"thinking\":\"{Thinking}\"}}}}",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"sig-abc\"}}",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
        $"event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{Answer}\"}}}}",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":40}}",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}",
    ];

    /// <summary>What the upstream received, less what policy rewrote, equals what the client sent.</summary>
    private static void AssertPassedThrough(JsonObject sent, JsonObject received, params string[] rewritten)
    {
        foreach (var (name, value) in sent)
        {
            if (rewritten.Contains(name)) continue;
            Assert.True(JsonNode.DeepEquals(value, received[name]), $"'{name}' was {value?.ToJsonString()} and reached the upstream as {received[name]?.ToJsonString()}");
        }
    }

    [Fact]
    public async Task An_anthropic_client_and_upstream_exchange_thinking_and_cache_control_unchanged_plain_and_streamed()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic");
        h.Upstream.RawAnswer = AnthropicAnswer;
        h.Upstream.RawEventStream = string.Concat(AnthropicEvents.Select(e => e + "\n\n"));
        var body = AnthropicBody();

        var message = await Claude(h).Messages.Create(Params(body));
        var received = h.Upstream.LastRequest;
        AssertPassedThrough(body, received, "model", "system");
        Assert.Equal("fake-model", received["model"]!.GetValue<string>());
        // The spec's prompt goes first; the client's block keeps its cache_control.
        var system = received["system"]!.AsArray();
        Assert.Equal("You draft polite replies to support tickets.", system[0]!["text"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(body["system"]![0], system[1]));
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal((Thinking, "sig-abc"), (thinking!.Thinking, thinking.Signature));
        Assert.True(message.Content[1].TryPickText(out var text));
        Assert.Equal(Answer, text!.Text);

        // Raw: the answer is the upstream's, value for value; the evidence is read from it.
        using var raw = AnthropicMessagesTests.Raw(h);
        var response = await raw.PostAsJsonAsync("/v1/messages", body);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(AnthropicAnswer), JsonNode.Parse(await response.Content.ReadAsStringAsync())));
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", 40), (record.Outcome, record.TokensOut));
        Assert.Contains(Answer, record.ResponseContent, StringComparison.Ordinal);
        Assert.Contains("Can I get a refund?", record.RequestContent, StringComparison.Ordinal);

        var thought = new StringBuilder();
        var said = new StringBuilder();
        await foreach (var e in Claude(h).Messages.CreateStreaming(Params(body)))
        {
            if (!e.TryPickContentBlockDelta(out var delta)) continue;
            if (delta!.Delta.TryPickThinking(out var t)) thought.Append(t!.Thinking);
            if (delta.Delta.TryPickText(out var d)) said.Append(d!.Text);
        }
        Assert.Equal((Thinking, Answer), (thought.ToString(), said.ToString()));
        AssertPassedThrough(body, h.Upstream.LastRequest, "model", "system", "stream");

        body["stream"] = true;
        var streamed = await raw.PostAsJsonAsync("/v1/messages", body);
        var events = ResponsesApiTests.SseEvents(await streamed.Content.ReadAsStringAsync());
        var expected = ResponsesApiTests.SseEvents(h.Upstream.RawEventStream);
        Assert.Equal(expected.Select(e => e.Type), events.Select(e => e.Type));
        Assert.All(expected.Zip(events), pair => Assert.True(JsonNode.DeepEquals(pair.First.Data, pair.Second.Data), pair.Second.Data.ToJsonString()));
        record = await h.InteractionAsync(streamed.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("served", true, 40, Answer), (record.Outcome, record.Streamed, record.TokensOut, record.ResponseContent));
    }

    private static readonly JsonObject ResponsesAnswer = JsonNode.Parse($$$"""
        {"id":"resp_upstream","object":"response","created_at":1764000000,"status":"completed","model":"fake-model","service_tier":"default",
         "reasoning":{"effort":"low","summary":null},
         "output":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"{{{Thinking}}}"}]},
                   {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"{{{Answer}}}","annotations":[]}]}],
         "usage":{"input_tokens":120,"output_tokens":40,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":160}}
        """)!.AsObject();

    [Fact]
    public async Task A_responses_client_and_upstream_exchange_reasoning_and_unknown_fields_and_the_response_keeps_pilotages_id()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("openai-responses");
        h.Upstream.RawAnswer = ResponsesAnswer.ToJsonString();
        var body = new JsonObject
        {
            ["model"] = GatewayHarness.System,
            ["input"] = "Order 1234 arrived broken. Can I get a refund?",
            ["reasoning"] = new JsonObject { ["effort"] = "low", ["summary"] = "auto" },
            ["text"] = new JsonObject { ["format"] = new JsonObject { ["type"] = "json_object" }, ["verbosity"] = "low" },
            ["include"] = new JsonArray("reasoning.encrypted_content"),
            ["metadata"] = new JsonObject { ["model"] = "a nested model is just metadata" },
            ["a_future_field"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) },
            ["store"] = true,
        };
        var response = await h.Member.PostAsJsonAsync("/v1/responses", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = h.Upstream.LastRequest;
        AssertPassedThrough(body, received, "model", "store");
        Assert.Equal(("fake-model", false), (received["model"]!.GetValue<string>(), received["store"]!.GetValue<bool>()));
        Assert.StartsWith("You draft polite replies to support tickets.", received["instructions"]!.GetValue<string>(), StringComparison.Ordinal);

        // The answer is the upstream's, but for its id: the response is Pilotage's record, which previous_response_id continues.
        var interaction = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("resp_" + interaction, answer["id"]!.GetValue<string>());
        answer["id"] = "resp_upstream";
        Assert.True(JsonNode.DeepEquals(ResponsesAnswer, answer), answer.ToJsonString());

#pragma warning disable OPENAI001
        var sdk = (await ResponsesApiTests.Sdk(h).CreateResponseAsync(GatewayHarness.System, "Can I get a refund?", null)).Value;
        Assert.Equal(Answer, sdk.GetOutputText());
        Assert.Single(sdk.OutputItems.OfType<OpenAI.Responses.ReasoningResponseItem>());
#pragma warning restore OPENAI001

        var next = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Any news?", previous_response_id = "resp_" + interaction });
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        var continued = h.Upstream.LastRequest;
        Assert.Null(continued["previous_response_id"]);
        var items = continued["input"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], items.Select(i => i!["role"]!.GetValue<string>()).ToArray());
        Assert.Equal("Any news?", items[^1]!["content"]!.GetValue<string>());
        Assert.Equal("resp_" + interaction, JsonNode.Parse(await next.Content.ReadAsStringAsync())!["previous_response_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_responses_stream_passes_through_event_by_event_with_pilotages_id()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("openai-responses");
        var completed = ResponsesAnswer.DeepClone().AsObject();
        var created = new JsonObject { ["id"] = "resp_upstream", ["object"] = "response", ["created_at"] = 1764000000, ["status"] = "in_progress", ["model"] = "fake-model", ["output"] = new JsonArray() };
        string[] upstream =
        [
            "event: response.created\ndata: " + new JsonObject { ["type"] = "response.created", ["sequence_number"] = 0, ["response"] = created }.ToJsonString(),
            "event: response.reasoning_summary_text.delta\ndata: " + new JsonObject { ["type"] = "response.reasoning_summary_text.delta", ["sequence_number"] = 1, ["item_id"] = "rs_1", ["output_index"] = 0, ["summary_index"] = 0, ["delta"] = Thinking }.ToJsonString(),
            "event: response.output_text.delta\ndata: " + new JsonObject { ["type"] = "response.output_text.delta", ["sequence_number"] = 2, ["item_id"] = "msg_1", ["output_index"] = 1, ["content_index"] = 0, ["delta"] = Answer, ["logprobs"] = new JsonArray() }.ToJsonString(),
            "event: response.completed\ndata: " + new JsonObject { ["type"] = "response.completed", ["sequence_number"] = 3, ["response"] = completed }.ToJsonString(),
        ];
        h.Upstream.RawEventStream = string.Concat(upstream.Select(e => e + "\n\n"));
        var response = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Can I get a refund?", stream = true, reasoning = new { effort = "low" } });
        var interaction = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        Assert.Equal("low", h.Upstream.LastRequest["reasoning"]!["effort"]!.GetValue<string>());
        var events = ResponsesApiTests.SseEvents(await response.Content.ReadAsStringAsync());
        var expected = ResponsesApiTests.SseEvents(h.Upstream.RawEventStream);
        Assert.Equal(expected.Select(e => e.Type), events.Select(e => e.Type));
        foreach (var (want, got) in expected.Zip(events))
        {
            if (want.Data["response"] is JsonObject wanted)
            {
                Assert.Equal("resp_" + interaction, got.Data["response"]!["id"]!.GetValue<string>());
                wanted["id"] = "resp_" + interaction;
            }
            Assert.True(JsonNode.DeepEquals(want.Data, got.Data), got.Data.ToJsonString());
        }
        var record = await h.InteractionAsync(interaction);
        Assert.Equal(("served", true, 40, Answer), (record.Outcome, record.Streamed, record.TokensOut, record.ResponseContent));

#pragma warning disable OPENAI001
        var text = new StringBuilder();
        await foreach (var update in await ResponsesApiTests.Sdk(h).CreateResponseStreamingAsync(GatewayHarness.System, "Can I get a refund?", null))
        {
            if (update is OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
        }
#pragma warning restore OPENAI001
        Assert.Equal(Answer, text.ToString());
    }

    [Fact]
    public async Task Chat_completions_carry_response_format_seed_logprobs_and_unknown_fields_and_return_the_upstreams_extra_fields()
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.RawAnswer = $$$"""{"id":"chatcmpl-up","object":"chat.completion","created":1764000000,"model":"fake-model","system_fingerprint":"fp_up","choices":[{"index":0,"message":{"role":"assistant","content":"{{{Answer}}}"},"logprobs":{"content":[]},"finish_reason":"stop"}],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}""";
        h.Upstream.RawStreamEvents =
        [
            $$$"""{"id":"chatcmpl-up","object":"chat.completion.chunk","created":1764000000,"model":"fake-model","system_fingerprint":"fp_up","choices":[{"index":0,"delta":{"role":"assistant","content":"{{{Answer}}}"},"finish_reason":"stop"}]}""",
            """{"id":"chatcmpl-up","object":"chat.completion.chunk","created":1764000000,"model":"fake-model","system_fingerprint":"fp_up","choices":[],"usage":{"prompt_tokens":120,"completion_tokens":40,"total_tokens":160}}""",
        ];
#pragma warning disable OPENAI001
        var options = new ChatCompletionOptions { Seed = 42, ResponseFormat = ChatResponseFormat.CreateJsonObjectFormat(), IncludeLogProbabilities = true, AllowParallelToolCalls = null };
#pragma warning restore OPENAI001
        ChatCompletion completion = await h.OpenAiChat().CompleteChatAsync([ChatMessage.CreateUserMessage("Can I get a refund?")], options);
        Assert.Equal(("fp_up", Answer), (completion.SystemFingerprint, completion.Content[0].Text));
        var received = h.Upstream.LastRequest;
        Assert.Equal((42, "json_object", true), (received["seed"]!.GetValue<int>(), received["response_format"]!["type"]!.GetValue<string>(), received["logprobs"]!.GetValue<bool>()));

        var fingerprints = new List<string?>();
        await foreach (var update in h.OpenAiChat().CompleteChatStreamingAsync([ChatMessage.CreateUserMessage("Can I get a refund?")], options)) fingerprints.Add(update.SystemFingerprint);
        Assert.Contains("fp_up", fingerprints);
        Assert.Equal(42, h.Upstream.LastRequest["seed"]!.GetValue<int>());

        var body = new JsonObject
        {
            ["model"] = GatewayHarness.System,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
            ["parallel_tool_calls"] = false,
            ["store"] = true,
            ["reasoning_effort"] = "low",
            ["prediction"] = new JsonObject { ["type"] = "content", ["content"] = "Refunds" },
            ["a_future_field"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) },
        };
        var raw = await h.Member.PostAsJsonAsync("/v1/chat/completions", body);
        AssertPassedThrough(body, h.Upstream.LastRequest, "model", "messages");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(h.Upstream.RawAnswer), JsonNode.Parse(await raw.Content.ReadAsStringAsync())));
    }
    [Fact]
    public async Task An_anthropic_client_s_beta_names_reach_an_anthropic_upstream_with_its_body_and_no_other_upstream()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic");
        using var raw = AnthropicMessagesTests.Raw(h);
        raw.DefaultRequestHeaders.Add("anthropic-beta", "interleaved-thinking-2025-05-14, files-api-2025-04-14");
        var response = await raw.PostAsJsonAsync("/v1/messages", AnthropicBody());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("interleaved-thinking-2025-05-14,files-api-2025-04-14", h.Upstream.AnthropicBetas.Last());

        // A chat client's request is translated: its body is Pilotage's own, so no beta of the client goes with it.
        using var chat = new HttpClient { BaseAddress = new Uri(h.Server.Url) };
        chat.DefaultRequestHeaders.Add("Authorization", $"Bearer {h.MemberKey}");
        chat.DefaultRequestHeaders.Add("anthropic-beta", "interleaved-thinking-2025-05-14");
        var translated = await chat.PostAsJsonAsync("/v1/chat/completions", new JsonObject
        {
            ["model"] = GatewayHarness.System,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello" }),
        });
        Assert.Equal(HttpStatusCode.OK, translated.StatusCode);
        Assert.Equal("", h.Upstream.AnthropicBetas.Last());
    }
}

/// <summary>Attacks on a body that passes through: nothing reaches the upstream that policy would not let through.</summary>
public sealed class PassThroughAttackTests
{
    private const string Card = "4111 1111 1111 1111";

    private static async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient client, string path, string json)
    {
        var response = await client.PostAsync(path, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("anthropic", "/v1/messages", """{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"model":"other-system"}""")]
    [InlineData("openai-responses", "/v1/responses", """{"model":"support-drafts","input":"hi","model":"other-system"}""")]
    [InlineData("openai-chat", "/v1/chat/completions", """{"model":"support-drafts","messages":[{"role":"user","content":"hi"}],"model":"other-system"}""")]
    public async Task A_second_top_level_model_is_refused_before_anything_is_sent(string upstream, string path, string json)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream);
        var (status, body) = await PostAsync(h.Member, path, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("invalid_json", body, StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
    }

    [Fact]
    public async Task The_data_boundary_reads_and_redacts_fields_the_common_model_does_not_know()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic", extra: "  dataBoundary:\n    block: [credit_card]\n    redact: [email]");
        // A card in a thinking block (which the common model drops) or in an unknown field: refused, nothing sent.
        var thinking = $$$"""{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"thinking","thinking":"card {{{Card}}}","signature":"s"}]},{"role":"user","content":"go on"}]}""";
        var unknown = $$$"""{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"a_future_field":{"note":"{{{Card}}}"}}""";
        // Split over two text blocks, which the model reads as one text: refused too.
        var split = """{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":"my card is 4111 1111"},{"type":"text","text":" 1111 1111 thanks"}]}]}""";
        using var raw = AnthropicMessagesTests.Raw(h);
        foreach (var json in new[] { thinking, unknown, split })
        {
            var (status, body) = await PostAsync(raw, "/v1/messages", json);
            Assert.Equal((HttpStatusCode)422, status);
            Assert.Contains("data_boundary_blocked", body, StringComparison.Ordinal);
        }
        Assert.Empty(h.Upstream.Received);

        // An address in an unknown field is redacted in what is sent.
        var (ok, _) = await PostAsync(raw, "/v1/messages", """{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"a_future_field":{"note":"write to ann@example.org"}}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        var sent = h.Upstream.LastRequest.ToJsonString();
        Assert.DoesNotContain("ann@example.org", sent, StringComparison.Ordinal);
        Assert.Contains("write to ", sent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_responses_item_the_common_model_does_not_know_is_scanned_too()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("openai-responses", extra: "  dataBoundary:\n    block: [credit_card]");
        var json = $$$"""{"model":"support-drafts","input":[{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"card {{{Card}}}"}]},{"role":"user","content":"go on"}]}""";
        var (status, body) = await PostAsync(h.Member, "/v1/responses", json);
        Assert.Equal((HttpStatusCode)422, status);
        Assert.Contains("data_boundary_blocked", body, StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
    }

    [Theory]
    [InlineData("anthropic", "/v1/messages", """{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"send_email","input_schema":{"type":"object"}},{"type":"web_search_20250305","name":"web_search"},{"name":"lookup_order","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"send_email"}}""")]
    [InlineData("openai-responses", "/v1/responses", """{"model":"support-drafts","input":"hi","tools":[{"type":"function","name":"send_email","parameters":{"type":"object"}},{"type":"web_search"},{"type":"function","name":"lookup_order","parameters":{"type":"object"}}],"tool_choice":{"type":"function","name":"send_email"}}""")]
    public async Task Read_only_mode_offers_no_side_effecting_tool_of_a_body_passed_through_built_in_ones_included(string upstream, string path, string json)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream, mode: "read_only", extra: "  tools:\n    sideEffecting: [send_email, web_search]");
        using var raw = AnthropicMessagesTests.Raw(h);
        var (status, body) = await PostAsync(raw, path, json);
        Assert.True(status == HttpStatusCode.OK, body);
        var sent = h.Upstream.LastRequest;
        Assert.Equal(["lookup_order"], sent["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal("auto", (sent["tool_choice"] as JsonObject)?["type"]?.GetValue<string>() ?? sent["tool_choice"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_an_answer_boundary_what_it_cannot_read_is_not_released_whole_or_streamed()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic", mode: "full", extra: "  dataBoundary:\n    redact: [credit_card]\n    answers: redact");
        h.Upstream.RawAnswer = $$$"""{"id":"msg_up","type":"message","role":"assistant","model":"fake-model","content":[{"type":"thinking","thinking":"their card is {{{Card}}}","signature":"s"},{"type":"text","text":"Done."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":2}}""";
        h.Upstream.RawEventStream = string.Concat(new[]
        {
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_up\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"fake-model\",\"content\":[],\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}",
            $"event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"thinking_delta\",\"thinking\":\"their card is {Card}\"}}}}",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"Done.\"}}",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}",
        }.Select(e => e + "\n\n"));
        using var raw = AnthropicMessagesTests.Raw(h);
        foreach (var stream in new[] { false, true })
        {
            var response = await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("which card?", stream));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("Done.", text, StringComparison.Ordinal);
            Assert.DoesNotContain("1111", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_chat_client_that_turns_off_usage_still_has_its_tokens_counted()
    {
        await using var h = await GatewayHarness.StartAsync();
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = GatewayHarness.System, stream = true, stream_options = new { include_usage = false },
            messages = new[] { new { role = "user", content = "hi" } },
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(h.Upstream.LastRequest["stream_options"]!["include_usage"]!.GetValue<bool>());
        Assert.DoesNotContain("\"usage\"", text, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal((120, 40), (record.TokensIn, record.TokensOut));
    }

    [Fact]
    public async Task An_anthropic_beta_header_that_is_not_a_list_of_beta_names_is_refused_and_nothing_is_sent()
    {
        await using var h = await UpstreamProtocolTests.StartAsync("anthropic");
        using var raw = AnthropicMessagesTests.Raw(h);
        // Another header smuggled as a "beta name": refused whole, in Anthropic's error shape.
        raw.DefaultRequestHeaders.TryAddWithoutValidation("anthropic-beta", "interleaved-thinking-2025-05-14, x-api-key: sk-someone-elses");
        var response = await raw.PostAsync("/v1/messages", new StringContent(
            """{"model":"support-drafts","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("error", error["type"]!.GetValue<string>());
        Assert.Contains("anthropic-beta", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
    }
}
