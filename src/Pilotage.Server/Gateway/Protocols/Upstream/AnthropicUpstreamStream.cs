using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Server.Gateway.Pipeline;

namespace Pilotage.Server.Gateway.Protocols.Upstream;

/// <summary>
/// Anthropic's message events as chat-completion chunks: <c>message_start</c> opens (and gives the input tokens),
/// a <c>tool_use</c> block's <c>content_block_start</c> is a tool call's first piece, <c>text_delta</c> content and
/// <c>input_json_delta</c> more arguments, <c>message_delta</c> the finish reason and the usage chunk, and
/// <c>message_stop</c> <c>[DONE]</c>. An <c>error</c> event ends the stream as unreadable; a delta of a block never
/// started is out of order and unreadable too. One instance per stream.
/// </summary>
internal sealed class AnthropicUpstreamStream : IUpstreamStream
{
    private readonly Dictionary<int, int> _toolBlocks = [];
    private readonly HashSet<int> _blocks = [];
    private string _id = "msg";
    private string _model = "";
    private int _inputTokens;
    private bool _started;
    private bool _finished;
    private ArrayBufferWriter<byte>? _chunkBytes; // made at the first text delta written as a chunk, reused for the next ones
    private Utf8JsonWriter? _chunkWriter;

    public IEnumerable<string> Translate(string? eventName, string data)
    {
        if (_finished) return [];
        var e = CommonContent.Object(data, "an event");
        var type = UntrustedJson.Text(UntrustedJson.Member(e, "type")) ?? eventName;
        if (!_started && type is not ("message_start" or "ping" or "error")) throw new InvalidDataException($"a {type} event before message_start");
        switch (type)
        {
            case "message_start":
                if (_started) throw new InvalidDataException("a second message_start");
                _started = true;
                var message = UntrustedJson.Member(e, "message");
                _id = UntrustedJson.Text(UntrustedJson.Member(message, "id")) ?? _id;
                _model = UntrustedJson.Text(UntrustedJson.Member(message, "model")) ?? _model;
                _inputTokens = AnthropicUpstreamAnswer.InputTokens(UntrustedJson.Member(message, "usage"));
                return [Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" })];
            case "content_block_start":
                var index = BlockIndex(e);
                if (!_blocks.Add(index)) throw new InvalidDataException($"content block {index} started twice");
                var block = UntrustedJson.Member(e, "content_block");
                switch (UntrustedJson.Text(UntrustedJson.Member(block, "type")))
                {
                    case "tool_use":
                        var call = _toolBlocks[index] = _toolBlocks.Count;
                        var opened = CommonContent.CallOpened(call, UntrustedJson.Text(UntrustedJson.Member(block, "id")) ?? $"toolu_{call}",
                            UntrustedJson.Text(UntrustedJson.Member(block, "name")) ?? throw new InvalidDataException("a tool_use block without a name"));
                        return [Chunk(new JsonObject { ["tool_calls"] = new JsonArray(opened) })];
                    case "text" when UntrustedJson.Text(UntrustedJson.Member(block, "text")) is { Length: > 0 } first:
                        return [Chunk(new JsonObject { ["content"] = first })];
                    default:
                        return [];
                }
            case "content_block_delta":
                var at = BlockIndex(e);
                if (!_blocks.Contains(at)) throw new InvalidDataException($"a delta of content block {at}, which was never started");
                var delta = UntrustedJson.Member(e, "delta");
                switch (UntrustedJson.Text(UntrustedJson.Member(delta, "type")))
                {
                    case "text_delta":
                        var text = UntrustedJson.Text(UntrustedJson.Member(delta, "text")) ?? throw new InvalidDataException("a text_delta without text");
                        return [Chunk(new JsonObject { ["content"] = text })];
                    case "input_json_delta":
                        if (!_toolBlocks.TryGetValue(at, out var of)) throw new InvalidDataException($"tool input for content block {at}, which is not a tool_use block");
                        var json = UntrustedJson.Text(UntrustedJson.Member(delta, "partial_json")) ?? throw new InvalidDataException("an input_json_delta without partial_json");
                        return [Chunk(new JsonObject { ["tool_calls"] = new JsonArray(CommonContent.CallArguments(of, json)) })];
                    default:
                        return []; // thinking and its signature: not carried
                }
            case "message_delta":
                var finish = AnthropicUpstreamAnswer.Finish(UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(e, "delta"), "stop_reason")));
                var usage = UntrustedJson.Member(e, "usage");
                return
                [
                    ChatChunks.Chunk(_id, _model, [], finish).ToJsonString(),
                    CommonContent.UsageChunk(_id, _model, Math.Max(_inputTokens, AnthropicUpstreamAnswer.InputTokens(usage)), UntrustedJson.Int32(UntrustedJson.Member(usage, "output_tokens")) ?? 0),
                ];
            case "message_stop":
                _finished = true;
                return ["[DONE]"];
            case "error":
                throw new InvalidDataException($"the upstream reported an error: {UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(e, "error"), "message")) ?? "no message"}");
            default:
                return []; // ping, content_block_stop
        }
    }

    /// <summary>A text delta of a block started, a ping, or a block's end, read in one pass: what <see cref="Translate"/> reads of them.</summary>
    public bool TryReadText(ReadOnlySpan<byte> data, AnswerText text) => TryRead(data, text, out _);

    /// <summary>
    /// A text delta as the chunk <see cref="Translate"/> makes of it (<see cref="Chunk"/> of its text), written with the
    /// encoder <see cref="JsonNode.ToJsonString"/> uses, so the bytes are the same; a ping or a block's end makes none.
    /// Translating each delta built two JSON trees and three strings for every event relayed.
    /// </summary>
    public bool TryReadChunk(ReadOnlySpan<byte> data, AnswerText text, out ReadOnlyMemory<byte> chunk)
    {
        chunk = default;
        var before = text.Length;
        if (!TryRead(data, text, out var kind)) return false;
        if (kind != EventScanner.AnthropicEvent.TextDelta) return true;
        var bytes = _chunkBytes ??= new ArrayBufferWriter<byte>(256);
        bytes.ResetWrittenCount();
        var writer = _chunkWriter ??= new Utf8JsonWriter(bytes);
        writer.Reset(bytes);
        writer.WriteStartObject();
        writer.WriteString("id"u8, _id);
        writer.WriteString("object"u8, "chat.completion.chunk"u8);
        writer.WriteNumber("created"u8, ChatChunks.Created);
        writer.WriteString("model"u8, _model);
        writer.WriteStartArray("choices"u8);
        writer.WriteStartObject();
        writer.WriteNumber("index"u8, 0);
        writer.WriteStartObject("delta"u8);
        writer.WriteString("content"u8, text.Since(before));
        writer.WriteEndObject();
        writer.WriteNull("finish_reason"u8);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        chunk = bytes.WrittenMemory;
        return true;
    }

    private bool TryRead(ReadOnlySpan<byte> data, AnswerText text, out EventScanner.AnthropicEvent kind)
    {
        kind = default;
        if (_finished) return false;
        var before = text.Length;
        if (!EventScanner.TryReadAnthropic(data, text, out kind, out var index)) return false;
        var allowed = kind switch
        {
            EventScanner.AnthropicEvent.TextDelta => _started && _blocks.Contains(index),
            EventScanner.AnthropicEvent.BlockStop => _started,
            _ => true, // a ping, allowed even before message_start
        };
        if (!allowed) text.Length = before;
        return allowed;
    }

    private static int BlockIndex(JsonObject e) => UntrustedJson.Int32(UntrustedJson.Member(e, "index")) ?? throw new InvalidDataException("a content block event without its index");

    private string Chunk(JsonObject delta) => ChatChunks.Chunk(_id, _model, delta, null).ToJsonString();
}
