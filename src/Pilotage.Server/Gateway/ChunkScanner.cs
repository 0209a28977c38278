using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Reads one streamed chat-completion chunk in a forward pass over its bytes, without building its JSON tree: the
/// token counts of its <c>usage</c>, the <c>delta.content</c> text of its choices, and whether it is the usage chunk
/// alone. What it reads is what the relay reads from the tree (<c>StreamRelay.ReadChunk</c>); parsing a tree for
/// every chunk of every stream was most of the gateway's CPU and allocations per chunk relayed.
/// </summary>
/// <remarks>
/// It declines (false, nothing appended) whatever it would not read exactly as the tree does, and the relay then reads
/// the chunk as a tree, which reads or refuses it as it always did: JSON that is not valid or not an object, a key
/// written with escapes or given twice in an object the tree would index, text with an escape of half a surrogate
/// pair, an object with more keys than it compares.
/// </remarks>
internal static class ChunkScanner
{
    /// <summary>Keys compared for duplicates in one object; a chunk with more declines.</summary>
    private const int MaxKeys = 32;

    private static readonly JsonReaderOptions Options = new() { MaxDepth = 64 };

    /// <summary>What a chunk said: its token counts (null when absent or not a whole number) and whether it is
    /// the usage chunk alone (an empty <c>choices</c> list and a <c>usage</c> object).</summary>
    public readonly record struct Reading(int? PromptTokens, int? CompletionTokens, bool UsageOnly);

    /// <summary>Reads <paramref name="json"/> (valid UTF-8) and appends its choices' text to <paramref name="text"/>; false when it declines.</summary>
    public static bool TryRead(ReadOnlySpan<byte> json, AnswerText text, out Reading reading)
    {
        reading = default;
        var before = text.Length;
        var reader = new Utf8JsonReader(json, Options);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            Span<Range> keys = stackalloc Range[MaxKeys];
            var count = 0;
            int? prompt = null, completion = null;
            bool usage = false, choices = false, noChoices = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!NewKey(ref reader, json, keys, ref count)) return Declined(text, before);
                var isUsage = reader.ValueTextEquals("usage"u8);
                var isChoices = !isUsage && reader.ValueTextEquals("choices"u8);
                reader.Read();
                if (isUsage && reader.TokenType == JsonTokenType.StartObject)
                {
                    usage = true;
                    if (!ReadUsage(ref reader, json, ref prompt, ref completion)) return Declined(text, before);
                }
                else if (isChoices && reader.TokenType == JsonTokenType.StartArray)
                {
                    choices = true;
                    if (!ReadChoices(ref reader, json, text, out noChoices)) return Declined(text, before);
                }
                else
                {
                    reader.Skip();
                }
            }
            // One object and nothing after it (whitespace aside): the reader throws on anything else.
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read()) return Declined(text, before);
            reading = new Reading(usage ? prompt : null, usage ? completion : null, choices && noChoices && usage);
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Declined(text, before);
        }
    }

    /// <summary>
    /// The same reading from the chunk's tree, for a chunk the scanner declined or one the gateway must read as a
    /// tree anyway (an answer boundary rewrites it, read-only mode looks for calls in it). Throws
    /// <see cref="InvalidDataException"/> for what it cannot read (see <see cref="UntrustedJson.Member"/>).
    /// </summary>
    /// <param name="text">Where the choices' text goes; null: only the counts are read.</param>
    public static Reading Read(JsonObject chunk, AnswerText? text)
    {
        var counts = UntrustedJson.Member(chunk, "usage") as JsonObject;
        var prompt = counts is null ? null : UntrustedJson.Int32(UntrustedJson.Member(counts, "prompt_tokens"));
        var completion = counts is null ? null : UntrustedJson.Int32(UntrustedJson.Member(counts, "completion_tokens"));
        var choices = UntrustedJson.Member(chunk, "choices") as JsonArray;
        if (text is not null)
        {
            foreach (var choice in choices ?? [])
            {
                text.Append(UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(choice, "delta"), "content")));
            }
        }
        return new Reading(prompt, completion, choices is { Count: 0 } && counts is not null);
    }

    /// <summary>
    /// Whether a chunk might call a function, for read-only mode: true when its bytes hold <c>tool_calls</c>,
    /// <c>function_call</c> or <c>message</c> anywhere, in a key or in text alike. Where none of them is there and
    /// <see cref="TryRead"/> reads the chunk (it declines a key written with escapes in the chunk, in its choices and in
    /// their deltas, where a call is looked for), the tree's look for a side-effecting call
    /// (<c>SystemConfiguration.BlockedToolCall</c>) finds none; a chunk that holds one of them is read as a tree.
    /// </summary>
    public static bool MayCallTool(ReadOnlySpan<byte> json) =>
        json.IndexOf("tool_calls"u8) >= 0 || json.IndexOf("function_call"u8) >= 0 || json.IndexOf("message"u8) >= 0;

    private static bool Declined(AnswerText text, int before)
    {
        text.Length = before;
        return false;
    }

    /// <summary>Whether the property name at the reader is a plain one (no escapes) not seen before in this object.</summary>
    internal static bool NewKey(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, scoped Span<Range> keys, ref int count)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || count == keys.Length) return false;
        var name = reader.ValueSpan;
        for (var i = 0; i < count; i++)
        {
            if (json[keys[i]].SequenceEqual(name)) return false;
        }
        // A property name's bytes start just after its opening quote.
        var start = (int)reader.TokenStartIndex + 1;
        keys[count++] = new Range(start, start + name.Length);
        return true;
    }

    private static bool ReadUsage(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ref int? prompt, ref int? completion)
    {
        Span<Range> keys = stackalloc Range[MaxKeys];
        var count = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NewKey(ref reader, json, keys, ref count)) return false;
            var isPrompt = reader.ValueTextEquals("prompt_tokens"u8);
            var isCompletion = !isPrompt && reader.ValueTextEquals("completion_tokens"u8);
            reader.Read();
            int? number = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value) ? value : null;
            if (isPrompt) prompt = number;
            else if (isCompletion) completion = number;
            reader.Skip(); // an object or a list as the value: skipped whole (a number or text: nothing to skip)
        }
        return true;
    }

    private static bool ReadChoices(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, AnswerText text, out bool empty)
    {
        empty = true;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            empty = false;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }
            // A choice: the tree indexes its keys to find "delta", and the delta's to find "content".
            if (!ReadObject(ref reader, json, "delta"u8, text, depth: 0)) return false;
        }
        return true;
    }

    /// <summary>An object whose keys the tree indexes: <paramref name="wanted"/> is read (the choice's <c>delta</c>,
    /// then the delta's <c>content</c>), every other member skipped.</summary>
    private static bool ReadObject(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, ReadOnlySpan<byte> wanted, AnswerText text, int depth)
    {
        Span<Range> keys = stackalloc Range[MaxKeys];
        var count = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (!NewKey(ref reader, json, keys, ref count)) return false;
            var isWanted = reader.ValueTextEquals(wanted);
            reader.Read();
            if (isWanted && depth == 0 && reader.TokenType == JsonTokenType.StartObject)
            {
                if (!ReadObject(ref reader, json, "content"u8, text, depth: 1)) return false;
            }
            else if (isWanted && depth == 1 && reader.TokenType == JsonTokenType.String)
            {
                if (!AppendText(ref reader, text)) return false;
            }
            else
            {
                reader.Skip();
            }
        }
        return true;
    }

    /// <summary>Appends a string's text, decoded without an intermediate string; false for an escape of half a surrogate
    /// pair, which the tree keeps as written.</summary>
    internal static bool AppendText(ref Utf8JsonReader reader, AnswerText text)
    {
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        char[]? rented = null;
        Span<char> chars = length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            var written = reader.CopyString(chars);
            text.Append(chars[..written]);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }
}
