using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Specs;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The system's configuration and mode applied to a body passed through in the upstream's own protocol (Responses
/// API or Anthropic Messages): the same rules as <see cref="SystemConfiguration"/> for the common model, written in
/// that protocol's fields. Nothing else of the client's body is touched. Rules in docs/gateway.md.
/// </summary>
internal static class NativeConfiguration
{
    public static void Apply(UpstreamProtocol protocol, JsonObject body, GatewaySystem system, ServingMode mode, bool stream)
    {
        var spec = system.State.Spec;
        var config = spec.Config;
        body["model"] = spec.Upstream.Model;
        if (config.Temperature is { } temperature) body["temperature"] = temperature;
        if (config.TopP is { } topP) body["top_p"] = topP;
        // Held answers are fetched whole: a client's stream is answered by the gateway, not by the upstream.
        if (!stream && body["stream"]?.GetValueKind() == JsonValueKind.True) body["stream"] = false;
        var prompt = string.IsNullOrEmpty(config.SystemPrompt) ? null : config.SystemPrompt;
        if (protocol == UpstreamProtocol.Anthropic)
        {
            if (config.MaxTokens is { } max) body["max_tokens"] = max;
            // The spec's prompt comes first, as in the common model; a list of blocks keeps its blocks (and their cache_control).
            if (prompt is not null)
            {
                body["system"] = body["system"] switch
                {
                    JsonArray blocks => Prepended(blocks, new JsonObject { ["type"] = "text", ["text"] = prompt }),
                    JsonValue text when text.GetValueKind() == JsonValueKind.String => prompt + "\n\n" + text.GetValue<string>(),
                    _ => prompt,
                };
            }
            if (mode == ServingMode.ReadOnly) StripTools(body, system.SideEffectingTools, () => new JsonObject { ["type"] = "auto" });
            return;
        }
        if (config.MaxTokens is { } limit) body["max_output_tokens"] = limit;
        if (prompt is not null)
        {
            body["instructions"] = UntrustedJson.Text(body["instructions"]) is { } instructions ? prompt + "\n\n" + instructions : prompt;
        }
        // Pilotage keeps the conversation (previous_response_id is resolved from the evidence, see StoredResponses):
        // the provider keeps no copy outside the system's evidence retention.
        body["store"] = false;
        if (mode == ServingMode.ReadOnly) StripTools(body, system.SideEffectingTools, () => "auto");
    }

    private static JsonArray Prepended(JsonArray blocks, JsonObject first)
    {
        blocks.Insert(0, first);
        return blocks;
    }

    /// <summary>
    /// Read-only mode: a tool whose name (or, for a built-in tool of the Responses API, whose type) is side-effecting
    /// is not offered; a tool choice that forces one becomes automatic, and with no tool left there is no choice.
    /// </summary>
    private static void StripTools(JsonObject body, IReadOnlySet<string> sideEffecting, Func<JsonNode> automatic)
    {
        if (sideEffecting.Count == 0 || body["tools"] is not JsonArray tools) return;
        tools.RemoveAll(tool => NameOf(tool) is { } name && sideEffecting.Contains(name));
        if (tools.Count == 0)
        {
            body.Remove("tools");
            body.Remove("tool_choice");
            body.Remove("parallel_tool_calls");
        }
        else if (NameOf(body["tool_choice"]) is { } forced && sideEffecting.Contains(forced))
        {
            body["tool_choice"] = automatic();
        }

        static string? NameOf(JsonNode? tool) =>
            UntrustedJson.Text(UntrustedJson.Member(tool, "name")) ?? UntrustedJson.Text(UntrustedJson.Member(tool, "server_label")) ?? UntrustedJson.Text(UntrustedJson.Member(tool, "type"));
    }
}
