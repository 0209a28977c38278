using System.Text.Json.Nodes;
using System.Text.Json;

namespace Pilotage.Server.Gateway.Protocols.Anthropic;

/// <summary>
/// An Anthropic Messages request (<c>POST /v1/messages</c>) as a chat-completions request: <c>system</c> becomes the
/// first system message, text and image blocks chat content, <c>tool_use</c> blocks tool calls, <c>tool_result</c>
/// blocks tool messages, <c>tools</c> function tools (<c>input_schema</c> as parameters), <c>stop_sequences</c>
/// <c>stop</c>. A block the common model cannot carry is refused with a 400 naming it, unless the body passes
/// through to an Anthropic upstream (<c>passThrough</c>): then it is forwarded as it is, and left out of
/// the common model, which is the evidence's reading of the request.
/// </summary>
internal static class AnthropicRequest
{
    public static (JsonObject? Chat, string? Problem) ToChat(JsonObject request, bool passThrough = false)
    {
        var chat = new JsonObject { ["model"] = request["model"]!.GetValue<string>() };
        var messages = new JsonArray();
        switch (request["system"])
        {
            case null:
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = value.GetValue<string>() });
                break;
            case JsonArray blocks when Texts(blocks, passThrough) is { } text:
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = text });
                break;
            default:
                return (null, "'system' must be a string or a list of text blocks");
        }
        if (request["messages"] is not JsonArray { Count: > 0 } turns) return (null, "'messages' must be a non-empty array of {\"role\": \"user\"|\"assistant\", \"content\": ...}");
        for (var i = 0; i < turns.Count; i++)
        {
            if (Turn(turns[i], i, messages, passThrough) is { } problem) return (null, problem);
        }
        chat["messages"] = messages;
        if (Tools(request, chat, passThrough) is { } toolProblem) return (null, toolProblem);
        foreach (var (from, to) in new[] { ("max_tokens", "max_tokens"), ("temperature", "temperature"), ("top_p", "top_p"), ("stop_sequences", "stop") })
        {
            if (request[from] is { } value) chat[to] = value.DeepClone();
        }
        if (UntrustedJson.Text(UntrustedJson.Member(request["metadata"], "user_id")) is { } user) chat["user"] = user;
        if (request["stream"] is { } stream)
        {
            if (stream.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False)) return (null, "'stream' must be true or false");
            chat["stream"] = stream.GetValueKind() == JsonValueKind.True;
        }
        return (chat, null);
    }

    private static string? Turn(JsonNode? node, int i, JsonArray messages, bool passThrough)
    {
        var role = UntrustedJson.Text(UntrustedJson.Member(node, "role"));
        if (role is not ("user" or "assistant")) return $"'messages[{i}].role' must be user or assistant";
        var content = UntrustedJson.Member(node, "content");
        if (content is JsonValue text && text.GetValueKind() == JsonValueKind.String)
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = text.GetValue<string>() });
            return null;
        }
        if (content is not JsonArray blocks) return $"'messages[{i}].content' must be a string or a list of content blocks";
        var parts = new JsonArray();
        var calls = new JsonArray();
        for (var b = 0; b < blocks.Count; b++)
        {
            var block = blocks[b];
            var where = $"'messages[{i}].content[{b}]'";
            switch (UntrustedJson.Text(UntrustedJson.Member(block, "type")))
            {
                case "text" when UntrustedJson.Text(UntrustedJson.Member(block, "text")) is { } part:
                    parts.Add(new JsonObject { ["type"] = "text", ["text"] = part });
                    break;
                case "image" when ImageUrl(UntrustedJson.Member(block, "source")) is { } url:
                    parts.Add(new JsonObject { ["type"] = "image_url", ["image_url"] = new JsonObject { ["url"] = url } });
                    break;
                case "tool_use" when role == "assistant" && UntrustedJson.Text(UntrustedJson.Member(block, "id")) is { } id && UntrustedJson.Text(UntrustedJson.Member(block, "name")) is { } name:
                    calls.Add(new JsonObject
                    {
                        ["id"] = id,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = UntrustedJson.Member(block, "input")?.ToJsonString() ?? "{}" },
                    });
                    break;
                case "tool_result" when role == "user" && UntrustedJson.Text(UntrustedJson.Member(block, "tool_use_id")) is { } resultOf:
                    var result = UntrustedJson.Member(block, "content");
                    var output = result is JsonArray resultBlocks ? Texts(resultBlocks, passThrough) : UntrustedJson.Text(result) ?? (result is null ? "" : null);
                    if (output is null) return $"{where}.content must be a string or a list of text blocks";
                    messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = resultOf, ["content"] = output });
                    break;
                case not null when passThrough:
                    break; // thinking, documents, server tools…: the upstream reads them, the common model has no place for them
                case var type:
                    return $"{where} is a '{type}' block Pilotage cannot translate here; send text, image, tool_use (assistant) and tool_result (user) blocks";
            }
        }
        if (calls.Count > 0)
        {
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = parts.Count == 0 ? null : Flatten(parts), ["tool_calls"] = calls });
        }
        else if (parts.Count > 0)
        {
            messages.Add(new JsonObject { ["role"] = role, ["content"] = Flatten(parts) });
        }
        return null;
    }

    /// <summary>Text-only content as one string (what every chat server reads); with images, the parts.</summary>
    private static JsonNode Flatten(JsonArray parts) =>
        parts.All(p => UntrustedJson.Text(UntrustedJson.Member(p, "type")) == "text")
            ? string.Concat(parts.Select(p => UntrustedJson.Text(UntrustedJson.Member(p, "text"))))
            : parts;

    /// <summary>The text blocks' texts joined; null when a block is not text (passed through, such a block is skipped).</summary>
    private static string? Texts(JsonArray blocks, bool passThrough)
    {
        var texts = new List<string>();
        foreach (var block in blocks)
        {
            if (UntrustedJson.Text(UntrustedJson.Member(block, "type")) != "text" || UntrustedJson.Text(UntrustedJson.Member(block, "text")) is not { } text)
            {
                if (passThrough) continue;
                return null;
            }
            texts.Add(text);
        }
        return string.Join("\n\n", texts);
    }

    private static string? ImageUrl(JsonNode? source) => UntrustedJson.Text(UntrustedJson.Member(source, "type")) switch
    {
        "base64" when UntrustedJson.Text(UntrustedJson.Member(source, "media_type")) is { } media && UntrustedJson.Text(UntrustedJson.Member(source, "data")) is { } data => $"data:{media};base64,{data}",
        "url" => UntrustedJson.Text(UntrustedJson.Member(source, "url")),
        _ => null,
    };

    private static string? Tools(JsonObject request, JsonObject chat, bool passThrough)
    {
        if (request["tools"] is null) return null;
        if (request["tools"] is not JsonArray tools) return "'tools' must be an array of tool definitions";
        var converted = new JsonArray();
        for (var i = 0; i < tools.Count; i++)
        {
            if (tools[i] is not JsonObject tool || UntrustedJson.Text(tool["name"]) is not { } name || (tool["type"] is { } type && UntrustedJson.Text(type) != "custom"))
            {
                if (passThrough) continue; // a server tool: the upstream runs it
                return $"'tools[{i}]' must be a client tool ({{\"name\": ..., \"input_schema\": ...}}); Pilotage does not translate server tools";
            }
            var function = new JsonObject { ["name"] = name, ["parameters"] = tool["input_schema"]?.DeepClone() ?? new JsonObject { ["type"] = "object" } };
            if (tool["description"] is { } description) function["description"] = description.DeepClone();
            converted.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        if (converted.Count > 0) chat["tools"] = converted;
        if (request["tool_choice"] is not { } choice) return null;
        switch (UntrustedJson.Text(UntrustedJson.Member(choice, "type")))
        {
            case "auto":
                chat["tool_choice"] = "auto";
                break;
            case "any":
                chat["tool_choice"] = "required";
                break;
            case "none":
                chat["tool_choice"] = "none";
                break;
            case "tool" when UntrustedJson.Text(UntrustedJson.Member(choice, "name")) is { } forced:
                chat["tool_choice"] = new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = forced } };
                break;
            default:
                if (passThrough) break;
                return "'tool_choice' must be {\"type\": \"auto\"|\"any\"|\"none\"} or {\"type\": \"tool\", \"name\": ...}";
        }
        if (UntrustedJson.Member(choice, "disable_parallel_tool_use") is JsonValue parallel && parallel.GetValueKind() == JsonValueKind.True) chat["parallel_tool_calls"] = false;
        return null;
    }
}
