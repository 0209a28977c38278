using System.Text.Json.Nodes;
using System.Text;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// A Responses API <c>response</c> as a chat completion: the <c>output_text</c> parts of its message items as the
/// content, its <c>function_call</c> items as tool calls, <c>incomplete</c> for the token limit as
/// <c>length</c>, its <c>usage</c> as the chat usage. Reasoning items are not carried (the common model has no place
/// for them). A response that is not one, or that failed, cannot be read.
/// </summary>
internal static class ResponsesUpstreamAnswer
{
    public static JsonObject ToChat(JsonObject response)
    {
        if (UntrustedJson.Text(UntrustedJson.Member(response, "object")) != "response") throw new InvalidDataException("the answer is not a response object");
        if (UntrustedJson.Text(UntrustedJson.Member(response, "status")) == "failed")
        {
            var error = UntrustedJson.Member(response, "error");
            throw new InvalidDataException($"the response failed: {UntrustedJson.Text(UntrustedJson.Member(error, "message")) ?? "no reason given"}");
        }
        var text = new StringBuilder();
        var refusal = new StringBuilder();
        var calls = new JsonArray();
        foreach (var item in UntrustedJson.Member(response, "output") as JsonArray ?? throw new InvalidDataException("the response has no output list"))
        {
            switch (UntrustedJson.Text(UntrustedJson.Member(item, "type")))
            {
                case "message":
                    foreach (var part in UntrustedJson.Member(item, "content") as JsonArray ?? [])
                    {
                        var kind = UntrustedJson.Text(UntrustedJson.Member(part, "type"));
                        if (kind == "output_text") text.Append(UntrustedJson.Text(UntrustedJson.Member(part, "text")));
                        else if (kind == "refusal") refusal.Append(UntrustedJson.Text(UntrustedJson.Member(part, "refusal")));
                    }
                    break;
                case "function_call":
                    calls.Add(new JsonObject
                    {
                        ["id"] = UntrustedJson.Text(UntrustedJson.Member(item, "call_id")) ?? $"call_{calls.Count}",
                        ["type"] = "function",
                        ["function"] = new JsonObject
                        {
                            ["name"] = UntrustedJson.Text(UntrustedJson.Member(item, "name")) ?? throw new InvalidDataException("a function_call item has no name"),
                            ["arguments"] = UntrustedJson.Text(UntrustedJson.Member(item, "arguments")) ?? "{}",
                        },
                    });
                    break;
            }
        }
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 && calls.Count > 0 ? null : text.ToString() };
        if (refusal.Length > 0) message["refusal"] = refusal.ToString();
        if (calls.Count > 0) message["tool_calls"] = calls;
        var usage = UntrustedJson.Member(response, "usage");
        return CommonContent.Completion(
            UntrustedJson.Text(UntrustedJson.Member(response, "id")) ?? "resp",
            UntrustedJson.Text(UntrustedJson.Member(response, "model")) ?? "",
            UntrustedJson.Member(response, "created_at") is JsonValue created && created.TryGetValue<long>(out var at) ? at : 0,
            message,
            Finish(response, calls.Count > 0),
            CommonContent.Usage(UntrustedJson.Int32(UntrustedJson.Member(usage, "input_tokens")) ?? 0, UntrustedJson.Int32(UntrustedJson.Member(usage, "output_tokens")) ?? 0));
    }

    /// <summary>The chat finish reason of a response: its status, why it is incomplete, or whether it calls tools.</summary>
    public static string Finish(JsonNode response, bool calls)
    {
        if (UntrustedJson.Text(UntrustedJson.Member(response, "status")) == "incomplete")
        {
            return UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(response, "incomplete_details"), "reason")) == "content_filter" ? "content_filter" : "length";
        }
        return calls ? "tool_calls" : "stop";
    }
}
