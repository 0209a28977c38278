using System.Text.Json.Nodes;
using System.Text;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// An Anthropic <c>message</c> as a chat completion: its text blocks joined as the content, its <c>tool_use</c>
/// blocks as tool calls (<c>input</c> written as the arguments), <c>stop_reason</c> as the finish reason, and its
/// usage (cache reads and writes counted as input, as they are billed) as the chat usage. Thinking blocks are not
/// carried: the common model has no place for them.
/// </summary>
internal static class AnthropicUpstreamAnswer
{
    public static JsonObject ToChat(JsonObject answer)
    {
        if (UntrustedJson.Text(UntrustedJson.Member(answer, "type")) != "message") throw new InvalidDataException("the answer is not a message");
        var text = new StringBuilder();
        var calls = new JsonArray();
        foreach (var block in UntrustedJson.Member(answer, "content") as JsonArray ?? throw new InvalidDataException("the message has no content list"))
        {
            switch (UntrustedJson.Text(UntrustedJson.Member(block, "type")))
            {
                case "text":
                    text.Append(UntrustedJson.Text(UntrustedJson.Member(block, "text")));
                    break;
                case "tool_use":
                    calls.Add(new JsonObject
                    {
                        ["id"] = UntrustedJson.Text(UntrustedJson.Member(block, "id")) ?? $"toolu_{calls.Count}",
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = UntrustedJson.Text(UntrustedJson.Member(block, "name")) ?? throw new InvalidDataException("a tool_use block has no name"),
                            ["arguments"] = UntrustedJson.Member(block, "input")?.ToJsonString() ?? "{}",
                        },
                    });
                    break;
            }
        }
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 && calls.Count > 0 ? null : text.ToString() };
        if (calls.Count > 0) message["tool_calls"] = calls;
        var usage = UntrustedJson.Member(answer, "usage");
        return CommonContent.Completion(
            UntrustedJson.Text(UntrustedJson.Member(answer, "id")) ?? "msg",
            UntrustedJson.Text(UntrustedJson.Member(answer, "model")) ?? "",
            0,
            message,
            Finish(UntrustedJson.Text(UntrustedJson.Member(answer, "stop_reason"))),
            CommonContent.Usage(InputTokens(usage), UntrustedJson.Int32(UntrustedJson.Member(usage, "output_tokens")) ?? 0));
    }

    /// <summary>Anthropic's stop reason as a chat finish reason.</summary>
    public static string Finish(string? stopReason) => stopReason switch
    {
        "max_tokens" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop", // end_turn, stop_sequence, pause_turn
    };

    /// <summary>All the input tokens: fresh, written to the cache and read from it.</summary>
    public static int InputTokens(JsonNode? usage) =>
        (UntrustedJson.Int32(UntrustedJson.Member(usage, "input_tokens")) ?? 0)
        + (UntrustedJson.Int32(UntrustedJson.Member(usage, "cache_creation_input_tokens")) ?? 0)
        + (UntrustedJson.Int32(UntrustedJson.Member(usage, "cache_read_input_tokens")) ?? 0);
}
