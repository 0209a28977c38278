using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using Pilotage.Testing;
using ChatMessage = OpenAI.Chat.ChatMessage;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>Each serving mode, through the official OpenAI SDK, Microsoft.Extensions.AI and raw HTTP.</summary>
public sealed class GatewayModeTests
{
    [Fact]
    public async Task The_OpenAI_SDK_gets_the_answer_and_the_upstream_gets_the_systems_configuration()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        ChatCompletion completion = await h.OpenAiChat().CompleteChatAsync([ChatMessage.CreateUserMessage("Where is my order 1234?")], new ChatCompletionOptions { Temperature = 1.5f });

        Assert.Equal(h.Upstream.AnswerText, completion.Content[0].Text);
        Assert.Equal(120, completion.Usage.InputTokenCount);
        var sent = h.Upstream.LastRequest;
        Assert.Equal("fake-model", sent["model"]!.GetValue<string>());
        Assert.Equal(0.2, sent["temperature"]!.GetValue<double>(), 3); // the spec's value wins over the client's 1.5
        var messages = sent["messages"]!.AsArray();
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        Assert.Equal("You draft polite replies to support tickets.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("Where is my order 1234?", messages[1]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_answer_carries_its_interaction_id_and_mode_and_has_its_evidence_record()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "draft");
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("draft", response.Headers.GetValues("x-pilotage-mode").Single());
        var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        Assert.StartsWith("int_", id, StringComparison.Ordinal);

        // Durable mode: the record is committed before the answer was released, so it is there now.
        var record = await h.InteractionAsync(id);
        Assert.Equal("served", record.Outcome);
        Assert.Equal("draft", record.Mode);
        Assert.Equal("pilot", record.Phase);
        Assert.Equal(GatewayHarness.System, record.System);
        Assert.Equal("mia@example.org", record.UserEmail);
        Assert.Contains(GatewayHarness.Group, record.Groups, StringComparison.Ordinal);
        Assert.Equal(1, record.ConfigVersion);
        Assert.Equal(120, record.TokensIn);
        Assert.Equal(40, record.TokensOut);
        Assert.Equal(0.12m, record.Cost); // 120 × 0.5/1000 + 40 × 1.5/1000
        Assert.NotNull(record.FirstByteMs);
        Assert.True(record.TotalMs >= record.FirstByteMs);
        Assert.Equal(200, record.UpstreamStatus);
        Assert.Contains("Hello", record.RequestContent, StringComparison.Ordinal);
        Assert.Contains("refund", record.ResponseContent, StringComparison.Ordinal);
        Assert.Equal(64, record.RequestHash!.Length);
    }

    [Fact]
    public async Task Streaming_forwards_chunks_and_records_tokens_without_leaking_the_usage_chunk()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        var text = new StringBuilder();
        await foreach (var update in h.OpenAiChat().CompleteChatStreamingAsync([ChatMessage.CreateUserMessage("Hi")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
        }
        Assert.Equal(h.Upstream.AnswerText, text.ToString());
        Assert.True(h.Upstream.LastRequest["stream_options"]!["include_usage"]!.GetValue<bool>());

        using var raw = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hi", stream: true));
        Assert.Equal("text/event-stream", raw.Content.Headers.ContentType?.MediaType);
        var body = await raw.Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"usage\"", body, StringComparison.Ordinal); // the client did not ask for it
        Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(raw.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.True(record.Streamed);
        Assert.Equal(120, record.TokensIn);
        Assert.Equal(40, record.TokensOut);
        Assert.Equal(h.Upstream.AnswerText, record.ResponseContent);
    }

    [Fact]
    public async Task Microsoft_Extensions_AI_chat_client_works_unchanged_streaming_and_not()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        IChatClient client = new OpenAIClient(new ApiKeyCredential(h.MemberKey), new OpenAIClientOptions { Endpoint = new Uri(h.Server.Url + "/v1") })
            .GetChatClient(GatewayHarness.System).AsIChatClient();
        var response = await client.GetResponseAsync("Summarise the ticket");
        Assert.Equal(h.Upstream.AnswerText, response.Text);

        var streamed = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync("Summarise it again"))
        {
            streamed.Append(update.Text);
        }
        Assert.Equal(h.Upstream.AnswerText, streamed.ToString());
    }

    [Fact]
    public async Task Answers_held_answers_and_refusals_carry_their_length_instead_of_chunked_framing()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        await AssertSentWhole(await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hello")), HttpStatusCode.OK);
        await AssertSentWhole(await h.Member.PostAsJsonAsync("/v1/chat/completions", new { model = "no-such-system", messages = new[] { new { role = "user", content = "hi" } } }), HttpStatusCode.NotFound);

        await using var held = await GatewayHarness.StartAsync(mode: "approval");
        await AssertSentWhole(await held.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Hello")), HttpStatusCode.Accepted);

        static async Task AssertSentWhole(HttpResponseMessage response, HttpStatusCode expected)
        {
            Assert.Equal(expected, response.StatusCode);
            var body = await response.Content.ReadAsByteArrayAsync();
            Assert.NotEmpty(body);
            Assert.NotEqual(true, response.Headers.TransferEncodingChunked);
            Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        }
    }

    [Fact]
    public async Task Approval_mode_holds_the_answer_until_a_reviewer_releases_it()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "approval");
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Can I get a refund?"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-pilotage-held").Single());
        var held = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = held.GetProperty("id").GetString()!;
        Assert.Equal("pending", held.GetProperty("status").GetString());
        // The held notice is a chat completion any client reads: its text names the interaction.
        Assert.Contains(id, held.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("refund the order", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var pending = await h.Member.GetFromJsonAsync<JsonElement>($"/v1/interactions/{id}");
        Assert.Equal("pending", pending.GetProperty("status").GetString());

        // A member cannot release; the system's reviewer can.
        Assert.Equal(HttpStatusCode.Forbidden, (await h.Server.ClientFor(h.MemberKey).PostAsJsonAsync($"/api/v1/approvals/{id}/release", new { })).StatusCode);
        var reviewer = h.Server.ClientFor(await h.Server.CreateKeyAsync("rita@example.org"));
        var queue = await reviewer.GetFromJsonAsync<JsonElement[]>($"/api/v1/approvals?system={GatewayHarness.System}");
        Assert.Contains(queue!, q => q.GetProperty("interactionId").GetString() == id);
        Assert.Equal(HttpStatusCode.OK, (await reviewer.PostAsJsonAsync($"/api/v1/approvals/{id}/release", new { reason = "accurate" })).StatusCode);

        var released = await h.Member.GetAsync($"/v1/interactions/{id}");
        Assert.Equal("released", released.Headers.GetValues("x-pilotage-status").Single());
        var completion = await released.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(h.Upstream.AnswerText, completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("held", (await h.InteractionAsync(id)).Outcome);

        // Another answer, rejected: the app learns it was rejected and why.
        var second = await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("And a discount?"))).Content.ReadFromJsonAsync<JsonElement>();
        var secondId = second.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.BadRequest, (await reviewer.PostAsJsonAsync($"/api/v1/approvals/{secondId}/reject", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reviewer.PostAsJsonAsync($"/api/v1/approvals/{secondId}/reject", new { reason = "promises a discount we do not offer" })).StatusCode);
        var rejected = await h.Member.GetFromJsonAsync<JsonElement>($"/v1/interactions/{secondId}");
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Contains("discount we do not offer", rejected.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_only_mode_strips_side_effecting_tools_and_blocks_a_call_to_one()
    {
        const string tools = "  tools:\n    sideEffecting: [send_email]";
        await using var h = await GatewayHarness.StartAsync(mode: "read_only", extra: tools);
        var offered = new object[]
        {
            new { type = "function", function = new { name = "send_email", parameters = new { type = "object" } } },
            new { type = "function", function = new { name = "lookup_order", parameters = new { type = "object" } } },
        };
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is 1234?", tools: offered));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("read_only", response.Headers.GetValues("x-pilotage-mode").Single());
        var sentTools = h.Upstream.LastRequest["tools"]!.AsArray();
        Assert.Equal(["lookup_order"], sentTools.Select(t => t!["function"]!["name"]!.GetValue<string>()).ToArray());

        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var blocked = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Email the customer", tools: offered));
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        var error = (await blocked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("side_effect_blocked", error.GetProperty("code").GetString());
        Assert.Contains("send_email", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        var streamed = await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Email the customer", stream: true, tools: offered))).Content.ReadAsStringAsync();
        Assert.Contains("side_effect_blocked", streamed, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", streamed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_only_mode_streams_text_as_received_and_blocks_a_call_however_its_chunk_is_written()
    {
        // Chunks of text alone are read in one pass in read-only mode; a call must not slip through that way, whether
        // its key is written with an escape, it sits under `message`, or it is the legacy `function_call`.
        await using var h = await GatewayHarness.StartAsync(mode: "read_only", extra: "  tools:\n    sideEffecting: [send_email]");
        const string Text = """{"id":"c","choices":[{"index":0,"delta":{"content":"We will refund "}}]}""";
        h.Upstream.RawStreamEvents = [Text, """{"id":"c","choices":[{"index":0,"delta":{"content":"the order."}}]}"""];
        using (var served = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Refund?", stream: true)))
        {
            var body = await served.Content.ReadAsStringAsync();
            Assert.StartsWith($"data: {Text}\n\n", body, StringComparison.Ordinal);
            Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
            var record = await h.InteractionAsync(served.Headers.GetValues("x-pilotage-interaction-id").Single());
            Assert.Equal(("served", "We will refund the order."), (record.Outcome, record.ResponseContent));
        }
        string[] calls =
        [
            """{"choices":[{"index":0,"delta":{"tool\u005fcalls":[{"index":0,"function":{"name":"send_email","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"message":{"tool_calls":[{"function":{"name":"send_email","arguments":"{}"}}]}}]}""",
            """{"choices":[{"index":0,"delta":{"function\u005fcall":{"name":"send_email","arguments":"{}"}}}]}""",
        ];
        foreach (var call in calls)
        {
            h.Upstream.RawStreamEvents = [Text, call];
            var streamed = await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Email the customer", stream: true))).Content.ReadAsStringAsync();
            Assert.Contains("side_effect_blocked", streamed, StringComparison.Ordinal);
            Assert.DoesNotContain("[DONE]", streamed, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Read_only_mode_strips_and_blocks_side_effecting_legacy_functions_too()
    {
        // The deprecated `functions` / `function_call` API is still honoured by OpenAI-compatible servers: a way
        // around the `tools` check unless it is checked the same way.
        await using var h = await GatewayHarness.StartAsync(mode: "read_only", extra: "  tools:\n    sideEffecting: [send_email]");
        var request = new
        {
            model = GatewayHarness.System,
            messages = new object[] { new { role = "user", content = "Email the customer" } },
            functions = new object[] { new { name = "send_email" }, new { name = "lookup_order" } },
            function_call = new { name = "send_email" },
        };
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", request)).StatusCode);
        Assert.Equal(["lookup_order"], h.Upstream.LastRequest["functions"]!.AsArray().Select(f => f!["name"]!.GetValue<string>()).ToArray());
        Assert.Equal("auto", h.Upstream.LastRequest["function_call"]!.GetValue<string>());

        var onlySideEffecting = new { model = GatewayHarness.System, messages = request.messages, functions = new object[] { new { name = "send_email" } } };
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", onlySideEffecting)).StatusCode);
        Assert.Null(h.Upstream.LastRequest["functions"]);

        h.Upstream.RawAnswer = """{"choices":[{"index":0,"message":{"role":"assistant","content":null,"function_call":{"name":"send_email","arguments":"{}"}},"finish_reason":"function_call"}]}""";
        var blocked = await h.Member.PostAsJsonAsync("/v1/chat/completions", request);
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Equal("side_effect_blocked", (await blocked.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Shadow_mode_calls_the_model_records_the_answer_and_sends_the_caller_to_the_manual_process()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "shadow");
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Draft a reply"));
        Assert.Equal((HttpStatusCode)423, response.StatusCode);
        var error = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
        Assert.Equal("shadow_mode", error.GetProperty("code").GetString());
        Assert.Contains("manual process", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Single(h.Upstream.Received);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("shadowed", record.Outcome);
        Assert.Contains("refund", record.ResponseContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embeddings_go_through_the_same_controls()
    {
        const string boundary = "  dataBoundary:\n    redact: [email]";
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: boundary);
        var response = await h.Member.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = new[] { "write to ana@example.org", "plain" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = h.Upstream.LastRequest;
        Assert.Equal("fake-model", sent["model"]!.GetValue<string>());
        Assert.Equal("write to [REDACTED:email]", sent["input"]![0]!.GetValue<string>());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal("embeddings", record.Endpoint);
        Assert.Null(record.ResponseContent);
        Assert.Contains("email", record.DetectorHits, StringComparison.Ordinal);

        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "member", "elsewhere"));
        Assert.Equal(HttpStatusCode.Forbidden, (await outsider.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = "x" })).StatusCode);
    }

    [Fact]
    public async Task Models_lists_only_the_systems_this_key_may_use_now()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "draft");
        await h.Server.ApplyAsync(GatewayHarness.Spec("not-started", h.Upstream.BaseUrl, "draft", ""));
        var models = await h.Member.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal("list", models.GetProperty("object").GetString());
        Assert.Equal(new[] { GatewayHarness.System }, models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToArray());
        var outsider = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("olga@example.org", "member", "elsewhere"));
        Assert.Empty((await outsider.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray());
    }
}
