using System.Text.Json.Nodes;
using System.Text.Json;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// What the Responses adapter needs again to render the answer: the request's settings it echoes, read from the
/// request when first rendered (an answer passed through is rendered only when held, so most never need them).
/// </summary>
internal sealed class ResponsesContext(JsonObject request, string? previousResponseId)
{
    private JsonObject? _echo;

    public JsonObject Echo => _echo ??= ResponsesAnswer.Echo(request);

    public string? PreviousResponseId { get; } = previousResponseId;
}

/// <summary>
/// A Responses API request (<c>POST /v1/responses</c>) as a chat-completions request: <c>instructions</c> become the
/// first system message, <c>input</c> (a string or items: messages, function calls and their outputs) the
/// messages, function <c>tools</c> chat tools, <c>max_output_tokens</c> <c>max_tokens</c>. Anything the common
/// model cannot carry (built-in tools, other item types) is refused with a 400 naming it, never dropped silently;
/// unless the body passes through to a Responses upstream (<c>passThrough</c>), which reads it as it is.
/// </summary>
internal static class ResponsesRequest
{
    /// <summary>The chat body, or the problem worded for the caller.</summary>
    /// <param name="history">The messages of the conversation <c>previous_response_id</c> names, already resolved.</param>
    public static (JsonObject? Chat, string? Problem) ToChat(JsonObject request, IReadOnlyList<JsonObject> history, bool passThrough = false)
    {
        var chat = new JsonObject { ["model"] = request["model"]!.GetValue<string>() };
        var messages = new JsonArray();
        switch (request["instructions"])
        {
            case null:
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = value.GetValue<string>() });
                break;
            default:
                return (null, "'instructions' must be a string");
        }
        foreach (var message in history) messages.Add(message.DeepClone());
        switch (request["input"])
        {
            case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                messages.Add(new JsonObject { ["role"] = "user", ["content"] = text.GetValue<string>() });
                break;
            case JsonArray items:
                for (var i = 0; i < items.Count; i++)
                {
                    if (Item(items[i], i, messages, passThrough) is { } problem) return (null, problem);
                }
                break;
            default:
                return (null, "'input' must be a string or an array of input items (messages, function_call, function_call_output)");
        }
        if (messages.Count == 0 && !(passThrough && request["input"] is JsonArray { Count: > 0 })) return (null, "'input' must not be empty");
        chat["messages"] = messages;
        if (Tools(request, chat, passThrough) is { } toolProblem) return (null, toolProblem);
        foreach (var (from, to) in new[] { ("temperature", "temperature"), ("top_p", "top_p"), ("max_output_tokens", "max_tokens"), ("parallel_tool_calls", "parallel_tool_calls"), ("user", "user") })
        {
            if (request[from] is { } value) chat[to] = value.DeepClone();
        }
        if (Format(request["text"]) is { } format) chat["response_format"] = format;
        if (request["stream"] is { } stream)
        {
            if (stream.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) return (null, "'stream' must be true or false");
            chat["stream"] = stream.GetValueKind() == JsonValueKind.True;
        }
        return (chat, null);
    }

    private static string? Item(JsonNode? node, int i, JsonArray messages, bool passThrough)
    {
        if (node is not JsonObject item) return $"'input[{i}]' must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}";
        var type = UntrustedJson.Text(item["type"]) ?? "message";
        switch (type)
        {
            case "message":
                var role = UntrustedJson.Text(item["role"]);
                if (role is not ("user" or "assistant" or "system" or "developer")) return $"'input[{i}].role' must be user, assistant, system or developer";
                if (Content(item["content"], passThrough) is not { } content) return $"'input[{i}].content' must be a string or a list of input_text / output_text / input_image parts";
                messages.Add(new JsonObject { ["role"] = role == "developer" ? "system" : role, ["content"] = content });
                return null;
            case "function_call":
                if (UntrustedJson.Text(item["call_id"]) is not { } callId || UntrustedJson.Text(item["name"]) is not { } name)
                {
                    return $"'input[{i}]' (function_call) needs 'call_id' and 'name'";
                }
                var call = new JsonObject
                {
                    ["id"] = callId,
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = name, ["arguments"] = UntrustedJson.Text(item["arguments"]) ?? "{}" },
                };
                // Calls that follow one another are one assistant turn, as the chat API writes them.
                if (messages.Count > 0 && messages[^1] is JsonObject last && last["tool_calls"] is JsonArray calls && UntrustedJson.Text(last["role"]) == "assistant") calls.Add(call);
                else messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(call) });
                return null;
            case "function_call_output":
                if (UntrustedJson.Text(item["call_id"]) is not { } outputOf) return $"'input[{i}]' (function_call_output) needs 'call_id'";
                var output = item["output"] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : item["output"]?.ToJsonString() ?? "";
                messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = outputOf, ["content"] = output });
                return null;
            default:
                // Reasoning items, built-in tool calls…: passed through, the upstream reads them; the common model has no place for them.
                return passThrough ? null : $"'input[{i}]' is a '{type}' item, which Pilotage does not translate; send messages, function_call and function_call_output items";
        }
    }

    /// <summary>A message's content as chat content: a string, or text and image parts.</summary>
    private static JsonNode? Content(JsonNode? content, bool passThrough)
    {
        if (content is JsonValue value && value.GetValueKind() == JsonValueKind.String) return value.GetValue<string>();
        if (content is not JsonArray parts) return null;
        var chat = new JsonArray();
        foreach (var part in parts)
        {
            switch (UntrustedJson.Text(UntrustedJson.Member(part, "type")))
            {
                case "input_text" or "output_text" or "text" when UntrustedJson.Text(UntrustedJson.Member(part, "text")) is { } text:
                    chat.Add(new JsonObject { ["type"] = "text", ["text"] = text });
                    break;
                case "input_image" when UntrustedJson.Text(UntrustedJson.Member(part, "image_url")) is { } url:
                    chat.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                    break;
                default:
                    if (passThrough) break; // a file, audio…: the upstream reads it
                    return null;
            }
        }
        return chat;
    }

    private static string? Tools(JsonObject request, JsonObject chat, bool passThrough)
    {
        if (request["tools"] is null) return null;
        if (request["tools"] is not JsonArray tools) return "'tools' must be an array of tool definitions";
        var converted = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            var tool = tools[i] as JsonObject;
            if (UntrustedJson.Text(UntrustedJson.Member(tool, "type")) != "function" || UntrustedJson.Text(tool!["name"]) is not { } name)
            {
                if (passThrough) continue; // a built-in tool: the upstream runs it
                return $"'tools[{i}]' must be a function tool ({{\"type\": \"function\", \"name\": ...}}); Pilotage does not translate built-in tools";
            }
            var function = new JsonObject { ["name"] = name };
            foreach (var field in new[] { "description", "parameters", "strict" })
            {
                if (tool[field] is { } value) function[field] = value.DeepClone();
            }
            converted.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        if (converted.Count > 0) chat["tools"] = converted;
        switch (request["tool_choice"])
        {
            case null:
                break;
            case JsonValue choice when choice.GetValueKind() == JsonValueKind.String:
                chat["tool_choice"] = choice.GetValue<string>();
                break;
            case JsonObject forced when UntrustedJson.Text(forced["name"]) is { } forcedName:
                chat["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = forcedName } };
                break;
            default:
                if (passThrough) break;
                return "'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": ...}";
        }
        return null;
    }

    /// <summary><c>text.format</c> as the chat API's <c>response_format</c>; null for plain text.</summary>
    private static JsonObject? Format(JsonNode? text)
    {
        var format = UntrustedJson.Member(text, "format") as JsonObject;
        switch (UntrustedJson.Text(UntrustedJson.Member(format, "type")))
        {
            case "json_object":
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema":
                var schema = new JsonObject();
                foreach (var field in new[] { "name", "schema", "strict", "description" })
                {
                    if (format![field] is { } value) schema[field] = value.DeepClone();
                }
                return new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema };
            default:
                return null;
        }
    }
}
