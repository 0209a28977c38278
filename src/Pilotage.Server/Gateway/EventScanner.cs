using System.Text.Json;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Reads the events that make up most of an Anthropic Messages or Responses API stream (a text delta, a ping, the
/// end of a content block) in one forward pass over their bytes, without building their JSON tree: which event it
/// is, the content block it belongs to, and its text. What it reads is what the upstream stream's translation reads
/// from the tree (<c>AnthropicUpstreamStream</c>, <c>ResponsesUpstreamStream</c>), for the events it knows; for
/// every other event, and whatever it would not read exactly as the tree does, it declines (false, nothing
/// appended) and the relay translates the event from its tree as before.
/// </summary>
/// <remarks>
/// Declined, as by <see cref="ChunkScanner"/>: JSON that is not valid or not one object, a key written with escapes
/// or given twice in an object the tree indexes, an object with more keys than it compares, text with an escape of
/// half a surrogate pair, a field of another type than the tree needs. An event whose <c>type</c> is not text is
/// declined too (the tree falls back to the <c>event:</c> line's name).
/// </remarks>
internal static class EventScanner
{
    private const int MaxKeys = 32;

    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };

    /// <summary>The Anthropic events read in one pass.</summary>
    public enum AnthropicEvent
    {
        /// <summary><c>content_block_delta</c> of a <c>text_delta</c>: its text was appended.</summary>
        TextDelta,

        /// <summary><c>content_block_stop</c>: nothing the common model keeps.</summary>
        BlockStop,

        /// <summary><c>ping</c>: nothing the common model keeps.</summary>
        Ping,
    }

    /// <summary>
    /// Reads an Anthropic event; for a text delta, appends its text and gives its content block's
    /// <paramref name="index"/>. False when it declines.
    /// </summary>
    public static bool TryReadAnthropic(ReadOnlySpan<byte> json, AnswerText text, out AnthropicEvent kind, out int index)
    {
        kind = default;
        index = -1;
        var before = text.Length;
        var reader = new Utf8JsonReader(json, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            Span<Range> keys = stackalloc Range[MaxKeys];
            var count = 0;
            AnthropicEvent? type = null;
            var textDelta = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!ChunkScanner.NewKey(ref reader, json, keys, ref count)) return Declined(text, before);
                var isType = reader.ValueTextEquals("type"u8);
                var isIndex = !isType && reader.ValueTextEquals("index"u8);
                var isDelta = !isType && !isIndex && reader.ValueTextEquals("delta"u8);
                reader.Read();
                if (isType)
                {
                    if (reader.TokenType != JsonTokenType.String) return Declined(text, before);
                    type = reader.ValueTextEquals("content_block_delta"u8) ? AnthropicEvent.TextDelta
                        : reader.ValueTextEquals("content_block_stop"u8) ? AnthropicEvent.BlockStop
                        : reader.ValueTextEquals("ping"u8) ? AnthropicEvent.Ping
                        : null;
                    if (type is null) return Declined(text, before);
                }
                else if (isIndex)
                {
                    index = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var number) ? number : -1;
                    reader.Skip();
                }
                else if (isDelta && reader.TokenType == JsonTokenType.StartObject)
                {
                    if (!ReadTextDelta(ref reader, json, text, out textDelta)) return Declined(text, before);
                }
                else
                {
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || type is not { } read) return Declined(text, before);
            // A text delta needs its block's index and its text; the other two read neither, whatever is there.
            if (read == AnthropicEvent.TextDelta && (!textDelta || index < 0)) return Declined(text, before);
            if (read != AnthropicEvent.TextDelta) text.Length = before;
            kind = read;
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Declined(text, before);
        }
    }

    /// <summary>
    /// Reads a Responses API <c>response.output_text.delta</c> or <c>response.refusal.delta</c> event and appends its
    /// text. False when it declines, and for every other event; also for one with a <c>response</c> member, which the
    /// pass-through rewrites (the response's id) and so must read as a tree.
    /// </summary>
    public static bool TryReadResponsesText(ReadOnlySpan<byte> json, AnswerText text)
    {
        var before = text.Length;
        var reader = new Utf8JsonReader(json, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            Span<Range> keys = stackalloc Range[MaxKeys];
            var count = 0;
            bool textEvent = false, delta = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!ChunkScanner.NewKey(ref reader, json, keys, ref count)) return Declined(text, before);
                var isType = reader.ValueTextEquals("type"u8);
                var isDelta = !isType && reader.ValueTextEquals("delta"u8);
                if (!isType && !isDelta && reader.ValueTextEquals("response"u8)) return Declined(text, before);
                reader.Read();
                if (isType)
                {
                    textEvent = reader.TokenType == JsonTokenType.String
                        && (reader.ValueTextEquals("response.output_text.delta"u8) || reader.ValueTextEquals("response.refusal.delta"u8));
                    if (!textEvent) return Declined(text, before);
                }
                else if (isDelta)
                {
                    if (reader.TokenType != JsonTokenType.String || !ChunkScanner.AppendText(ref reader, text)) return Declined(text, before);
                    delta = true;
                }
                else
                {
                    reader.Skip();
                }
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read() || !textEvent || !delta) return Declined(text, before);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Declined(text, before);
        }
    }

    /// <summary>An Anthropic <c>delta</c> object, whose keys the tree indexes: a <c>text_delta</c> with its text is read, anything else is not a text delta.</summary>
    private static bool ReadTextDelta(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, AnswerText text, out bool textDelta)
    {
        textDelta = false;
        Span<Range> keys = stackalloc Range[MaxKeys];
        var count = 0;
        var before = text.Length;
        bool? isTextType = null;
        var hasText = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!ChunkScanner.NewKey(ref reader, json, keys, ref count)) return false;
            var isType = reader.ValueTextEquals("type"u8);
            var isText = !isType && reader.ValueTextEquals("text"u8);
            reader.Read();
            if (isType) isTextType = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("text_delta"u8);
            else if (isText && reader.TokenType == JsonTokenType.String)
            {
                if (!ChunkScanner.AppendText(ref reader, text)) return false;
                hasText = true;
            }
            else reader.Skip();
        }
        textDelta = isTextType == true && hasText;
        if (!textDelta) text.Length = before;
        return true;
    }

    private static bool Declined(AnswerText text, int before)
    {
        text.Length = before;
        return false;
    }
}
