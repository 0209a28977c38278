using System.Text.Json.Nodes;
using System.Text.Json;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Reads fields out of JSON whose shape nobody checked: a model's answer, a stream chunk, a stored record.
/// <see cref="JsonNode"/>'s indexers and <c>GetValue</c> throw <see cref="InvalidOperationException"/> when a
/// node has another type than expected (a <c>choices</c> item that is a number, a token count that is a
/// string) or a string is an escape of half a surrogate pair; read through here, such a field is absent.
/// </summary>
internal static class UntrustedJson
{
    /// <summary>The member <paramref name="name"/> of <paramref name="node"/> when it is an object; null otherwise.</summary>
    /// <exception cref="InvalidDataException">The object has a key that cannot be decoded, or the same key twice:
    /// looking up any key indexes them all, and which value the asked-for key has cannot be known (read-only mode
    /// fails closed on it).</exception>
    public static JsonNode? Member(JsonNode? node, string name)
    {
        if (node is not JsonObject obj) return null;
        try
        {
            return obj[name];
        }
        catch (InvalidOperationException)
        {
            throw new InvalidDataException("an object has a key that is not text (an escape of half a surrogate pair)");
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException("an object has the same key twice");
        }
    }

    /// <summary>The text of a string node; null when the node is not a string.</summary>
    /// <remarks>A lone <c>\ud800</c> escape cannot become a .NET string; its characters are kept as written, so a
    /// reviewer sees what the model sent instead of nothing.</remarks>
    public static string? Text(JsonNode? node)
    {
        if (node is not JsonValue value || value.GetValueKind() != JsonValueKind.String) return null;
        // The raw text is the string as it was sent, escapes and all; writing the node would unescape (and throw).
        return Decoded(value) ?? (value.TryGetValue<JsonElement>(out var element) && element.GetRawText() is { Length: >= 2 } raw ? raw[1..^1] : "\uFFFD");
    }

    /// <summary>A whole number that fits an <see cref="int"/>; null for anything else (a string, a fraction, 1e30).</summary>
    public static int? Int32(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<int>(out var number) ? number : null;

    /// <summary>
    /// The name of a function object: a tool's or tool call's <c>function</c>, a legacy <c>function_call</c>, an
    /// item of the legacy <c>functions</c> list. Null when there is none (a streamed call's later pieces carry only
    /// arguments). A name that is there but is not text (a number, a lone surrogate) cannot be compared with the
    /// side-effecting list, so it throws <see cref="InvalidDataException"/>: read-only mode fails closed on it.
    /// </summary>
    public static string? FunctionName(JsonNode? function) => Member(function, "name") switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String && Decoded(value) is { } name => name,
        _ => throw new InvalidDataException("a function name is not text"),
    };

    /// <summary>A string node's text; null when it is an escape of half a surrogate pair, which no .NET string holds.</summary>
    private static string? Decoded(JsonValue value)
    {
        try
        {
            return value.GetValue<string>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
