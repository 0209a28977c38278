using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;

namespace Pilotage.Server.Gateway;

/// <summary>
/// The parts of an OpenAI request the gateway reads, checked for type before anything else looks at them.
/// A field of the wrong type is refused with a 400 naming it, rather than being passed on: a
/// <c>content</c> that is an object, say, would otherwise reach the model without the data boundary having
/// read it. Everything else is the upstream's to judge, as it would be without Pilotage.
/// </summary>
internal static class RequestShape
{
    /// <summary>Text that cannot be decoded anywhere in the body, worded for the caller; null when there is none. Check this first.</summary>
    /// <param name="bytes">The body as received: when it is valid UTF-8 and holds no <c>\u</c> escape (which could
    /// spell a lone surrogate), nothing in it can fail to decode, and the walk over every node is skipped.</param>
    public static string? TextProblem(JsonObject body, ReadOnlySpan<byte> bytes) =>
        System.Text.Unicode.Utf8.IsValid(bytes) && bytes.IndexOf("\\u"u8) < 0 ? null
        : Undecodable(body) is { } where
            ? $"{where} holds text that is not valid UTF-8 (or a lone \\u surrogate escape); send the request as UTF-8 JSON"
            : null;

    /// <summary>What is wrong with the fields of a chat request the gateway reads; null when nothing is.</summary>
    public static string? ChatProblem(JsonObject body)
    {
        if (!IsAbsentOr(body["stream"], JsonValueKind.True, JsonValueKind.False)) return "'stream' must be true or false";
        if (!IsAbsentOr(body["stream_options"], JsonValueKind.Object)) return "'stream_options' must be an object such as {\"include_usage\": true}";
        if (!IsAbsentOr(body["tools"], JsonValueKind.Array)) return "'tools' must be an array of tool definitions";
        // Function names are read by read-only mode, which removes the side-effecting ones: a name it cannot read
        // would pass unchecked, so it is refused here, in every mode, as OpenAI itself would refuse it.
        // Paths ("tools[2].function") are spelled only for a problem: every request passes here, and most have none.
        if (body["tools"] is JsonArray tools)
        {
            for (var i = 0; i < tools.Count; i++)
            {
                if (tools[i] is not JsonObject tool) return $"'{At("tools", i)}' must be an object such as {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}";
                if (FunctionProblem(tool["function"], "tools", i, ".function") is { } problem) return problem;
            }
        }
        if (!IsAbsentOr(body["tool_choice"], JsonValueKind.String, JsonValueKind.Object)) return "'tool_choice' must be \"auto\", \"none\", \"required\" or an object naming a function";
        if (body["tool_choice"] is JsonObject toolChoice && FunctionProblem(toolChoice["function"], "tool_choice.function") is { } choiceProblem) return choiceProblem;
        if (!IsAbsentOr(body["functions"], JsonValueKind.Array)) return "'functions' must be an array of function definitions";
        if (body["functions"] is JsonArray functions)
        {
            for (var i = 0; i < functions.Count; i++)
            {
                if (functions[i] is null) return $"'{At("functions", i)}' must be an object such as {{\"name\": ...}}";
                if (FunctionProblem(functions[i], "functions", i) is { } problem) return problem;
            }
        }
        if (!IsAbsentOr(body["function_call"], JsonValueKind.String, JsonValueKind.Object)) return "'function_call' must be \"auto\", \"none\" or an object naming a function";
        if (FunctionProblem(body["function_call"] as JsonObject, "function_call") is { } callProblem) return callProblem;
        var messages = (JsonArray)body["messages"]!;
        for (var m = 0; m < messages.Count; m++)
        {
            if (messages[m] is not JsonObject message) return $"'{At("messages", m)}' must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}";
            if (message["role"] is not JsonValue role || role.GetValueKind() != JsonValueKind.String) return $"'{At("messages", m)}.role' must be a string (system, user, assistant or tool)";
            switch (message["content"])
            {
                case null:
                    break;
                case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                    break;
                case JsonArray parts:
                    for (var p = 0; p < parts.Count; p++)
                    {
                        if (parts[p] is not JsonObject item || item["type"] is not JsonValue type || type.GetValueKind() != JsonValueKind.String)
                        {
                            return $"'{At("messages", m)}.content[{p}]' must be an object with a 'type', such as {{\"type\": \"text\", \"text\": \"...\"}}";
                        }
                        if (type.GetValue<string>() == "text" && (item["text"] is not JsonValue partText || partText.GetValueKind() != JsonValueKind.String))
                        {
                            return $"'{At("messages", m)}.content[{p}].text' must be a string";
                        }
                    }
                    break;
                case var other when other.GetValueKind() == JsonValueKind.Null:
                    break;
                default:
                    return $"'{At("messages", m)}.content' must be a string or an array of content parts";
            }
        }
        return null;
    }

    /// <summary>
    /// <see cref="ChatProblem(JsonObject)"/> read from the parsed body's elements, with the same verdict and words: no tree
    /// of the body is built to check it (a chat request to a chat upstream is then written from the elements, see
    /// <see cref="Pipeline.ConfiguredChatBody"/>). A JSON <c>null</c> reads as absent, as a tree's indexer reads it.
    /// Tests hold the two to each other on random bodies.
    /// </summary>
    public static string? ChatProblem(JsonElement body)
    {
        if (!IsAbsentOr(Member(body, "stream"), JsonValueKind.True, JsonValueKind.False)) return "'stream' must be true or false";
        if (!IsAbsentOr(Member(body, "stream_options"), JsonValueKind.Object)) return "'stream_options' must be an object such as {\"include_usage\": true}";
        var tools = Member(body, "tools");
        if (!IsAbsentOr(tools, JsonValueKind.Array)) return "'tools' must be an array of tool definitions";
        if (tools.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var tool in tools.EnumerateArray())
            {
                if (tool.ValueKind != JsonValueKind.Object) return $"'{At("tools", i)}' must be an object such as {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}";
                if (FunctionProblem(Member(tool, "function"), "tools", i, ".function") is { } problem) return problem;
                i++;
            }
        }
        var toolChoice = Member(body, "tool_choice");
        if (!IsAbsentOr(toolChoice, JsonValueKind.String, JsonValueKind.Object)) return "'tool_choice' must be \"auto\", \"none\", \"required\" or an object naming a function";
        if (toolChoice.ValueKind == JsonValueKind.Object && FunctionProblem(Member(toolChoice, "function"), "tool_choice.function") is { } choiceProblem) return choiceProblem;
        var functions = Member(body, "functions");
        if (!IsAbsentOr(functions, JsonValueKind.Array)) return "'functions' must be an array of function definitions";
        if (functions.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var function in functions.EnumerateArray())
            {
                if (function.ValueKind == JsonValueKind.Null) return $"'{At("functions", i)}' must be an object such as {{\"name\": ...}}";
                if (FunctionProblem(function, "functions", i) is { } problem) return problem;
                i++;
            }
        }
        var functionCall = Member(body, "function_call");
        if (!IsAbsentOr(functionCall, JsonValueKind.String, JsonValueKind.Object)) return "'function_call' must be \"auto\", \"none\" or an object naming a function";
        if (functionCall.ValueKind == JsonValueKind.Object && FunctionProblem(functionCall, "function_call") is { } callProblem) return callProblem;
        var m = 0;
        foreach (var message in Member(body, "messages").EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object) return $"'{At("messages", m)}' must be an object such as {{\"role\": \"user\", \"content\": \"...\"}}";
            if (Member(message, "role").ValueKind != JsonValueKind.String) return $"'{At("messages", m)}.role' must be a string (system, user, assistant or tool)";
            var content = Member(message, "content");
            switch (content.ValueKind)
            {
                case JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String:
                    break;
                case JsonValueKind.Array:
                    var p = 0;
                    foreach (var part in content.EnumerateArray())
                    {
                        var type = part.ValueKind == JsonValueKind.Object ? Member(part, "type") : default;
                        if (type.ValueKind != JsonValueKind.String)
                        {
                            return $"'{At("messages", m)}.content[{p}]' must be an object with a 'type', such as {{\"type\": \"text\", \"text\": \"...\"}}";
                        }
                        if (type.ValueEquals("text"u8) && Member(part, "text").ValueKind != JsonValueKind.String)
                        {
                            return $"'{At("messages", m)}.content[{p}].text' must be a string";
                        }
                        p++;
                    }
                    break;
                default:
                    return $"'{At("messages", m)}.content' must be a string or an array of content parts";
            }
            m++;
        }
        return null;
    }

    /// <summary>The member of an object element; <c>default</c> (Undefined) when it is absent.</summary>
    internal static JsonElement Member(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value : default;

    /// <summary>As <see cref="FunctionProblem(JsonNode?, string, int, string)"/>, of an element (absent or null: none).</summary>
    private static string? FunctionProblem(JsonElement function, string list, int index = -1, string member = "") => function.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.Object when Member(function, "name").ValueKind is JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.String => null,
        JsonValueKind.Object => $"'{At(list, index, member)}.name' must be a string: the function's name",
        _ => $"'{At(list, index, member)}' must be an object such as {{\"name\": ...}}",
    };

    private static bool IsAbsentOr(JsonElement element, params ReadOnlySpan<JsonValueKind> kinds) =>
        element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null || kinds.Contains(element.ValueKind);

    /// <summary>The path of an item of a list, such as <c>messages[3]</c>, with an optional <paramref name="member"/> (<c>.function</c>).</summary>
    private static string At(string list, int index, string member = "") =>
        index < 0 ? list + member : string.Create(CultureInfo.InvariantCulture, $"{list}[{index}]{member}");

    /// <summary>
    /// A function object, when present, must be an object whose <c>name</c>, when present, is a string. Its path is
    /// <paramref name="list"/>, or an item of it when <paramref name="index"/> is not negative.
    /// </summary>
    private static string? FunctionProblem(JsonNode? function, string list, int index = -1, string member = "") => function switch
    {
        null => null,
        JsonObject obj when obj["name"]?.GetValueKind() is null or JsonValueKind.String => null,
        JsonObject => $"'{At(list, index, member)}.name' must be a string: the function's name",
        _ => $"'{At(list, index, member)}' must be an object such as {{\"name\": ...}}",
    };

    private static bool IsAbsentOr(JsonNode? node, params ReadOnlySpan<JsonValueKind> kinds)
    {
        if (node is null) return true;
        var kind = node.GetValueKind();
        return kind == JsonValueKind.Null || kinds.Contains(kind);
    }

    /// <summary>
    /// The path of the first string or property name that cannot be decoded. The parser keeps strings as
    /// bytes until they are read, so invalid UTF-8 would otherwise surface later as an exception in whatever
    /// reads it first (a 500), or be forwarded as is. Iterative: nesting is bounded, but not shallow.
    /// </summary>
    private static string? Undecodable(JsonNode root)
    {
        var pending = new Stack<JsonNode>();
        pending.Push(root);
        try
        {
            while (pending.Count > 0)
            {
                switch (pending.Pop())
                {
                    case JsonObject obj:
                        foreach (var (_, value) in obj)
                        {
                            if (value is not null) pending.Push(value);
                        }
                        break;
                    case JsonArray array:
                        foreach (var value in array)
                        {
                            if (value is not null) pending.Push(value);
                        }
                        break;
                    case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                        _ = value.GetValue<string>();
                        break;
                }
            }
            return null;
        }
        catch (InvalidOperationException)
        {
            return "the body";
        }
    }
}
