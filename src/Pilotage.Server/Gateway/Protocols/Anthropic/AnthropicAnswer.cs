using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway.Protocols.Anthropic;

/// <summary>
/// A chat completion (the common model) as an Anthropic <c>message</c>: the text as a <c>text</c> block, each tool
/// call as a <c>tool_use</c> block (its arguments parsed as <c>input</c>), the finish reason as <c>stop_reason</c>.
/// </summary>
internal static class AnthropicAnswer
{
    public static string MessageId(string interactionId) => "msg_" + interactionId;

    public static JsonObject FromChat(JsonObject completion, string interactionId, string model)
    {
        var choice = UntrustedJson.Member(completion, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        var message = UntrustedJson.Member(choice, "message");
        var content = new JsonArray();
        if (UntrustedJson.Text(UntrustedJson.Member(message, "content")) is { Length: > 0 } text) content.Add(new JsonObject { ["type"] = "text", ["text"] = text });
        if (UntrustedJson.Member(message, "tool_calls") is JsonArray calls)
        {
            foreach (var call in calls)
            {
                var function = UntrustedJson.Member(call, "function");
                content.Add(ToolUse(UntrustedJson.Text(UntrustedJson.Member(call, "id")) ?? $"toolu_{content.Count}",
                    UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "", Input(UntrustedJson.Text(UntrustedJson.Member(function, "arguments")))));
            }
        }
        var usage = UntrustedJson.Member(completion, "usage");
        var answer = Message(interactionId, model, content, StopReason(UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason"))));
        answer["usage"] = Usage(UntrustedJson.Int32(UntrustedJson.Member(usage, "prompt_tokens")) ?? 0, UntrustedJson.Int32(UntrustedJson.Member(usage, "completion_tokens")) ?? 0);
        return answer;
    }

    public static JsonObject Message(string interactionId, string model, JsonArray content, string? stopReason) => new()
    {
        ["id"] = MessageId(interactionId),
        ["type"] = "message",
        ["role"] = "assistant",
        ["model"] = model,
        ["content"] = content,
        ["stop_reason"] = stopReason,
        ["stop_sequence"] = null,
        ["usage"] = Usage(0, 0),
    };

    public static JsonObject Usage(int input, int output) => new() { ["input_tokens"] = input, ["output_tokens"] = output };

    public static JsonObject ToolUse(string id, string name, JsonNode input) => new() { ["type"] = "tool_use", ["id"] = id, ["name"] = name, ["input"] = input };

    /// <summary>A tool call's arguments as the object Anthropic clients expect; arguments that are not an object are kept as text.</summary>
    public static JsonNode Input(string? arguments)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrWhiteSpace(arguments) ? "{}" : arguments) as JsonObject ?? new JsonObject { ["arguments"] = arguments };
        }
        catch (JsonException)
        {
            return new JsonObject { ["arguments"] = arguments };
        }
    }

    public static string StopReason(string? finish) => finish switch
    {
        "length" => "max_tokens",
        "tool_calls" or "function_call" => "tool_use",
        _ => "end_turn",
    };
}

/// <summary>Refusals and faults in the Anthropic error shape: <c>{"type":"error","error":{"type","message"}}</c>.</summary>
internal static class AnthropicErrors
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode) =>
        http.Response.HasStarted ? Task.CompletedTask : OpenAiErrors.WriteJsonAsync(http, refusal.Status, Serialize(refusal), interactionId, mode);

    public static byte[] Serialize(GatewayRefusal refusal)
    {
        using var buffer = new MemoryStream(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", TypeOf(refusal.Status));
            writer.WriteString("message", refusal.Message);
            // Pilotage's own code, so an app can tell a boundary refusal from a pause without reading the message.
            writer.WriteString("code", refusal.Code);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static byte[] StreamEvent(GatewayRefusal refusal) =>
        [.. "event: error\ndata: "u8, .. Serialize(refusal), .. "\n\n"u8];

    /// <summary>Anthropic's error type for a status, as its SDKs map them.</summary>
    public static string TypeOf(int status) => status switch
    {
        401 => "authentication_error",
        403 or 423 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };
}
