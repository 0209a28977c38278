using System.Text.Json.Nodes;
using Pilotage.Server.Gateway.Pipeline;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// A Responses API event stream as chat-completion chunks: <c>response.output_text.delta</c> as content,
/// a <c>function_call</c> item's <c>response.output_item.added</c> as a tool call's first piece and its
/// <c>response.function_call_arguments.delta</c> as more arguments, <c>response.completed</c> (or
/// <c>.incomplete</c>) as the finish reason, the usage chunk and <c>[DONE]</c>. <c>error</c> and
/// <c>response.failed</c> end the stream as unreadable; every other event carries nothing the common model keeps.
/// One instance per stream: it remembers the calls it announced.
/// </summary>
internal sealed class ResponsesUpstreamStream : IUpstreamStream
{
    private readonly Dictionary<int, int> _calls = [];
    private string _id = "resp";
    private string _model = "";
    private bool _finished;

    public IEnumerable<string> Translate(string? eventName, string data)
    {
        // Some compatible servers end with the chat API's [DONE] too; the response's own end already said it all.
        if (_finished || data == "[DONE]") return [];
        var e = CommonContent.Object(data, "an event");
        var type = UntrustedJson.Text(UntrustedJson.Member(e, "type")) ?? eventName;
        switch (type)
        {
            case "response.created":
                var created = UntrustedJson.Member(e, "response");
                _id = UntrustedJson.Text(UntrustedJson.Member(created, "id")) ?? _id;
                _model = UntrustedJson.Text(UntrustedJson.Member(created, "model")) ?? _model;
                return [Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" })];
            case "response.output_text.delta" or "response.refusal.delta":
                var text = UntrustedJson.Text(UntrustedJson.Member(e, "delta")) ?? throw new InvalidDataException($"a {type} event without a text delta");
                return [Chunk(new JsonObject { ["content"] = text })];
            case "response.output_item.added" when UntrustedJson.Member(e, "item") is { } item && UntrustedJson.Text(UntrustedJson.Member(item, "type")) == "function_call":
                var place = OutputIndex(e);
                if (_calls.ContainsKey(place)) throw new InvalidDataException($"a second function call announced at output {place}");
                var index = _calls[place] = _calls.Count;
                var opened = CommonContent.CallOpened(index,
                    UntrustedJson.Text(UntrustedJson.Member(item, "call_id")) ?? $"call_{index}",
                    UntrustedJson.Text(UntrustedJson.Member(item, "name")) ?? throw new InvalidDataException("a function call without a name"),
                    UntrustedJson.Text(UntrustedJson.Member(item, "arguments")) ?? "");
                return [Chunk(new JsonObject { ["tool_calls"] = new JsonArray(opened) })];
            case "response.function_call_arguments.delta":
                if (!_calls.TryGetValue(OutputIndex(e), out var call)) throw new InvalidDataException("arguments of a function call the stream did not announce");
                var arguments = UntrustedJson.Text(UntrustedJson.Member(e, "delta")) ?? throw new InvalidDataException("a function_call_arguments.delta event without a delta");
                return [Chunk(new JsonObject { ["tool_calls"] = new JsonArray(CommonContent.CallArguments(call, arguments)) })];
            case "response.completed" or "response.incomplete":
                _finished = true;
                var response = UntrustedJson.Member(e, "response") ?? throw new InvalidDataException($"a {type} event without its response");
                var usage = UntrustedJson.Member(response, "usage");
                return
                [
                    ChatChunks.Chunk(_id, _model, [], ResponsesUpstreamAnswer.Finish(response, _calls.Count > 0)).ToJsonString(),
                    CommonContent.UsageChunk(_id, _model, UntrustedJson.Int32(UntrustedJson.Member(usage, "input_tokens")) ?? 0, UntrustedJson.Int32(UntrustedJson.Member(usage, "output_tokens")) ?? 0),
                    "[DONE]",
                ];
            case "response.failed":
                throw new InvalidDataException($"the response failed: {UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(UntrustedJson.Member(e, "response"), "error"), "message")) ?? "no reason given"}");
            case "error":
                throw new InvalidDataException($"the upstream reported an error: {UntrustedJson.Text(UntrustedJson.Member(e, "message")) ?? "no message"}");
            default:
                return [];
        }
    }

    /// <summary>A text or refusal delta before the response's end, read in one pass: what <see cref="Translate"/> reads of it.</summary>
    public bool TryReadText(ReadOnlySpan<byte> data, AnswerText text) => !_finished && EventScanner.TryReadResponsesText(data, text);

    private static int OutputIndex(JsonObject e) => UntrustedJson.Int32(UntrustedJson.Member(e, "output_index")) ?? throw new InvalidDataException("an event without its output_index");

    private string Chunk(JsonObject delta) => ChatChunks.Chunk(_id, _model, delta, null).ToJsonString();
}
