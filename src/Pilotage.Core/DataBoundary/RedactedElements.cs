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
        // Looked up by binary search (Find): a walk adds them in the body's order, sorted here should one ever not.
        if (replaced is not null && !InOrder(CollectionsMarshal.AsSpan(replaced)))
        {
            replaced.Sort(static (a, b) => a.At.CompareTo(b.At));
        }
        this.replaced = replaced;
    }

    private static bool InOrder(ReadOnlySpan<(int At, JsonValue Node)> items)
    {
        for (var i = 1; i < items.Length; i++)
        {
            if (items[i - 1].At > items[i].At)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// The index of the first redacted value at or after <paramref name="start"/>. A binary search, not a scan: every element
    /// written asks, and a hostile body may hold a million hits (16 MB of short addresses), which a scan per element
    /// would make quadratic.
    /// </summary>
    private int Find(int start)
    {
        var items = CollectionsMarshal.AsSpan(replaced);
        int low = 0, high = items.Length;
        while (low < high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            if (items[middle].At < start)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }
        return low;
    }

    /// <summary>True when nothing in the body was redacted.</summary>
    public bool IsEmpty => replaced is null;

    /// <summary>Whether the token <paramref name="raw"/> (in <paramref name="utf8"/>, the body's) holds a redacted value's start.</summary>
    private bool Holds(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> raw)
    {
        utf8.Overlaps(raw, out var start);
        var i = Find(start);
        return i < replaced!.Count && replaced[i].At < start + raw.Length;
    }

    /// <summary>
    /// <paramref name="element"/> (a part of the body) as the scrubbed tree writes it: as it is where it holds no redacted
    /// value; otherwise member by member, each redacted string written as its node.
    /// </summary>
    public void WriteTo(JsonElement element, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (replaced is null)
        {
            element.WriteTo(json);
            return;
        }
        Write(element, JsonMarshal.GetRawUtf8Value(element), JsonMarshal.GetRawUtf8Value(body), json);
    }

    /// <summary>A member of the body (its name and value) as the scrubbed tree writes it: see <see cref="WriteTo(JsonElement, Utf8JsonWriter)"/>.</summary>
    public void WriteTo(JsonProperty property, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var raw = replaced is null ? default : JsonMarshal.GetRawUtf8Value(property.Value);
        var utf8 = replaced is null ? default : JsonMarshal.GetRawUtf8Value(body);
        if (replaced is null || !Holds(utf8, raw))
        {
            property.WriteTo(json);
            return;
        }
        WriteName(json, property);
        Write(property.Value, raw, utf8, json);
    }

    /// <summary>The items of <paramref name="array"/> (a part of the body), without its brackets, as the scrubbed tree writes them.</summary>
    public void WriteItems(JsonElement array, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (replaced is null)
        {
            foreach (var item in array.EnumerateArray())
            {
                item.WriteTo(json);
            }
            return;
        }
        var utf8 = JsonMarshal.GetRawUtf8Value(body);
        foreach (var item in array.EnumerateArray())
        {
            Write(item, JsonMarshal.GetRawUtf8Value(item), utf8, json);
        }
    }

    /// <summary>
    /// <paramref name="element"/> (its token <paramref name="raw"/> in <paramref name="utf8"/>, the body's): written as it is
    /// when it holds no redacted value; otherwise member by member, or item by item, down to the redacted strings.
    /// </summary>
    private void Write(JsonElement element, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> utf8, Utf8JsonWriter json)
    {
        if (!Holds(utf8, raw))
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
                    var value = JsonMarshal.GetRawUtf8Value(property.Value);
                    if (Holds(utf8, value))
                    {
                        WriteName(json, property);
                        Write(property.Value, value, utf8, json);
                    }
                    else
                    {
                        property.WriteTo(json);
                    }
                }
                json.WriteEndObject();
                break;
            case JsonValueKind.Array:
                json.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    Write(item, JsonMarshal.GetRawUtf8Value(item), utf8, json);
                }
                json.WriteEndArray();
                break;
            default:
                // A string that holds a redacted position is the redacted one: it starts there.
                utf8.Overlaps(raw, out var start);
                WriteNode(Replacement(start), json);
                break;
        }
    }

    private JsonValue Replacement(int start)
    {
        var i = Find(start);
        if (i < replaced!.Count && replaced[i].At == start)
        {
            return replaced[i].Node;
        }
        throw new InvalidOperationException("a redacted value is not where its string starts");
    }

    /// <summary>
    /// A redacted value's node, written as its converter writes it (the serializer's <c>JsonValue.WriteTo</c> goes through the
    /// type's metadata first, which costs more than the write itself): a string as the writer escapes it, a redacted
    /// message's UTF-8 as it is (see <see cref="RedactedUtf8.Converter"/>); anything else through the node.
    /// </summary>
    private static void WriteNode(JsonValue node, Utf8JsonWriter json)
    {
        if (node.TryGetValue<RedactedUtf8>(out var utf8))
        {
            utf8.WriteTo(json);
        }
        else if (node.TryGetValue<string>(out var text))
        {
            json.WriteStringValue(text);
        }
        else
        {
            node.WriteTo(json);
        }
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
