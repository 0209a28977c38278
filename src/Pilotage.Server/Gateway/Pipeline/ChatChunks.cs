using System.Text.Json.Nodes;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>Chat completions and stream chunks built by the gateway itself, in the common model.</summary>
internal static class ChatChunks
{
    /// <summary>The <c>created</c> time of the chunks the gateway builds.</summary>
    public const long Created = 0;

    /// <summary>A whole chat completion holding <paramref name="text"/> as the assistant's answer.</summary>
    public static JsonObject Completion(string id, string model, string text, DateTimeOffset? time) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion",
        ["created"] = time?.ToUnixTimeSeconds() ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = text },
            ["finish_reason"] = "stop",
        }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = 0, ["completion_tokens"] = 0, ["total_tokens"] = 0 },
    };

    /// <summary>
    /// A whole completion as the chunks a stream of it would have had: the first choice's text and tool calls in
    /// one delta, then its finish reason. Used to stream an answer that was held and released, or a held notice.
    /// </summary>
    public static IEnumerable<JsonObject> Of(JsonObject completion, string model)
    {
        var id = UntrustedJson.Text(UntrustedJson.Member(completion, "id")) ?? "chatcmpl-pilotage";
        var choice = UntrustedJson.Member(completion, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        var message = UntrustedJson.Member(choice, "message");
        var delta = new JsonObject { ["role"] = "assistant", ["content"] = UntrustedJson.Text(UntrustedJson.Member(message, "content")) ?? "" };
        if (UntrustedJson.Member(message, "tool_calls") is JsonArray calls)
        {
            var indexed = new JsonArray();
            for (var i = 0; i < calls.Count; i++)
            {
                var call = calls[i]?.DeepClone() as JsonObject ?? [];
                call["index"] = i;
                indexed.Add(call);
            }
            delta["tool_calls"] = indexed;
        }
        yield return Chunk(id, model, delta, null);
        yield return Chunk(id, model, [], UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason")) ?? "stop");
    }

    public static JsonObject Chunk(string id, string model, JsonObject delta, string? finish) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = Created,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };
}
