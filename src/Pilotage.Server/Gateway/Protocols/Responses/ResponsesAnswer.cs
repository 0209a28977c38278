using System.Text.Json.Nodes;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// A chat completion (the common model) as a Responses API <c>response</c> object: the message's text as an
/// <c>output_text</c> part of a <c>message</c> item, each tool call as a <c>function_call</c> item, the token
/// counts as <c>usage</c>; a completion cut at its token limit is <c>incomplete</c>.
/// </summary>
internal static class ResponsesAnswer
{
    /// <summary>The response id of an interaction: <c>resp_</c> and the interaction id, so either finds the other.</summary>
    public static string ResponseId(string interactionId) => "resp_" + interactionId;

    public static string? InteractionId(string responseId) =>
        responseId.StartsWith("resp_", StringComparison.Ordinal) && responseId.Length > 5 ? responseId[5..] : null;

    public static JsonObject FromChat(JsonObject completion, string interactionId, string model, ResponsesContext context, long createdAt)
    {
        var choice = UntrustedJson.Member(completion, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        var message = UntrustedJson.Member(choice, "message");
        var output = new JsonArray();
        if (UntrustedJson.Text(UntrustedJson.Member(message, "content")) is { Length: > 0 } text)
        {
            output.Add(MessageItem(interactionId, text, "completed"));
        }
        if (UntrustedJson.Member(message, "tool_calls") is JsonArray calls)
        {
            foreach (var call in calls)
            {
                var function = UntrustedJson.Member(call, "function");
                var callId = UntrustedJson.Text(UntrustedJson.Member(call, "id")) ?? $"call_{output.Count}";
                output.Add(FunctionCallItem(callId, UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "",
                    UntrustedJson.Text(UntrustedJson.Member(function, "arguments")) ?? "", "completed"));
            }
        }
        var usage = UntrustedJson.Member(completion, "usage");
        var truncated = UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason")) == "length";
        return Response(interactionId, model, context, createdAt, truncated ? "incomplete" : "completed", output,
            UntrustedJson.Int32(UntrustedJson.Member(usage, "prompt_tokens")) ?? 0, UntrustedJson.Int32(UntrustedJson.Member(usage, "completion_tokens")) ?? 0,
            truncated ? new JsonObject { ["reason"] = "max_output_tokens" } : null);
    }

    public static JsonObject Response(string interactionId, string model, ResponsesContext context, long createdAt, string status, JsonArray output,
        int inputTokens, int outputTokens, JsonObject? incomplete = null)
    {
        var response = new JsonObject
        {
            ["id"] = ResponseId(interactionId),
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["error"] = null,
            ["incomplete_details"] = incomplete,
            ["model"] = model,
            ["output"] = output,
            ["previous_response_id"] = context.PreviousResponseId,
            ["usage"] = new JsonObject
            {
                ["input_tokens"] = inputTokens,
                ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = 0 },
                ["output_tokens"] = outputTokens,
                ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = 0 },
                ["total_tokens"] = inputTokens + outputTokens,
            },
        };
        // The request's settings, echoed as the API does; what the client did not send gets the API's default.
        foreach (var (name, value) in context.Echo) response[name] = value?.DeepClone();
        return response;
    }

    public static JsonObject MessageItem(string interactionId, string text, string status) => new()
    {
        ["type"] = "message",
        ["id"] = "msg_" + interactionId,
        ["status"] = status,
        ["role"] = "assistant",
        ["content"] = new JsonArray(OutputText(text)),
    };

    public static JsonObject OutputText(string text) => new() { ["type"] = "output_text", ["text"] = text, ["annotations"] = new JsonArray() };

    public static JsonObject FunctionCallItem(string callId, string name, string arguments, string status) => new()
    {
        ["type"] = "function_call",
        ["id"] = "fc_" + callId,
        ["call_id"] = callId,
        ["name"] = name,
        ["arguments"] = arguments,
        ["status"] = status,
    };

    /// <summary>The settings a response echoes, from the request (defaults as the API documents them).</summary>
    public static JsonObject Echo(JsonObject request)
    {
        var echo = new JsonObject
        {
            ["instructions"] = request["instructions"]?.DeepClone(),
            ["max_output_tokens"] = request["max_output_tokens"]?.DeepClone(),
            ["parallel_tool_calls"] = request["parallel_tool_calls"]?.DeepClone() ?? true,
            ["temperature"] = request["temperature"]?.DeepClone() ?? 1.0,
            ["top_p"] = request["top_p"]?.DeepClone() ?? 1.0,
            ["tool_choice"] = request["tool_choice"]?.DeepClone() ?? "auto",
            ["tools"] = request["tools"]?.DeepClone() ?? new JsonArray(),
            ["text"] = request["text"]?.DeepClone() ?? new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } },
            ["truncation"] = "disabled",
            ["store"] = true,
            ["metadata"] = request["metadata"]?.DeepClone() ?? new JsonObject(),
        };
        return echo;
    }
}
