using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// Every client protocol against an upstream of every protocol (<c>upstream.protocol</c>), driven by the official
/// .NET clients: the same answer, the same evidence and cost, whatever the pair; tool calls across a translation.
/// </summary>
public sealed class UpstreamProtocolTests
{
    public enum Client { Chat, Responses, Anthropic }

    public static TheoryData<Client, string> Pairs()
    {
        var pairs = new TheoryData<Client, string>();
        foreach (var client in Enum.GetValues<Client>())
        {
            foreach (var upstream in new[] { "openai-chat", "openai-responses", "anthropic" }) pairs.Add(client, upstream);
        }
        return pairs;
    }

    /// <summary>The harness with its system's upstream speaking <paramref name="protocol"/>.</summary>
    internal static async Task<GatewayHarness> StartAsync(string protocol, string mode = "draft", string extra = "", string upstreamExtra = "")
    {
        var h = await GatewayHarness.StartAsync(mode, extra);
        await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, mode, extra)
            .Replace("    model: fake-model", $"    model: fake-model\n    protocol: {protocol}{upstreamExtra}", StringComparison.Ordinal));
        return h;
    }

    internal static IChatClient ClientOf(GatewayHarness h, Client client) => client switch
    {
        Client.Chat => h.OpenAiChat().AsIChatClient(),
        Client.Responses => ResponsesApiTests.Responses(h),
        _ => AnthropicMessagesTests.Claude(h),
    };

    /// <summary>The newest evidence record.</summary>
    internal static async Task<InteractionRow> LastRecordAsync(GatewayHarness h)
    {
        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var rows = await db.Interactions.AsNoTracking().ToListAsync();
        return rows.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Last();
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task A_client_of_each_protocol_reads_plain_and_streamed_answers_of_an_upstream_of_each_protocol_with_the_same_evidence(Client client, string upstream)
    {
        await using var h = await StartAsync(upstream);
        var chat = ClientOf(h, client);
        var options = new ChatOptions { MaxOutputTokens = 200 };

        var plain = await chat.GetResponseAsync("Can I get a refund?", options);
        Assert.Equal(h.Upstream.AnswerText, plain.Text);
        AssertSentAs(upstream, h.Upstream.LastRequest, stream: false);
        var record = await LastRecordAsync(h);
        Assert.Equal(("chat", "served", false, 120, 40, 0.12m), (record.Endpoint, record.Outcome, record.Streamed, record.TokensIn, record.TokensOut, record.Cost));
        Assert.Contains(h.Upstream.AnswerText, record.ResponseContent, StringComparison.Ordinal);
        Assert.Contains("Can I get a refund?", record.RequestContent, StringComparison.Ordinal);

        Assert.Equal(h.Upstream.AnswerText, await StreamAsync(h, client, options));
        AssertSentAs(upstream, h.Upstream.LastRequest, stream: true, limited: client != Client.Responses);
        record = await LastRecordAsync(h);
        Assert.Equal(("chat", "served", true, 120, 40, 0.12m), (record.Endpoint, record.Outcome, record.Streamed, record.TokensIn, record.TokensOut, record.Cost));
        Assert.Equal(h.Upstream.AnswerText, record.ResponseContent);
    }

    /// <summary>
    /// A streamed answer's text. The Responses client streams through the SDK itself: the IChatClient adapter of the
    /// pinned Microsoft.Extensions.AI.OpenAI calls a streaming method this SDK version no longer has.
    /// </summary>
    private static async Task<string> StreamAsync(GatewayHarness h, Client client, ChatOptions options)
    {
        var text = new System.Text.StringBuilder();
        if (client == Client.Responses)
        {
#pragma warning disable OPENAI001
            await foreach (var update in await ResponsesApiTests.Sdk(h).CreateResponseStreamingAsync(GatewayHarness.System, "Can I get a refund?", null))
            {
                if (update is OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
            }
#pragma warning restore OPENAI001
            return text.ToString();
        }
        await foreach (var update in ClientOf(h, client).GetStreamingResponseAsync("Can I get a refund?", options)) text.Append(update.Text);
        return text.ToString();
    }

    /// <summary>The request as the upstream's protocol writes it, with the spec's model, system prompt and the client's token limit.</summary>
    private static void AssertSentAs(string upstream, JsonObject sent, bool stream, bool limited = true)
    {
        Assert.Equal("fake-model", sent["model"]!.GetValue<string>());
        Assert.Equal(stream, sent["stream"]?.GetValue<bool>() ?? false);
        switch (upstream)
        {
            case "openai-chat":
                Assert.Equal("system", sent["messages"]![0]!["role"]!.GetValue<string>());
                break;
            case "openai-responses":
                Assert.StartsWith("You draft polite replies to support tickets.", sent["instructions"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Equal("Can I get a refund?", Text(sent["input"]!.AsArray().Last()!["content"]));
                if (limited) Assert.Equal(200, sent["max_output_tokens"]!.GetValue<int>());
                Assert.False(sent["store"]!.GetValue<bool>());
                Assert.Null(sent["messages"]);
                break;
            default:
                Assert.StartsWith("You draft polite replies to support tickets.", sent["system"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Equal("user", sent["messages"]![0]!["role"]!.GetValue<string>());
                if (limited) Assert.Equal(200, sent["max_tokens"]!.GetValue<int>());
                Assert.Null(sent["stream_options"]);
                break;
        }
    }

    /// <summary>A message's text, whether content is a string or a list of parts.</summary>
    private static string? Text(JsonNode? content) =>
        content is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.GetValue<string>())) : content?.GetValue<string>();

    [Fact]
    public async Task A_responses_client_calls_a_tool_through_an_anthropic_upstream_and_sends_its_result_back()
    {
        await using var h = await StartAsync("anthropic");
        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var tools = new[] { new { type = "function", name = "send_email", description = "Send an e-mail", parameters = new { type = "object", properties = new { to = new { type = "string" } } } } };
        var first = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Mail the customer", tools });
        var call = (await first.Content.ReadFromJsonAsync<JsonObject>())!["output"]![0]!;
        Assert.Equal(("function_call", "toolu_1", "send_email", "{\"to\":\"customer\"}"),
            (call["type"]!.GetValue<string>(), call["call_id"]!.GetValue<string>(), call["name"]!.GetValue<string>(), call["arguments"]!.GetValue<string>()));
        var offered = h.Upstream.LastRequest["tools"]![0]!;
        Assert.Equal(("send_email", "object"), (offered["name"]!.GetValue<string>(), offered["input_schema"]!["type"]!.GetValue<string>()));

        // The same call, streamed: the arguments arrive in pieces, as Responses events.
        var streamed = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Mail the customer", tools, stream = true });
        var events = ResponsesApiTests.SseEvents(await streamed.Content.ReadAsStringAsync());
        Assert.Equal("{\"to\":\"customer\"}", string.Concat(events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => e.Data["delta"]!.GetValue<string>())));
        Assert.Equal("send_email", events.Last(e => e.Type == "response.completed").Data["response"]!["output"]![0]!["name"]!.GetValue<string>());

        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        var second = await h.Member.PostAsJsonAsync("/v1/responses", new
        {
            model = GatewayHarness.System,
            tools,
            input = new object[]
            {
                new { role = "user", content = "Mail the customer" },
                new { type = "function_call", call_id = "toolu_1", name = "send_email", arguments = "{\"to\":\"customer\"}" },
                new { type = "function_call_output", call_id = "toolu_1", output = "sent" },
            },
        });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var turns = h.Upstream.LastRequest["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], turns.Select(t => t!["role"]!.GetValue<string>()).ToArray());
        var use = turns[1]!["content"]![0]!;
        Assert.Equal(("tool_use", "toolu_1", "customer"), (use["type"]!.GetValue<string>(), use["id"]!.GetValue<string>(), use["input"]!["to"]!.GetValue<string>()));
        var result = turns[2]!["content"]![0]!;
        Assert.Equal(("tool_result", "toolu_1", "sent"), (result["type"]!.GetValue<string>(), result["tool_use_id"]!.GetValue<string>(), result["content"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task Chat_and_anthropic_clients_get_tool_calls_of_a_translated_upstream_whole_and_streamed(string upstream)
    {
        await using var h = await StartAsync(upstream);
        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var tool = AIFunctionFactory.Create((string to) => "sent", "send_email", "Send an e-mail");
        var options = new ChatOptions { Tools = [tool], MaxOutputTokens = 100 };
        foreach (var client in new[] { Client.Chat, Client.Anthropic })
        {
            var answer = await ClientOf(h, client).GetResponseAsync("Mail the customer", options);
            var call = Assert.Single(answer.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Equal(("send_email", "customer"), (call.Name, call.Arguments!["to"]?.ToString()));
            // The tool call is evidence whatever the protocols: the whole answer's record names it.
            Assert.Contains("send_email", (await LastRecordAsync(h)).ResponseContent ?? "", StringComparison.Ordinal);
            var streamed = new List<FunctionCallContent>();
            await foreach (var update in ClientOf(h, client).GetStreamingResponseAsync("Mail the customer", options)) streamed.AddRange(update.Contents.OfType<FunctionCallContent>());
            Assert.Equal(("send_email", "customer"), (Assert.Single(streamed).Name, streamed[0].Arguments!["to"]?.ToString()));
        }
    }

    [Fact]
    public async Task An_anthropic_upstream_gets_its_key_as_x_api_key_with_a_version_and_a_responses_upstream_as_bearer()
    {
        const string Env = "TRANSLATED_UPSTREAM_TEST_API_KEY";
        Environment.SetEnvironmentVariable(Env, "sk-upstream-secret");
        try
        {
            await using var h = await StartAsync("anthropic", upstreamExtra: $"\n    apiKeyEnv: {Env}");
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
            Assert.Equal("sk-upstream-secret", Assert.Single(h.Upstream.ApiKeys));
            Assert.Empty(h.Upstream.Authorizations);
            Assert.Equal(4096, h.Upstream.LastRequest["max_tokens"]!.GetValue<int>()); // required by Anthropic; the client set none

            await h.Server.ApplyAsync(GatewayHarness.Spec(GatewayHarness.System, h.Upstream.BaseUrl, "draft", "")
                .Replace("    model: fake-model", $"    model: fake-model\n    protocol: openai-responses\n    apiKeyEnv: {Env}", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
            Assert.Equal("Bearer sk-upstream-secret", Assert.Single(h.Upstream.Authorizations));
        }
        finally
        {
            Environment.SetEnvironmentVariable(Env, null);
        }
    }

    [Theory]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task A_long_redacted_message_reaches_a_translated_upstream_whole(string upstream)
    {
        // A long message with a hit is redacted from the request's own UTF-8 (no string of its size); a translation to
        // another upstream protocol reads it as text, and must get the redacted text, escapes decoded, nothing lost.
        await using var h = await StartAsync(upstream, mode: "full", extra: "  dataBoundary:\n    redact: [credit_card]");
        const string Card = "4111 1111 1111 1111";
        var prose = string.Concat(Enumerable.Repeat("The parcel left the depot on Tuesday and should arrive soon. ", 8));
        var message = $"Caf\u00e9 order 1234: {prose} My card is {Card}, thank you \"kindly\".";
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody(message))).StatusCode);
        var sent = h.Upstream.LastRequest.ToJsonString();
        Assert.DoesNotContain(Card, sent, StringComparison.Ordinal);
        Assert.Contains("order 1234", sent, StringComparison.Ordinal);
        Assert.Contains("thank you", sent, StringComparison.Ordinal);
        Assert.Contains("should arrive soon", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("\\uFFFD", sent, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\uFFFD", sent, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task Read_only_mode_and_the_data_boundary_hold_across_a_translation(string upstream)
    {
        await using var h = await StartAsync(upstream, mode: "read_only", extra: "  tools:\n    sideEffecting: [send_email]\n  dataBoundary:\n    redact: [credit_card]");
        var offered = new object[]
        {
            new { type = "function", function = new { name = "send_email", parameters = new { type = "object" } } },
            new { type = "function", function = new { name = "lookup_order", parameters = new { type = "object" } } },
        };
        const string Card = "4111 1111 1111 1111";
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody($"Where is 1234? My card is {Card}", tools: offered))).StatusCode);
        var sent = h.Upstream.LastRequest;
        Assert.Equal(["lookup_order"], sent["tools"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToArray());
        Assert.DoesNotContain(Card, sent.ToJsonString(), StringComparison.Ordinal);
        Assert.Contains("Where is 1234?", sent.ToJsonString(), StringComparison.Ordinal);

        // The model calls the side-effecting tool anyway: blocked whole and streamed, in each client's protocol.
        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var blocked = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("Email the customer", tools: offered));
        Assert.Equal((HttpStatusCode.Forbidden, "side_effect_blocked"), (blocked.Status, blocked.Code));
        var streamed = await (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Email the customer", stream: true, tools: offered))).Content.ReadAsStringAsync();
        Assert.Contains("side_effect_blocked", streamed, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", streamed, StringComparison.Ordinal);
        using var raw = AnthropicMessagesTests.Raw(h);
        var anthropic = await (await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("Email the customer", stream: true, tools: new[] { new { name = "send_email", input_schema = new { type = "object" } } }))).Content.ReadAsStringAsync();
        var last = ResponsesApiTests.SseEvents(anthropic)[^1];
        Assert.Equal(("error", "side_effect_blocked"), (last.Type, last.Data["error"]!["code"]!.GetValue<string>()));
        Assert.DoesNotContain("message_stop", anthropic, StringComparison.Ordinal);
    }
}
