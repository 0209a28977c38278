using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The values a scrub of a parsed body redacted (<see cref="RequestScrubber.Scrub(JsonElement, DataBoundaryPolicy, BoundaryBudget?, out RedactedElements)"/>),
/// each under where its string token starts in the body: the body is written from its elements with these in place of
/// the values they redact, byte for byte as the scrubbed tree is written by <see cref="ScrubbedBody.ToUtf8Bytes"/> (the
/// same nodes, written by the same converters). Immutable.
/// </summary>
public sealed class RedactedElements
{
    /// <summary>Nothing redacted: every element is written as it is.</summary>
    public static RedactedElements None { get; } = new(default, null);

    /// <summary>The body the positions are in.</summary>
    private readonly JsonElement body;

    /// <summary>Redacted values by position, in the body's order; null when there is none.</summary>
    private readonly List<(int At, JsonValue Node)>? replaced;

    internal RedactedElements(JsonElement body, List<(int At, JsonValue Node)>? replaced)
    {
        this.body = body;
        this.replaced = replaced;
    }

    /// <summary>True when nothing in the body was redacted.</summary>
    public bool IsEmpty => replaced is null;

    /// <summary>True when <paramref name="element"/> (a part of the body) holds a redacted value.</summary>
    public bool Holds(JsonElement element)
    {
        if (replaced is null)
        {
            return false;
        }
        var raw = JsonMarshal.GetRawUtf8Value(element);
        JsonMarshal.GetRawUtf8Value(body).Overlaps(raw, out var start);
        foreach (var (at, _) in replaced)
        {
            if (at >= start && at < start + raw.Length)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// <paramref name="element"/> (a part of the body) as the scrubbed tree writes it: as it is where it holds no redacted
    /// value; otherwise member by member, each redacted string written as its node.
    /// </summary>
    public void WriteTo(JsonElement element, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!Holds(element))
        {
            element.WriteTo(json);
            return;
        }
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                json.WriteStartObject();
                foreach (var property in element.EnumerateObject())
                {
                    WriteName(json, property);
                    WriteTo(property.Value, json);
                }
                json.WriteEndObject();
                break;
            case JsonValueKind.Array:
                json.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteTo(item, json);
                }
                json.WriteEndArray();
                break;
            default:
                // A string that holds a redacted position is the redacted one: it starts there.
                Replacement(element).WriteTo(json);
                break;
        }
    }

    private JsonValue Replacement(JsonElement text)
    {
        JsonMarshal.GetRawUtf8Value(body).Overlaps(JsonMarshal.GetRawUtf8Value(text), out var start);
        foreach (var (at, node) in replaced!)
        {
            if (at == start)
            {
                return node;
            }
        }
        throw new InvalidOperationException("a redacted value is not where its string starts");
    }

    /// <summary>
    /// A member's name as the tree writes it (escaped by the writer from its text): from its UTF-8 as received when that
    /// holds no escape, so that no string is made of it; through its text when it does.
    /// </summary>
    public static void WriteName(Utf8JsonWriter json, JsonProperty property)
    {
        ArgumentNullException.ThrowIfNull(json);
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Contains((byte)'\\'))
        {
            json.WritePropertyName(property.Name);
        }
        else
        {
            json.WritePropertyName(raw);
        }
    }
}
