using System.Text.Json.Nodes;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// The common model as an Anthropic Messages request: every system message joins <c>system</c> (Anthropic has
/// no system turn), user and assistant content become text and image blocks, tool calls <c>tool_use</c> blocks
/// (their arguments parsed as <c>input</c>), tool messages <c>tool_result</c> blocks of a user turn, and turns of
/// the same role are merged, as Anthropic requires them to alternate. <c>max_tokens</c> is required: the
/// client's or the spec's limit, else <see cref="DefaultMaxTokens"/>. The rules are in docs/gateway.md.
/// </summary>
internal static class AnthropicUpstreamRequest
{
    /// <summary>The limit sent when neither the client nor the spec set one (Anthropic refuses a request without).</summary>
    public const int DefaultMaxTokens = 4096;

    public static JsonObject FromChat(JsonObject common)
    {
        var request = new JsonObject { ["model"] = common["model"]?.DeepClone() };
        var system = new List<string>();
        var turns = new JsonArray();
        foreach (var message in common["messages"] as JsonArray ?? [])
        {
            var role = UntrustedJson.Text(UntrustedJson.Member(message, "role"));
            var content = UntrustedJson.Member(message, "content");
            switch (role)
            {
                case "system" or "developer":
                    if (CommonContent.Text(content) is { } text) system.Add(text);
                    break;
                case "tool":
                    Add(turns, "user", new JsonObject
                    {
                        ["type"] = "tool_result",
                        ["tool_use_id"] = UntrustedJson.Text(UntrustedJson.Member(message, "tool_call_id")) ?? "",
                        ["content"] = CommonContent.Text(content) ?? "",
                    });
                    break;
                default:
                    var speaker = role == "assistant" ? "assistant" : "user";
                    foreach (var block in Blocks(content)) Add(turns, speaker, block);
                    foreach (var call in UntrustedJson.Member(message, "tool_calls") as JsonArray ?? [])
                    {
                        var function = UntrustedJson.Member(call, "function");
                        Add(turns, "assistant", new JsonObject
                        {
                            ["type"] = "tool_use",
                            ["id"] = UntrustedJson.Text(UntrustedJson.Member(call, "id")) ?? "",
                            ["name"] = UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "",
                            ["input"] = Anthropic.AnthropicAnswer.Input(UntrustedJson.Text(UntrustedJson.Member(function, "arguments"))),
                        });
                    }
                    break;
            }
        }
        if (system.Count > 0) request["system"] = string.Join("\n\n", system);
        request["messages"] = turns;
        request["max_tokens"] = CommonContent.MaxTokens(common)?.DeepClone() ?? DefaultMaxTokens;
        foreach (var (from, to) in new[] { ("temperature", "temperature"), ("top_p", "top_p"), ("stream", "stream") })
        {
            if (common[from] is { } value) request[to] = value.DeepClone();
        }
        switch (common["stop"])
        {
            case JsonArray stops:
                request["stop_sequences"] = stops.DeepClone();
                break;
            case { } stop when UntrustedJson.Text(stop) is { } one:
                request["stop_sequences"] = new JsonArray(one);
                break;
        }
        if (UntrustedJson.Text(common["user"]) is { } user) request["metadata"] = new JsonObject { ["user_id"] = user };
        Tools(common, request);
        return request;
    }

    /// <summary>Adds a block to the last turn when it has the same role, else opens a turn.</summary>
    private static void Add(JsonArray turns, string role, JsonObject block)
    {
        if (turns.Count > 0 && turns[^1] is JsonObject last && UntrustedJson.Text(last["role"]) == role && last["content"] is JsonArray blocks)
        {
            blocks.Add(block);
            return;
        }
        turns.Add(new JsonObject { ["role"] = role, ["content"] = new JsonArray(block) });
    }

    private static IEnumerable<JsonObject> Blocks(JsonNode? content)
    {
        foreach (var (kind, value) in CommonContent.Parts(content))
        {
            if (kind == "text")
            {
                // Anthropic refuses empty text blocks; an empty message says nothing anyway.
                if (value.Length > 0) yield return new JsonObject { ["type"] = "text", ["text"] = value };
                continue;
            }
            yield return new JsonObject { ["type"] = "image", ["source"] = ImageSource(value) };
        }
    }

    /// <summary>A data URL as a base64 source; any other URL as a URL source.</summary>
    private static JsonObject ImageSource(string url)
    {
        const string Base64 = ";base64,";
        var marker = url.IndexOf(Base64, StringComparison.Ordinal);
        return url.StartsWith("data:", StringComparison.Ordinal) && marker > 5
            ? new JsonObject { ["type"] = "base64", ["media_type"] = url[5..marker], ["data"] = url[(marker + Base64.Length)..] }
            : new JsonObject { ["type"] = "url", ["url"] = url };
    }

    private static void Tools(JsonObject common, JsonObject request)
    {
        var tools = new JsonArray();
        foreach (var tool in common["tools"] as JsonArray ?? [])
        {
            var function = UntrustedJson.Member(tool, "function");
            if (UntrustedJson.Text(UntrustedJson.Member(function, "name")) is not { } name) continue;
            var converted = new JsonObject { ["name"] = name, ["input_schema"] = UntrustedJson.Member(function, "parameters")?.DeepClone() ?? new JsonObject { ["type"] = "object" } };
            if (UntrustedJson.Member(function, "description") is { } description) converted["description"] = description.DeepClone();
            tools.Add(converted);
        }
        if (tools.Count == 0) return;
        request["tools"] = tools;
        var choice = common["tool_choice"];
        JsonObject? anthropic = UntrustedJson.Text(choice) switch
        {
            "auto" => new JsonObject { ["type"] = "auto" },
            "required" => new JsonObject { ["type"] = "any" },
            "none" => new JsonObject { ["type"] = "none" },
            _ => UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(choice, "function"), "name")) is { } forced
                ? new JsonObject { ["type"] = "tool", ["name"] = forced }
                : null,
        };
        if (common["parallel_tool_calls"] is JsonValue parallel && parallel.TryGetValue<bool>(out var allowed) && !allowed)
        {
            anthropic ??= new JsonObject { ["type"] = "auto" };
            if (UntrustedJson.Text(anthropic["type"]) != "none") anthropic["disable_parallel_tool_use"] = true;
        }
        if (anthropic is not null) request["tool_choice"] = anthropic;
    }
}
