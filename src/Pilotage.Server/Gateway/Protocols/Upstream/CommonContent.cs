using System.Text.Json.Nodes;
using System.Text.Json;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>Reads the common model's (chat-completions) request parts that every upstream translation needs.</summary>
internal static class CommonContent
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>A message's content as text: a string, or its text parts joined; null when it has none.</summary>
    public static string? Text(JsonNode? content)
    {
        if (UntrustedJson.Text(content) is { } text) return text;
        if (content is not JsonArray parts) return null;
        var texts = parts.Select(p => UntrustedJson.Text(UntrustedJson.Member(p, "text"))).OfType<string>().ToList();
        return texts.Count == 0 ? null : string.Concat(texts);
    }

    /// <summary>The content's parts as (kind, value): <c>text</c> with its text, <c>image</c> with its URL.</summary>
    public static IEnumerable<(string Kind, string Value)> Parts(JsonNode? content)
    {
        if (UntrustedJson.Text(content) is { } text)
        {
            yield return ("text", text);
            yield break;
        }
        foreach (var part in content as JsonArray ?? [])
        {
            switch (UntrustedJson.Text(UntrustedJson.Member(part, "type")))
            {
                case "text" when UntrustedJson.Text(UntrustedJson.Member(part, "text")) is { } partText:
                    yield return ("text", partText);
                    break;
                case "image_url" when (UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(part, "image_url"), "url")) ?? UntrustedJson.Text(UntrustedJson.Member(part, "image_url"))) is { } url:
                    yield return ("image", url);
                    break;
            }
        }
    }

    /// <summary>
    /// The token limit the client or the spec set (<c>max_completion_tokens</c> or <c>max_tokens</c>), null when none.
    /// </summary>
    public static JsonNode? MaxTokens(JsonObject common) => common["max_completion_tokens"] ?? common["max_tokens"];

    /// <summary>A JSON answer or event of the upstream, as an object; anything else is unreadable.</summary>
    public static JsonObject Object(ReadOnlySpan<byte> json, string what)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: ParseOptions) as JsonObject ?? throw new InvalidDataException($"{what} is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{what} is not valid JSON ({e.Message})", e);
        }
    }

    public static JsonObject Object(string json, string what) => Object(System.Text.Encoding.UTF8.GetBytes(json), what);

    /// <summary>Token counts in the common model's <c>usage</c> shape.</summary>
    public static JsonObject Usage(int input, int output) => new() { ["prompt_tokens"] = input, ["completion_tokens"] = output, ["total_tokens"] = input + output };

    /// <summary>A whole chat completion of one choice.</summary>
    public static JsonObject Completion(string id, string model, long created, JsonObject message, string finish, JsonObject usage) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
        ["usage"] = usage,
    };

    /// <summary>A usage-only stream chunk (no choices), as chat upstreams send it last with <c>include_usage</c>.</summary>
    public static string UsageChunk(string id, string model, int input, int output) => new JsonObject
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = 0,
        ["model"] = model,
        ["choices"] = new JsonArray(),
        ["usage"] = Usage(input, output),
    }.ToJsonString();

    /// <summary>A tool call's opening stream piece: its index, id and name.</summary>
    public static JsonObject CallOpened(int index, string id, string name, string arguments = "") => new()
    {
        ["index"] = index,
        ["id"] = id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = name, ["arguments"] = arguments },
    };

    /// <summary>More of a tool call's arguments, as a stream piece.</summary>
    public static JsonObject CallArguments(int index, string arguments) => new() { ["index"] = index, ["function"] = new JsonObject { ["arguments"] = arguments } };
}
