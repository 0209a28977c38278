using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>The OpenAI Responses API through the gateway, driven by the official .NET SDK and by raw HTTP for its events.</summary>
public sealed class ResponsesApiTests
{
    // The SDK marks its Responses client as evaluation-only; it is the client this surface exists for.
#pragma warning disable OPENAI001
    internal static IChatClient Responses(GatewayHarness h, string? key = null) => Sdk(h, key).AsIChatClient(GatewayHarness.System);

    internal static OpenAI.Responses.ResponsesClient Sdk(GatewayHarness h, string? key = null) =>
        new OpenAIClient(new ApiKeyCredential(key ?? h.MemberKey), new OpenAIClientOptions { Endpoint = new Uri(h.Server.Url + "/v1"), NetworkTimeout = TimeSpan.FromSeconds(60) })
            .GetResponsesClient();
#pragma warning restore OPENAI001

    [Fact]
    public async Task The_sdk_gets_a_governed_answer_with_instructions_and_token_limit_applied_and_recorded_like_chat()
    {
        await using var h = await GatewayHarness.StartAsync();
        var answer = await Responses(h).GetResponseAsync("Can I get a refund?", new ChatOptions { Instructions = "Answer in one sentence.", MaxOutputTokens = 50 });
        Assert.Equal(h.Upstream.AnswerText, answer.Text);
        Assert.Equal(120, answer.Usage?.InputTokenCount);

        var sent = h.Upstream.LastRequest;
        Assert.Equal("fake-model", sent["model"]!.GetValue<string>());
        var messages = sent["messages"]!.AsArray();
        Assert.Equal(["system", "system", "user"], messages.Select(m => m!["role"]!.GetValue<string>()).ToArray());
        Assert.Equal("You draft polite replies to support tickets.", messages[0]!["content"]!.GetValue<string>());
        Assert.Equal("Answer in one sentence.", messages[1]!["content"]!.GetValue<string>());
        Assert.Equal(50, sent["max_tokens"]!.GetValue<int>());

        var id = answer.ResponseId!;
        Assert.StartsWith("resp_", id, StringComparison.Ordinal);
        var record = await h.InteractionAsync(id[5..]);
        Assert.Equal(("chat", "served", 120, 40), (record.Endpoint, record.Outcome, record.TokensIn, record.TokensOut));
        Assert.Contains("Can I get a refund?", record.RequestContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raw_http_carries_the_interaction_header_and_a_stored_response_is_fetched_and_continued_by_its_asker_only()
    {
        await using var h = await GatewayHarness.StartAsync();
        var first = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "My order 1234 is late." });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var interaction = first.Headers.GetValues("x-pilotage-interaction-id").Single();
        var response = await first.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("response", "completed", "resp_" + interaction), (response.GetProperty("object").GetString(), response.GetProperty("status").GetString(), response.GetProperty("id").GetString()));
        Assert.Equal(h.Upstream.AnswerText, response.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString());

#pragma warning disable OPENAI001
        var fetched = (await Sdk(h).GetResponseAsync("resp_" + interaction)).Value;
        Assert.Equal(h.Upstream.AnswerText, fetched.GetOutputText());
#pragma warning restore OPENAI001

        // The upstream keeps no state: Pilotage sends the earlier turns again.
        var second = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input = "Any news?", previous_response_id = "resp_" + interaction });
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var turns = h.Upstream.LastRequest["messages"]!.AsArray();
        Assert.Equal(["system", "user", "assistant", "user"], turns.Select(m => m!["role"]!.GetValue<string>()).ToArray());
        Assert.Equal(h.Upstream.AnswerText, turns[2]!["content"]!.GetValue<string>());
        Assert.Equal("resp_" + interaction, (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("previous_response_id").GetString());

        // Someone else can neither continue nor read it.
        var other = h.Server.ClientFor(await h.Server.CreateUserWithKeyAsync("sam@example.org", "member", GatewayHarness.Group));
        var received = h.Upstream.Received.Count;
        var (status, code, message, _) = await GatewayRefusalTests.SendAsync(other, new { model = GatewayHarness.System, input = "hi", previous_response_id = "resp_" + interaction }, "/v1/responses");
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_request"), (status, code));
        Assert.Contains("send the whole conversation", message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/v1/responses/resp_{interaction}")).StatusCode);
        Assert.Equal(received, h.Upstream.Received.Count);
    }

    [Fact]
    public async Task A_stream_is_the_typed_events_in_order_and_the_sdk_reads_it()
    {
        await using var h = await GatewayHarness.StartAsync();
        var text = new System.Text.StringBuilder();
#pragma warning disable OPENAI001
        await foreach (var update in await Sdk(h).CreateResponseStreamingAsync(GatewayHarness.System, "Can I get a refund?", null))
        {
            if (update is OpenAI.Responses.StreamingResponseOutputTextDeltaUpdate delta) text.Append(delta.Delta);
        }
#pragma warning restore OPENAI001
        Assert.Equal(h.Upstream.AnswerText, text.ToString());

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = JsonContent.Create(new { model = GatewayHarness.System, input = "Hello", stream = true }) };
        var response = await h.Member.SendAsync(request);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
        var events = SseEvents(await response.Content.ReadAsStringAsync());
        var types = events.Select(e => e.Type).ToList();
        Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types.Take(4));
        Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"], types.TakeLast(4));
        Assert.Equal(h.Upstream.AnswerText, string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data["delta"]!.GetValue<string>())));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => e.Data["sequence_number"]!.GetValue<int>()));
        var completed = events[^1].Data["response"]!;
        Assert.Equal((120, 40), (completed["usage"]!["input_tokens"]!.GetValue<int>(), completed["usage"]!["output_tokens"]!.GetValue<int>()));
        var record = await h.InteractionAsync(id);
        Assert.Equal((true, "served", 120, 40), (record.Streamed, record.Outcome, record.TokensIn, record.TokensOut));
        Assert.Equal(h.Upstream.AnswerText, record.ResponseContent);
    }

    [Fact]
    public async Task Function_tools_and_their_results_translate_both_ways()
    {
        await using var h = await GatewayHarness.StartAsync();
        h.Upstream.Behaviour = UpstreamBehaviour.ToolCall;
        var tool = AIFunctionFactory.Create((string to) => "sent", "send_email", "Sends an e-mail");
        var answer = await Responses(h).GetResponseAsync("Email the customer", new ChatOptions { Tools = [tool] });
        var call = answer.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>().Single();
        Assert.Equal(("send_email", "call_1", "customer"), (call.Name, call.CallId, call.Arguments!["to"]!.ToString()));
        var offered = h.Upstream.LastRequest["tools"]!.AsArray().Single()!;
        Assert.Equal("send_email", offered["function"]!["name"]!.GetValue<string>());

        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        var input = new object[]
        {
            new { role = "user", content = "Email the customer" },
            new { type = "function_call", call_id = "call_1", name = "send_email", arguments = "{\"to\":\"customer\"}" },
            new { type = "function_call_output", call_id = "call_1", output = "sent" },
        };
        var followUp = await h.Member.PostAsJsonAsync("/v1/responses", new { model = GatewayHarness.System, input });
        Assert.Equal(HttpStatusCode.OK, followUp.StatusCode);
        var messages = h.Upstream.LastRequest["messages"]!.AsArray();
        Assert.Equal("call_1", messages[2]!["tool_calls"]![0]!["id"]!.GetValue<string>());
        Assert.Equal(("tool", "call_1", "sent"), (messages[3]!["role"]!.GetValue<string>(), messages[3]!["tool_call_id"]!.GetValue<string>(), messages[3]!["content"]!.GetValue<string>()));

        // A built-in tool cannot be governed through the common model: refused by name, never dropped silently.
        var (status, _, message, _) = await GatewayRefusalTests.SendAsync(h.Member, new { model = GatewayHarness.System, input = "hi", tools = new[] { new { type = "web_search" } } }, "/v1/responses");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("built-in tools", message, StringComparison.Ordinal);
    }

    internal static List<(string Type, JsonNode Data)> SseEvents(string body) =>
        body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n'))
            .Where(lines => lines.Any(l => l.StartsWith("data: ", StringComparison.Ordinal)))
            .Select(lines => (lines.FirstOrDefault(l => l.StartsWith("event: ", StringComparison.Ordinal))?[7..] ?? "",
                JsonNode.Parse(lines.First(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..])!))
            .ToList();
}
