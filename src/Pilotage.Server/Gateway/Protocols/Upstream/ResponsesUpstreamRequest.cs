using System.Text.Json.Nodes;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// The common model (a chat-completions request, the spec's configuration applied) as an OpenAI Responses API
/// request: leading system messages become <c>instructions</c>, the other messages <c>input</c> items (tool
/// calls <c>function_call</c> items, tool messages <c>function_call_output</c> items), function tools flat
/// <c>function</c> tools, the token limit <c>max_output_tokens</c>. <c>store</c> is false: Pilotage keeps the
/// conversation itself, so the provider need not keep a copy. The rules are in docs/gateway.md.
/// </summary>
internal static class ResponsesUpstreamRequest
{
    public static JsonObject FromChat(JsonObject common)
    {
        var request = new JsonObject { ["model"] = common["model"]?.DeepClone() };
        var input = new JsonArray();
        var instructions = new List<string>();
        foreach (var message in common["messages"] as JsonArray ?? [])
        {
            var role = UntrustedJson.Text(UntrustedJson.Member(message, "role"));
            var content = UntrustedJson.Member(message, "content");
            switch (role)
            {
                // Only the system messages before the conversation are instructions; a later one keeps its place.
                case "system" or "developer" when input.Count == 0:
                    if (CommonContent.Text(content) is { } text) instructions.Add(text);
                    break;
                case "tool":
                    input.Add(new JsonObject
                    {
                        ["type"] = "function_call_output",
                        ["call_id"] = UntrustedJson.Text(UntrustedJson.Member(message, "tool_call_id")) ?? "",
                        ["output"] = CommonContent.Text(content) ?? "",
                    });
                    break;
                case "assistant":
                    if (CommonContent.Text(content) is { Length: > 0 } said)
                    {
                        input.Add(new JsonObject
                        {
                            ["type"] = "message",
                            ["role"] = "assistant",
                            ["content"] = new JsonArray(new JsonObject { ["type"] = "output_text", ["text"] = said }),
                        });
                    }
                    foreach (var call in UntrustedJson.Member(message, "tool_calls") as JsonArray ?? [])
                    {
                        var function = UntrustedJson.Member(call, "function");
                        input.Add(new JsonObject
                        {
                            ["type"] = "function_call",
                            ["call_id"] = UntrustedJson.Text(UntrustedJson.Member(call, "id")) ?? "",
                            ["name"] = UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "",
                            ["arguments"] = UntrustedJson.Text(UntrustedJson.Member(function, "arguments")) ?? "{}",
                        });
                    }
                    break;
                default:
                    input.Add(new JsonObject { ["type"] = "message", ["role"] = role ?? "user", ["content"] = InputContent(content) });
                    break;
            }
        }
        if (instructions.Count > 0) request["instructions"] = string.Join("\n\n", instructions);
        request["input"] = input;
        if (Tools(common) is { } tools) request["tools"] = tools;
        if (ToolChoice(common["tool_choice"]) is { } choice) request["tool_choice"] = choice;
        if (CommonContent.MaxTokens(common) is { } max) request["max_output_tokens"] = max.DeepClone();
        foreach (var field in new[] { "temperature", "top_p", "parallel_tool_calls", "user", "stream" })
        {
            if (common[field] is { } value) request[field] = value.DeepClone();
        }
        if (Format(common["response_format"]) is { } format) request["text"] = new JsonObject { ["format"] = format };
        request["store"] = false;
        return request;
    }

    /// <summary>A user (or later system) message's content: a string as is, parts as <c>input_text</c> / <c>input_image</c>.</summary>
    private static JsonNode InputContent(JsonNode? content)
    {
        if (UntrustedJson.Text(content) is { } text) return text;
        var parts = new JsonArray();
        foreach (var (kind, value) in CommonContent.Parts(content))
        {
            parts.Add(kind == "text"
                ? new JsonObject { ["type"] = "input_text", ["text"] = value }
                : new JsonObject { ["type"] = "input_image", ["image_url"] = value });
        }
        return parts;
    }

    private static JsonArray? Tools(JsonObject common)
    {
        if (common["tools"] is not JsonArray tools || tools.Count == 0) return null;
        var flat = new JsonArray();
        foreach (var tool in tools)
        {
            var function = UntrustedJson.Member(tool, "function") as JsonObject;
            if (UntrustedJson.Text(UntrustedJson.Member(function, "name")) is not { } name) continue;
            var converted = new JsonObject { ["type"] = "function", ["name"] = name };
            foreach (var field in new[] { "description", "parameters", "strict" })
            {
                if (function![field] is { } value) converted[field] = value.DeepClone();
            }
            flat.Add(converted);
        }
        return flat;
    }

    private static JsonNode? ToolChoice(JsonNode? choice) =>
        UntrustedJson.Text(choice) is { } mode ? mode
        : UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(choice, "function"), "name")) is { } name ? new JsonObject { ["type"] = "function", ["name"] = name }
        : null;

    /// <summary><c>response_format</c> as <c>text.format</c>; null for plain text.</summary>
    private static JsonObject? Format(JsonNode? format)
    {
        switch (UntrustedJson.Text(UntrustedJson.Member(format, "type")))
        {
            case "json_object":
                return new JsonObject { ["type"] = "json_object" };
            case "json_schema" when UntrustedJson.Member(format, "json_schema") is JsonObject schema:
                var flat = new JsonObject { ["type"] = "json_schema" };
                foreach (var (name, value) in schema) flat[name] = value?.DeepClone();
                return flat;
            default:
                return null;
        }
    }
}
