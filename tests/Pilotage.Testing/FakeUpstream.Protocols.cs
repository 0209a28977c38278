using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Pilotage.Testing;

/// <summary>
/// The fake model's Responses API (<c>/v1/responses</c>) and Anthropic Messages (<c>/v1/messages</c>) endpoints:
/// the same answer, tool call, token counts and failures as its chat endpoint, in each protocol's shapes, so a
/// test can point a system at an upstream of any protocol. Each checks what its real provider requires.
/// </summary>
public sealed partial class FakeUpstream
{
    /// <summary>The <c>x-api-key</c> headers the gateway sent (Anthropic's key header).</summary>
    public ConcurrentQueue<string> ApiKeys { get; } = new();

    /// <summary>The <c>anthropic-beta</c> header of every request, in order ("" when there was none).</summary>
    public ConcurrentQueue<string> AnthropicBetas { get; } = new();

    /// <summary>When set, the exact body of every streamed Responses or Anthropic answer: for event streams no real model should send.</summary>
    public string? RawEventStream { get; set; }

    /// <summary>When set, the body of every streamed Responses or Anthropic answer, written and flushed piece by piece
    /// (<see cref="StreamPieceDelay"/> apart): events cut where a network cuts them.</summary>
    public IReadOnlyList<string>? RawEventPieces { get; set; }

    private async Task ResponsesAsync(HttpContext http)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        Received.Enqueue(body);
        if (body["input"] is not JsonArray && body["input"]?.GetValueKind() != System.Text.Json.JsonValueKind.String)
        {
            await ErrorAsync(http, 400, new JsonObject { ["error"] = new JsonObject { ["message"] = "'input' must be a string or a list of items", ["type"] = "invalid_request_error" } });
            return;
        }
        if (await FailedAsync(http, anthropic: false) || await RawAsync(http, body)) return;
        var model = body["model"]?.GetValue<string>() ?? "unknown";
        var usage = new JsonObject { ["input_tokens"] = PromptTokens, ["output_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens };
        var output = Behaviour == UpstreamBehaviour.ToolCall
            ? new JsonObject { ["type"] = "function_call", ["id"] = "fc_1", ["call_id"] = "call_1", ["name"] = ToolName, ["arguments"] = "{\"to\":\"customer\"}", ["status"] = "completed" }
            : new JsonObject { ["type"] = "message", ["id"] = "msg_1", ["role"] = "assistant", ["status"] = "completed", ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = AnswerText, ["annotations"] = new JsonArray() }) };
        JsonObject Response(string status, JsonArray items, JsonObject? counts) => new()
        {
            ["id"] = "resp_fake", ["object"] = "response", ["created_at"] = 1_764_000_000, ["status"] = status, ["model"] = model, ["output"] = items, ["usage"] = counts,
        };
        if (body["stream"]?.GetValue<bool>() != true)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(Response("completed", [output], usage).ToJsonString());
            return;
        }
        var events = new List<(string, JsonObject)> { ("response.created", new JsonObject { ["response"] = Response("in_progress", [], null) }) };
        if (Behaviour == UpstreamBehaviour.ToolCall)
        {
            events.Add(("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = new JsonObject { ["type"] = "function_call", ["id"] = "fc_1", ["call_id"] = "call_1", ["name"] = ToolName, ["arguments"] = "" } }));
            events.Add(("response.function_call_arguments.delta", new JsonObject { ["output_index"] = 0, ["item_id"] = "fc_1", ["delta"] = "{\"to\":" }));
            events.Add(("response.function_call_arguments.delta", new JsonObject { ["output_index"] = 0, ["item_id"] = "fc_1", ["delta"] = "\"customer\"}" }));
        }
        else
        {
            events.Add(("response.output_item.added", new JsonObject { ["output_index"] = 0, ["item"] = new JsonObject { ["type"] = "message", ["id"] = "msg_1", ["role"] = "assistant", ["content"] = new JsonArray() } }));
            events.AddRange(Words().Select(w => ("response.output_text.delta", new JsonObject { ["output_index"] = 0, ["item_id"] = "msg_1", ["content_index"] = 0, ["delta"] = w })));
            events.Add(("response.output_text.done", new JsonObject { ["output_index"] = 0, ["text"] = AnswerText }));
        }
        events.Add(("response.output_item.done", new JsonObject { ["output_index"] = 0, ["item"] = output.DeepClone() }));
        events.Add(("response.completed", new JsonObject { ["response"] = Response("completed", [output], usage) }));
        await EventsAsync(http, events);
    }

    private async Task MessagesAsync(HttpContext http)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        Received.Enqueue(body);
        // What Anthropic itself refuses: no version header, no max_tokens.
        if (string.IsNullOrEmpty(http.Request.Headers["anthropic-version"]) || body["max_tokens"] is null)
        {
            await ErrorAsync(http, 400, AnthropicError("invalid_request_error", "anthropic-version header and max_tokens are required"));
            return;
        }
        if (await FailedAsync(http, anthropic: true) || await RawAsync(http, body)) return;
        var model = body["model"]?.GetValue<string>() ?? "unknown";
        var tool = Behaviour == UpstreamBehaviour.ToolCall;
        if (body["stream"]?.GetValue<bool>() != true)
        {
            var block = tool
                ? new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_1", ["name"] = ToolName, ["input"] = new JsonObject { ["to"] = "customer" } }
                : new JsonObject { ["type"] = "text", ["text"] = AnswerText };
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(new JsonObject
            {
                ["id"] = "msg_fake", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(block),
                ["stop_reason"] = tool ? "tool_use" : "end_turn", ["stop_sequence"] = null,
                ["usage"] = new JsonObject { ["input_tokens"] = PromptTokens, ["output_tokens"] = CompletionTokens },
            }.ToJsonString());
            return;
        }
        var events = new List<(string, JsonObject)>
        {
            ("message_start", new JsonObject { ["message"] = new JsonObject { ["id"] = "msg_fake", ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = new JsonArray(), ["usage"] = new JsonObject { ["input_tokens"] = PromptTokens, ["output_tokens"] = 1 } } }),
            ("ping", []),
        };
        if (tool)
        {
            events.Add(("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = "toolu_1", ["name"] = ToolName, ["input"] = new JsonObject() } }));
            events.Add(("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "{\"to\":" } }));
            events.Add(("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "\"customer\"}" } }));
        }
        else
        {
            events.Add(("content_block_start", new JsonObject { ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } }));
            events.AddRange(Words().Select(w => ("content_block_delta", new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = w } })));
        }
        events.Add(("content_block_stop", new JsonObject { ["index"] = 0 }));
        events.Add(("message_delta", new JsonObject { ["delta"] = new JsonObject { ["stop_reason"] = tool ? "tool_use" : "end_turn", ["stop_sequence"] = null }, ["usage"] = new JsonObject { ["output_tokens"] = CompletionTokens } }));
        events.Add(("message_stop", []));
        await EventsAsync(http, events);
    }

    private IEnumerable<string> Words() => AnswerText.Split(' ').Select((w, i) => (i == 0 ? "" : " ") + w);

    private static JsonObject AnthropicError(string type, string message) =>
        new() { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = message } };

    /// <summary>The failures the tests set, in the protocol's error shape; true when one was sent.</summary>
    private async Task<bool> FailedAsync(HttpContext http, bool anthropic)
    {
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, http.RequestAborted);
        (int Status, string Type, string Message)? failure = Behaviour switch
        {
            UpstreamBehaviour.ServerError => (500, "api_error", "model overloaded"),
            UpstreamBehaviour.Unauthorized => (401, "authentication_error", "bad key"),
            _ => null,
        };
        if (failure is not { } f) return false;
        await ErrorAsync(http, f.Status, anthropic ? AnthropicError(f.Type, f.Message) : new JsonObject { ["error"] = new JsonObject { ["message"] = f.Message, ["type"] = f.Type } });
        return true;
    }

    private async Task<bool> RawAsync(HttpContext http, JsonObject body)
    {
        var streamed = body["stream"]?.GetValue<bool>() == true;
        if (streamed && RawEventPieces is { } pieces)
        {
            await PiecesAsync(http, pieces, http.RequestAborted);
            return true;
        }
        if (streamed && RawEventStream is { } events)
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync(events, Encoding.UTF8, http.RequestAborted);
            return true;
        }
        if (!streamed && RawAnswer is { } raw)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(raw, Encoding.UTF8, http.RequestAborted);
            return true;
        }
        return false;
    }

    private static async Task ErrorAsync(HttpContext http, int status, JsonObject error)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(error.ToJsonString());
    }

    /// <summary>Named events, each as <c>event:</c> and <c>data:</c> with its type inside; a truncated stream stops halfway without its end.</summary>
    private async Task EventsAsync(HttpContext http, List<(string Type, JsonObject Data)> events)
    {
        http.Response.ContentType = "text/event-stream";
        for (var i = 0; i < events.Count; i++)
        {
            if (Behaviour == UpstreamBehaviour.TruncatedStream && i == events.Count / 2)
            {
                await http.Response.Body.FlushAsync(http.RequestAborted);
                await Task.Delay(300, http.RequestAborted);
                http.Abort();
                return;
            }
            var (type, data) = events[i];
            var payload = new JsonObject { ["type"] = type };
            foreach (var (name, value) in data.ToList())
            {
                data.Remove(name);
                payload[name] = value;
            }
            await http.Response.WriteAsync($"event: {type}\ndata: {payload.ToJsonString()}\n\n", Encoding.UTF8, http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }
}
