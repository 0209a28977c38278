using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// What a translated upstream's failures and hostile answers become: a refusal in the caller's protocol naming the
/// upstream host, a stream ended with the caller's error event, a failed evidence record; never a crash or a hang.
/// </summary>
public sealed class TranslatedUpstreamFailureTests
{
    [Theory]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task Upstream_errors_are_refusals_in_the_callers_protocol_naming_the_host(string upstream)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream);
        var host = new Uri(h.Upstream.BaseUrl).Authority;
        h.Upstream.Behaviour = UpstreamBehaviour.ServerError;

        var (status, code, message, chat) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (status, code));
        Assert.Contains(host, message, StringComparison.Ordinal);
        Assert.Contains("model overloaded", message, StringComparison.Ordinal); // the upstream's own message, read from its error shape

        var responses = await GatewayRefusalTests.SendAsync(h.Member, new { model = GatewayHarness.System, input = "hi" }, "/v1/responses");
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_error"), (responses.Status, responses.Code));

        using var raw = AnthropicMessagesTests.Raw(h);
        var anthropic = await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("hi"));
        Assert.Equal(HttpStatusCode.BadGateway, anthropic.StatusCode);
        var error = await anthropic.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(("error", "api_error", "upstream_error"), (error!["type"]!.GetValue<string>(), error["error"]!["type"]!.GetValue<string>(), error["error"]!["code"]!.GetValue<string>()));

        var record = await h.InteractionAsync(chat.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_error", 500), (record.Outcome, record.RefusalCode, record.UpstreamStatus));

        h.Upstream.Behaviour = UpstreamBehaviour.Unauthorized;
        Assert.Equal("upstream_auth", (await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"))).Code);

        // Embeddings have no translation: the caller is told which upstream cannot do them.
        var embeddings = await GatewayRefusalTests.SendAsync(h.Member, new { model = GatewayHarness.System, input = "hi" }, "/v1/embeddings");
        Assert.Equal((HttpStatusCode.BadRequest, "unsupported_operation"), (embeddings.Status, embeddings.Code));
        Assert.Contains(upstream, embeddings.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> HostileAnswers() => new()
    {
        { "openai-responses", "{\"object\":\"response\",\"output\":[" },
        { "openai-responses", "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[]}" },
        { "openai-responses", "{\"object\":\"response\",\"status\":\"failed\",\"error\":{\"message\":\"boom\"},\"output\":[]}" },
        { "openai-responses", "{\"object\":\"response\",\"output\":[{\"type\":\"function_call\",\"name\":7}]}" },
        { "openai-responses", "[1,2,3]" },
        { "anthropic", "{\"type\":\"message\",\"content\":" },
        { "anthropic", "{\"type\":\"message\",\"content\":\"not a list\"}" },
        { "anthropic", "{\"type\":\"error\",\"error\":{\"message\":\"x\"}}" },
        { "anthropic", "{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"name\":{\"a\":1}}]}" },
        { "anthropic", "\"just a string\"" },
    };

    [Theory]
    [MemberData(nameof(HostileAnswers))]
    public async Task A_whole_answer_that_is_not_the_upstreams_protocol_is_a_502_in_the_callers_shape(string upstream, string answer)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream);
        h.Upstream.RawAnswer = answer;
        var (status, code, _, response) = await GatewayRefusalTests.SendAsync(h.Member, GatewayHarness.ChatBody("hi"));
        Assert.Equal((HttpStatusCode.BadGateway, "upstream_malformed"), (status, code));
        using var raw = AnthropicMessagesTests.Raw(h);
        var anthropic = await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("hi"));
        Assert.Equal(HttpStatusCode.BadGateway, anthropic.StatusCode);
        Assert.Equal("upstream_malformed", (await anthropic.Content.ReadFromJsonAsync<JsonObject>())!["error"]!["code"]!.GetValue<string>());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_malformed"), (record.Outcome, record.RefusalCode));
    }

    private static string Event(string type, string data) => $"event: {type}\ndata: {data}\n\n";

    private const string MessageStart = "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}";
    private const string TextStart = "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}";
    private const string Created = "{\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"model\":\"m\",\"output\":[]}}";

    public static TheoryData<string, string, string> HostileStreams() => new()
    {
        { "anthropic", Event("message_start", MessageStart) + Event("content_block_start", TextStart) + Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel"), "upstream_malformed" },
        { "anthropic", Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"early\"}}"), "upstream_malformed" },
        { "anthropic", Event("message_start", MessageStart) + Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}}"), "upstream_malformed" },
        { "anthropic", Event("message_start", MessageStart) + Event("message_start", MessageStart), "upstream_malformed" },
        { "anthropic", Event("message_start", MessageStart) + Event("error", "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"), "upstream_malformed" },
        { "anthropic", Event("message_start", MessageStart) + Event("content_block_start", TextStart), "upstream_truncated" },
        { "openai-responses", Event("response.created", Created) + Event("response.output_text.delta", "[\"not an object\"]"), "upstream_malformed" },
        { "openai-responses", Event("response.created", Created) + Event("response.function_call_arguments.delta", "{\"type\":\"response.function_call_arguments.delta\",\"output_index\":4,\"delta\":\"{}\"}"), "upstream_malformed" },
        { "openai-responses", Event("response.created", Created) + Event("response.failed", "{\"type\":\"response.failed\",\"response\":{\"error\":{\"message\":\"boom\"}}}"), "upstream_malformed" },
        { "openai-responses", Event("response.created", Created) + Event("response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"delta\":\"half\"}"), "upstream_truncated" },
    };

    [Theory]
    [MemberData(nameof(HostileStreams))]
    public async Task A_stream_of_invalid_or_out_of_order_events_ends_with_the_callers_error_event_and_a_failed_record(string upstream, string stream, string code)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream);
        h.Upstream.RawEventStream = stream;
        using var chat = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi", stream: true));
        var body = await chat.Content.ReadAsStringAsync();
        Assert.Contains(code, body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(chat.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", code), (record.Outcome, record.RefusalCode));

        using var raw = AnthropicMessagesTests.Raw(h);
        var anthropic = await (await raw.PostAsJsonAsync("/v1/messages", AnthropicMessagesTests.Body("hi", stream: true))).Content.ReadAsStringAsync();
        var last = ResponsesApiTests.SseEvents(anthropic)[^1];
        Assert.Equal(("error", code), (last.Type, last.Data["error"]!["code"]!.GetValue<string>()));
        var responses = await (await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "hi", stream = true })).Content.ReadAsStringAsync();
        Assert.Equal(("error", code), (ResponsesApiTests.SseEvents(responses)[^1].Type, ResponsesApiTests.SseEvents(responses)[^1].Data["code"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("openai-responses")]
    [InlineData("anthropic")]
    public async Task A_huge_delta_is_cut_at_the_answer_size_limit_and_the_gateway_stays_healthy(string upstream)
    {
        await using var h = await UpstreamProtocolTests.StartAsync(upstream, mode: "full");
        var huge = new string('x', 33 * 1024 * 1024);
        h.Upstream.RawEventStream = upstream == "anthropic"
            ? Event("message_start", MessageStart) + Event("content_block_start", TextStart) + Event("content_block_delta", "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"" + huge + "\"}}")
            : Event("response.created", Created) + Event("response.output_text.delta", "{\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"" + huge + "\"}");
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Tell me everything", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("larger than 32 MB", body, StringComparison.Ordinal);
        Assert.True(body.Length < 1024 * 1024, "nothing of the huge delta reached the client");
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_truncated"), (record.Outcome, record.RefusalCode));
        h.Upstream.RawEventStream = null;
        Assert.Equal(HttpStatusCode.OK, (await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hi"))).StatusCode);
    }
}
