using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Anthropic;
using Microsoft.Extensions.AI;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>The Anthropic Messages API through the gateway, driven by Anthropic's .NET SDK and by raw HTTP for its events.</summary>
public sealed class AnthropicMessagesTests
{
    internal static IChatClient Claude(GatewayHarness h, string? key = null) =>
        new AnthropicClient { ApiKey = key ?? h.MemberKey, BaseUrl = h.Server.Url, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(60) }.AsIChatClient(GatewayHarness.System, 256);

    /// <summary>A raw client that authenticates as Claude clients do: <c>x-api-key</c> and <c>anthropic-version</c>.</summary>
    internal static HttpClient Raw(GatewayHarness h, string? key = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(h.Server.Url) };
        client.DefaultRequestHeaders.Add("x-api-key", key ?? h.MemberKey);
        client.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return client;
    }

    internal static object Body(string text, bool stream = false, object? tools = null) => tools is null
        ? new { model = GatewayHarness.System, max_tokens = 256, stream, messages = new[] { new { role = "user", content = text } } }
        : new { model = GatewayHarness.System, max_tokens = 256, stream, messages = new[] { new { role = "user", content = text } }, tools };

    [Fact]
    public async Task The_sdk_gets_a_governed_answer_with_its_system_prompt_and_the_same_evidence_as_chat()
    {
        await using var h = await GatewayHarness.StartAsync();
        var answer = await Claude(h).GetResponseAsync([new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Can I get a refund?")]);
        Assert.Equal(h.Upstream.AnswerText, answer.Text);
        var messages = h.Upstream.LastRequest["messages"]!.AsArray();
        Assert.Equal(["system", "system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()).ToArray());
        Assert.Equal("Be brief.", messages[1]!["content"]!.GetValue<string>());
        Assert.Equal(256, h.Upstream.LastRequest["max_tokens"]!.GetValue<int>());

        using var raw = Raw(h);
        var response = await raw.PostAsJsonAsync("/v1/messages", Body("Hello"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        var message = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("message", "assistant", "msg_" + id, "end_turn"), (message.GetProperty("type").GetString(), message.GetProperty("role").GetString(), message.GetProperty("id").GetString(), message.GetProperty("stop_reason").GetString()));
        Assert.Equal(h.Upstream.AnswerText, message.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal((120, 40), (message.GetProperty("usage").GetProperty("input_tokens").GetInt32(), message.GetProperty("usage").GetProperty("output_tokens").GetInt32()));
        var record = await h.InteractionAsync(id);
        Assert.Equal(("chat", "served", 120, 40), (record.Endpoint, record.Outcome, record.TokensIn, record.TokensOut));

        // The Pilotage key works as a bearer token too.
        var bearer = await h.Member.PostAsJsonAsync("/v1/messages", Body("Hello"));
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
    }

    [Fact]
    public async Task A_stream_is_anthropics_events_in_order_and_the_sdk_reads_it()
    {
        await using var h = await GatewayHarness.StartAsync();
        var text = new System.Text.StringBuilder();
        await foreach (var update in Claude(h).GetStreamingResponseAsync("Can I get a refund?")) text.Append(update.Text);
        Assert.Equal(h.Upstream.AnswerText, text.ToString());

        using var raw = Raw(h);
        var response = await raw.PostAsJsonAsync("/v1/messages", Body("Hello", stream: true));
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        var events = ResponsesApiTests.SseEvents(await response.Content.ReadAsStringAsync());
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal(["message_start", "content_block_start", "content_block_delta"], types.Take(3));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types.TakeLast(3));
        Assert.All(events, e => Assert.Equal(e.Type, e.Data["type"]!.GetValue<string>()));
        Assert.Equal(h.Upstream.AnswerText, string.Concat(events.Where(e => e.Type == "content_block_delta").Select(e => e.Data["delta"]!["text"]!.GetValue<string>())));
        Assert.Equal(40, events[^2].Data["usage"]!["output_tokens"]!.GetValue<int>());
        var record = await h.InteractionAsync(id);
        Assert.Equal((true, "served", 120, 40, h.Upstream.AnswerText), (record.Streamed, record.Outcome, record.TokensIn, record.TokensOut, record.ResponseContent));
    }

    [Fact]
    public async Task Tools_tool_use_and_tool_results_translate_both_ways()
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var tool = AIFunctionFactory.Create((string to) => "sent", "send_email", "Sends an e-mail");
        var answer = await Claude(h).GetResponseAsync("Email the customer", new ChatOptions { Tools = [tool] });
        var call = answer.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        Assert.Equal(("send_email", "customer"), (call.Name, call.Arguments!["to"]!.ToString()));
        Assert.Equal("send_email", h.Upstream.LastRequest["tools"]![0]!["function"]!["name"]!.GetValue<string>());

        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        using var raw = Raw(h);
        var followUp = await raw.PostAsJsonAsync("/v1/messages", new
        {
            model = GatewayHarness.System,
            max_tokens = 256,
            messages = new object[]
            {
                new { role = "user", content = "Email the customer" },
                new { role = "assistant", content = new object[] { new { type = "tool_use", id = "toolu_1", name = "send_email", input = new { to = "customer" } } } },
                new { role = "user", content = new object[] { new { type = "tool_result", tool_use_id = "toolu_1", content = "sent" } } },
            },
        });
        Assert.Equal(HttpStatusCode.OK, followUp.StatusCode);
        var messages = h.Upstream.LastRequest["messages"]!.AsArray();
        Assert.Equal("{\"to\":\"customer\"}", messages[2]!["tool_calls"]![0]!["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal(("tool", "toolu_1", "sent"), (messages[3]!["role"]!.GetValue<string>(), messages[3]!["tool_call_id"]!.GetValue<string>(), messages[3]!["content"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Errors_are_anthropic_shaped_and_the_sdk_surfaces_them()
    {
        await using var h = await GatewayHarness.StartAsync();
        using var nobody = Raw(h, "plt_nope_nope");
        await AssertErrorAsync(await nobody.PostAsJsonAsync("/v1/messages", Body("hi")), HttpStatusCode.Unauthorized, "authentication_error");
        using var raw = Raw(h);
        await AssertErrorAsync(await raw.PostAsJsonAsync("/v1/messages", new { model = GatewayHarness.System, messages = Array.Empty<object>() }), HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertErrorAsync(await raw.PostAsJsonAsync("/v1/messages", new { model = "claude-sonnet-4", max_tokens = 10, messages = new[] { new { role = "user", content = "hi" } } }), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await raw.GetAsync("/v1/messages"), HttpStatusCode.MethodNotAllowed, "invalid_request_error");
        var thrown = await Assert.ThrowsAnyAsync<Exception>(() => Claude(h, "plt_nope_nope").GetResponseAsync("hi"));
        Assert.Contains("not a valid Pilotage key", thrown.ToString(), StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
    }

    internal static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        Assert.Equal(status, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal(type, body.GetProperty("error").GetProperty("type").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error").GetProperty("message").GetString()));
        return body.GetProperty("error");
    }
}
