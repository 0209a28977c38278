using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Specs;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The system's configuration and mode applied to a request in the common model: the spec's model, system
/// prompt and parameters replace what the client sent (the config is under change control), and read-only
/// mode does not offer tools that change things.
/// </summary>
internal static class SystemConfiguration
{
    /// <summary>Applies the configuration; returns whether the upstream is asked to stream (held answers are fetched whole).</summary>
    public static bool ApplyChat(JsonObject body, GatewaySystem system, ServingMode mode, bool clientWantsStream)
    {
        var spec = system.State.Spec;
        body["model"] = spec.Upstream.Model;
        var config = spec.Config;
        if (!string.IsNullOrEmpty(config.SystemPrompt) && body["messages"] is JsonArray messages)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = config.SystemPrompt });
        }
        if (config.Temperature is { } temperature) body["temperature"] = temperature;
        if (config.TopP is { } topP) body["top_p"] = topP;
        if (config.MaxTokens is { } maxTokens)
        {
            body.Remove("max_completion_tokens");
            body["max_tokens"] = maxTokens;
        }
        if (mode == ServingMode.ReadOnly) StripSideEffectingTools(body, system.SideEffectingTools);

        var stream = clientWantsStream && !HoldsAnswer(mode);
        if (stream)
        {
            // Token counts are evidence: ask for them; the relay drops the extra chunk if the client did not.
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else if (body["stream"]?.GetValueKind() == JsonValueKind.True)
        {
            body["stream"] = false;
            body.Remove("stream_options");
        }
        return stream;
    }

    public static void ApplyEmbeddings(JsonObject body, GatewaySystem system) => body["model"] = system.State.Spec.Upstream.Model;

    /// <summary>Modes whose answer is not passed on as it comes: it is judged (approval) or only recorded (shadow).</summary>
    public static bool HoldsAnswer(ServingMode mode) => mode is ServingMode.Approval or ServingMode.Shadow;

    /// <summary>
    /// Read-only mode: tools that change things are not offered to the model at all, in <c>tools</c> or in the
    /// legacy <c>functions</c> list (which OpenAI-compatible servers still honour). Names were type-checked by
    /// <see cref="RequestShape.ChatProblem"/>.
    /// </summary>
    private static void StripSideEffectingTools(JsonObject body, IReadOnlySet<string> sideEffecting)
    {
        if (sideEffecting.Count == 0) return;
        if (body["tools"] is JsonArray tools)
        {
            tools.RemoveAll(tool => UntrustedJson.FunctionName(UntrustedJson.Member(tool, "function")) is { } name && sideEffecting.Contains(name));
            if (tools.Count == 0)
            {
                body.Remove("tools");
                body.Remove("tool_choice");
                body.Remove("parallel_tool_calls");
            }
            else if (UntrustedJson.FunctionName(UntrustedJson.Member(body["tool_choice"], "function")) is { } forced && sideEffecting.Contains(forced))
            {
                body["tool_choice"] = "auto";
            }
        }
        if (body["functions"] is JsonArray functions)
        {
            functions.RemoveAll(function => UntrustedJson.FunctionName(function) is { } name && sideEffecting.Contains(name));
            if (functions.Count == 0)
            {
                body.Remove("functions");
                body.Remove("function_call");
            }
            else if (UntrustedJson.FunctionName(body["function_call"]) is { } forced && sideEffecting.Contains(forced))
            {
                body["function_call"] = "auto";
            }
        }
    }

    /// <summary>The first side-effecting function the answer (or stream chunk) calls, by tool call or legacy
    /// <c>function_call</c>; null when none. Throws <see cref="InvalidDataException"/> for a name it cannot read.</summary>
    public static string? BlockedToolCall(JsonNode? answer, IReadOnlySet<string> sideEffecting)
    {
        if (sideEffecting.Count == 0 || UntrustedJson.Member(answer, "choices") is not JsonArray choices) return null;
        foreach (var choice in choices)
        {
            var message = UntrustedJson.Member(choice, "message") ?? UntrustedJson.Member(choice, "delta");
            if (UntrustedJson.FunctionName(UntrustedJson.Member(message, "function_call")) is { } legacy && sideEffecting.Contains(legacy)) return legacy;
            if (UntrustedJson.Member(message, "tool_calls") is not JsonArray calls) continue;
            foreach (var call in calls)
            {
                if (UntrustedJson.FunctionName(UntrustedJson.Member(call, "function")) is { } name && sideEffecting.Contains(name)) return name;
            }
        }
        return null;
    }
}
