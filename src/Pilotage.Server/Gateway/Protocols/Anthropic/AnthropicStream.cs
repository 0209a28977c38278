using System.Text.Json.Nodes;
using System.Text;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway.Protocols.Anthropic;

/// <summary>
/// A streamed answer as Anthropic's events: <c>message_start</c>, per block <c>content_block_start</c>,
/// <c>content_block_delta</c> (<c>text_delta</c> or <c>input_json_delta</c>) and <c>content_block_stop</c>, then
/// <c>message_delta</c> (stop reason, output tokens) and <c>message_stop</c>. Held open, it sends <c>ping</c>.
/// </summary>
internal sealed class AnthropicStream(HttpContext http, string interactionId, string mode, string model) : IAnswerStream
{
    private readonly Dictionary<int, int> _toolBlocks = [];
    private bool _started;
    private int _textBlock = -1;
    private int _open = -1;
    private int _blocks;
    private int _inputTokens;
    private int _outputTokens;
    private string? _finish;

    private Stream Output => http.Response.Body;

    public Task StartAsync(bool held, CancellationToken ct)
    {
        GatewayHeaders.StartEventStream(http, held ? StatusCodes.Status202Accepted : StatusCodes.Status200OK, interactionId, mode, held);
        return Task.CompletedTask;
    }

    public async ValueTask WriteChunkAsync(JsonObject chunk, string raw, CancellationToken ct)
    {
        if (UntrustedJson.Member(chunk, "usage") is JsonObject usage)
        {
            _inputTokens = UntrustedJson.Int32(UntrustedJson.Member(usage, "prompt_tokens")) ?? _inputTokens;
            _outputTokens = UntrustedJson.Int32(UntrustedJson.Member(usage, "completion_tokens")) ?? _outputTokens;
        }
        await StartedAsync(ct);
        var choice = UntrustedJson.Member(chunk, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        var delta = UntrustedJson.Member(choice, "delta");
        if (UntrustedJson.Text(UntrustedJson.Member(delta, "content")) is { Length: > 0 } text)
        {
            if (_textBlock < 0 || _open != _textBlock)
            {
                _textBlock = await OpenAsync(new JsonObject { ["type"] = "text", ["text"] = "" }, ct);
            }
            await EventAsync("content_block_delta", new JsonObject { ["index"] = _textBlock, ["delta"] = new JsonObject { ["type"] = "text_delta", ["text"] = text } }, ct);
        }
        if (UntrustedJson.Member(delta, "tool_calls") is JsonArray calls)
        {
            foreach (var piece in calls)
            {
                var index = UntrustedJson.Int32(UntrustedJson.Member(piece, "index")) ?? 0;
                var function = UntrustedJson.Member(piece, "function");
                if (!_toolBlocks.TryGetValue(index, out var block))
                {
                    block = _toolBlocks[index] = await OpenAsync(AnthropicAnswer.ToolUse(UntrustedJson.Text(UntrustedJson.Member(piece, "id")) ?? $"toolu_{index}",
                        UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "", new JsonObject()), ct);
                }
                if (UntrustedJson.Text(UntrustedJson.Member(function, "arguments")) is { Length: > 0 } arguments)
                {
                    await EventAsync("content_block_delta", new JsonObject { ["index"] = block, ["delta"] = new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = arguments } }, ct);
                }
            }
        }
        _finish = UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason")) ?? _finish;
    }

    public ValueTask KeepAliveAsync(CancellationToken ct) => EventAsync("ping", [], ct);

    public async Task CompleteAsync()
    {
        var ct = CancellationToken.None;
        await StartedAsync(ct);
        await CloseAsync(ct);
        await EventAsync("message_delta", new JsonObject
        {
            ["delta"] = new JsonObject { ["stop_reason"] = AnthropicAnswer.StopReason(_finish), ["stop_sequence"] = null },
            ["usage"] = new JsonObject { ["input_tokens"] = _inputTokens, ["output_tokens"] = _outputTokens },
        }, ct);
        await EventAsync("message_stop", [], ct);
    }

    public async Task FailAsync(GatewayRefusal refusal) => await Output.WriteAsync(AnthropicErrors.StreamEvent(refusal), CancellationToken.None);

    private async ValueTask StartedAsync(CancellationToken ct)
    {
        if (_started) return;
        _started = true;
        var message = AnthropicAnswer.Message(interactionId, model, [], null);
        message["usage"] = AnthropicAnswer.Usage(_inputTokens, 0);
        await EventAsync("message_start", new JsonObject { ["message"] = message }, ct);
    }

    /// <summary>Opens a content block, closing the one before: Anthropic streams one block at a time.</summary>
    private async ValueTask<int> OpenAsync(JsonObject block, CancellationToken ct)
    {
        await CloseAsync(ct);
        _open = _blocks++;
        await EventAsync("content_block_start", new JsonObject { ["index"] = _open, ["content_block"] = block }, ct);
        return _open;
    }

    private async ValueTask CloseAsync(CancellationToken ct)
    {
        if (_open < 0) return;
        await EventAsync("content_block_stop", new JsonObject { ["index"] = _open }, ct);
        _open = -1;
    }

    private async ValueTask EventAsync(string type, JsonObject body, CancellationToken ct)
    {
        var data = new JsonObject { ["type"] = type };
        foreach (var (name, value) in body.ToList())
        {
            body.Remove(name);
            data[name] = value;
        }
        await Output.WriteAsync(Encoding.UTF8.GetBytes($"event: {type}\ndata: {data.ToJsonString()}\n\n"), ct);
        await Output.FlushAsync(ct);
    }
}
