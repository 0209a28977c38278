using System.Text.Json.Nodes;
using System.Text;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway.Protocols.Responses;

/// <summary>
/// A streamed answer as the Responses API's typed events: <c>response.created</c>, <c>response.in_progress</c>,
/// then per output item <c>response.output_item.added</c>, <c>response.output_text.delta</c> (or
/// <c>response.function_call_arguments.delta</c>) and their <c>.done</c> events, and <c>response.completed</c>
/// with the whole response. A failure after the start is an <c>error</c> event.
/// </summary>
internal sealed class ResponsesStream(HttpContext http, string interactionId, string mode, string model, ResponsesContext context, long createdAt) : IAnswerStream
{
    private readonly StringBuilder _text = new();
    private readonly SortedDictionary<int, Call> _calls = [];
    private readonly JsonArray _done = [];
    private int _sequence;
    private bool _created;
    private int _messageIndex = -1;
    private int _outputs;
    private int _inputTokens;
    private int _outputTokens;
    private string? _finish;

    private sealed class Call(int outputIndex, string callId, string name)
    {
        public int OutputIndex { get; } = outputIndex;
        public string CallId { get; } = callId;
        public string Name { get; } = name;
        public StringBuilder Arguments { get; } = new();
        public bool Closed { get; set; }
    }

    private Stream Output => http.Response.Body;

    public Task StartAsync(bool held, CancellationToken ct)
    {
        GatewayHeaders.StartEventStream(http, held ? StatusCodes.Status202Accepted : StatusCodes.Status200OK, interactionId, mode, held);
        return Task.CompletedTask;
    }

    public async ValueTask WriteChunkAsync(JsonObject chunk, string raw, CancellationToken ct)
    {
        await CreatedAsync(ct);
        if (UntrustedJson.Member(chunk, "usage") is JsonObject usage)
        {
            _inputTokens = UntrustedJson.Int32(UntrustedJson.Member(usage, "prompt_tokens")) ?? _inputTokens;
            _outputTokens = UntrustedJson.Int32(UntrustedJson.Member(usage, "completion_tokens")) ?? _outputTokens;
        }
        var choice = UntrustedJson.Member(chunk, "choices") is JsonArray { Count: > 0 } choices ? choices[0] : null;
        var delta = UntrustedJson.Member(choice, "delta");
        if (UntrustedJson.Text(UntrustedJson.Member(delta, "content")) is { Length: > 0 } text)
        {
            if (_messageIndex < 0)
            {
                _messageIndex = _outputs++;
                await EventAsync("response.output_item.added", new JsonObject { ["output_index"] = _messageIndex, ["item"] = Message("in_progress", "") }, ct);
                await EventAsync("response.content_part.added", Part(ResponsesAnswer.OutputText("")), ct);
            }
            _text.Append(text);
            await EventAsync("response.output_text.delta", Part(null, text), ct);
        }
        if (UntrustedJson.Member(delta, "tool_calls") is JsonArray calls)
        {
            foreach (var piece in calls)
            {
                var index = UntrustedJson.Int32(UntrustedJson.Member(piece, "index")) ?? 0;
                var function = UntrustedJson.Member(piece, "function");
                if (!_calls.TryGetValue(index, out var call))
                {
                    call = _calls[index] = new Call(_outputs++, UntrustedJson.Text(UntrustedJson.Member(piece, "id")) ?? $"call_{index}", UntrustedJson.Text(UntrustedJson.Member(function, "name")) ?? "");
                    await EventAsync("response.output_item.added", new JsonObject { ["output_index"] = call.OutputIndex, ["item"] = ResponsesAnswer.FunctionCallItem(call.CallId, call.Name, "", "in_progress") }, ct);
                }
                if (UntrustedJson.Text(UntrustedJson.Member(function, "arguments")) is { Length: > 0 } arguments)
                {
                    call.Arguments.Append(arguments);
                    await EventAsync("response.function_call_arguments.delta", new JsonObject { ["item_id"] = "fc_" + call.CallId, ["output_index"] = call.OutputIndex, ["delta"] = arguments }, ct);
                }
            }
        }
        _finish = UntrustedJson.Text(UntrustedJson.Member(choice, "finish_reason")) ?? _finish;
    }

    public async ValueTask KeepAliveAsync(CancellationToken ct)
    {
        await Output.WriteAsync(": held for review\n\n"u8.ToArray(), ct);
        await Output.FlushAsync(ct);
    }

    public async Task CompleteAsync()
    {
        var ct = CancellationToken.None;
        await CreatedAsync(ct);
        var output = new JsonObject[_outputs];
        if (_messageIndex >= 0)
        {
            var text = _text.ToString();
            await EventAsync("response.output_text.done", Part(null, null, text), ct);
            await EventAsync("response.content_part.done", Part(ResponsesAnswer.OutputText(text)), ct);
            output[_messageIndex] = Message("completed", text);
            await EventAsync("response.output_item.done", new JsonObject { ["output_index"] = _messageIndex, ["item"] = output[_messageIndex].DeepClone() }, ct);
        }
        foreach (var call in _calls.Values)
        {
            var arguments = call.Arguments.ToString();
            await EventAsync("response.function_call_arguments.done", new JsonObject { ["item_id"] = "fc_" + call.CallId, ["output_index"] = call.OutputIndex, ["arguments"] = arguments }, ct);
            output[call.OutputIndex] = ResponsesAnswer.FunctionCallItem(call.CallId, call.Name, arguments, "completed");
            await EventAsync("response.output_item.done", new JsonObject { ["output_index"] = call.OutputIndex, ["item"] = output[call.OutputIndex].DeepClone() }, ct);
        }
        foreach (var item in output) _done.Add(item);
        var truncated = _finish == "length";
        var response = ResponsesAnswer.Response(interactionId, model, context, createdAt, truncated ? "incomplete" : "completed", _done, _inputTokens, _outputTokens,
            truncated ? new JsonObject { ["reason"] = "max_output_tokens" } : null);
        await EventAsync(truncated ? "response.incomplete" : "response.completed", new JsonObject { ["response"] = response }, ct);
    }

    public async Task FailAsync(GatewayRefusal refusal) =>
        await EventAsync("error", new JsonObject { ["code"] = refusal.Code, ["message"] = refusal.Message, ["param"] = null }, CancellationToken.None);

    /// <summary>The <c>error</c> event of a stream passed through (the upstream numbered the events before it; this one has no number).</summary>
    public static byte[] ErrorEvent(GatewayRefusal refusal) =>
        Encoding.UTF8.GetBytes($"event: error\ndata: {new JsonObject { ["type"] = "error", ["code"] = refusal.Code, ["message"] = refusal.Message, ["param"] = null }.ToJsonString()}\n\n");

    private async ValueTask CreatedAsync(CancellationToken ct)
    {
        if (_created) return;
        _created = true;
        var response = ResponsesAnswer.Response(interactionId, model, context, createdAt, "in_progress", [], 0, 0);
        response["usage"] = null;
        await EventAsync("response.created", new JsonObject { ["response"] = response }, ct);
        await EventAsync("response.in_progress", new JsonObject { ["response"] = response.DeepClone() }, ct);
    }

    private JsonObject Message(string status, string text)
    {
        var item = ResponsesAnswer.MessageItem(interactionId, text, status);
        if (status != "completed") item["content"] = new JsonArray();
        return item;
    }

    /// <summary>The fields of a text event: its item and place, and the part, delta or whole text it carries.</summary>
    private JsonObject Part(JsonObject? part, string? delta = null, string? text = null)
    {
        var body = new JsonObject { ["item_id"] = "msg_" + interactionId, ["output_index"] = _messageIndex, ["content_index"] = 0 };
        if (part is not null) body["part"] = part;
        if (delta is not null) body["delta"] = delta;
        if (text is not null) body["text"] = text;
        return body;
    }

    private async ValueTask EventAsync(string type, JsonObject body, CancellationToken ct)
    {
        var data = new JsonObject { ["type"] = type, ["sequence_number"] = _sequence++ };
        foreach (var (name, value) in body.ToList())
        {
            body.Remove(name);
            data[name] = value;
        }
        await Output.WriteAsync(Encoding.UTF8.GetBytes($"event: {type}\ndata: {data.ToJsonString()}\n\n"), ct);
        await Output.FlushAsync(ct);
    }
}
