using System.Text.Json;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Reads an OpenAI chat or embeddings response in one forward pass: checks that it is one JSON object
/// and takes <c>usage.prompt_tokens</c> and <c>usage.completion_tokens</c>, without building a tree.
/// </summary>
internal static class CompletionScanner
{
    public static bool TryScan(ReadOnlySpan<byte> json, out int promptTokens, out int completionTokens)
    {
        promptTokens = 0;
        completionTokens = 0;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
            var inUsage = false;
            var usageDepth = -1;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when reader.CurrentDepth == 1 && NameIs(ref reader, "usage"u8):
                        if (!reader.Read()) return false;
                        if (reader.TokenType == JsonTokenType.StartObject)
                        {
                            inUsage = true;
                            usageDepth = reader.CurrentDepth;
                        }
                        else
                        {
                            reader.Skip();
                        }
                        break;
                    case JsonTokenType.PropertyName when inUsage && reader.CurrentDepth == usageDepth + 1:
                        var isPrompt = NameIs(ref reader, "prompt_tokens"u8);
                        var isCompletion = !isPrompt && NameIs(ref reader, "completion_tokens"u8);
                        if (!reader.Read()) return false;
                        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value))
                        {
                            if (isPrompt) promptTokens = value;
                            else if (isCompletion) completionTokens = value;
                        }
                        else
                        {
                            reader.Skip();
                        }
                        break;
                    case JsonTokenType.EndObject when inUsage && reader.CurrentDepth == usageDepth:
                        inUsage = false;
                        break;
                }
            }
            // A complete document ends exactly where the input ends; anything else is truncated or trailing garbage.
            return reader.BytesConsumed == json.Length || json[(int)reader.BytesConsumed..].Trim(" \t\r\n"u8).IsEmpty;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Whether the property name is <paramref name="name"/>. A name holding an escape of half a surrogate pair
    /// (<c>"\ud800"</c>) spells no text, so it is no name the scanner looks for; the answer is passed on as it came.</summary>
    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        try
        {
            return reader.ValueTextEquals(name);
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
