using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

/// <summary>A hit inside a request body: the JSON path of the text field and the hit within it.</summary>
public readonly record struct FieldHit
{
    private readonly FieldPlace place;

    internal FieldHit(FieldPlace place, BoundaryHit hit)
    {
        this.place = place;
        Hit = hit;
    }

    /// <summary>
    /// The field's path, spelled as in JavaScript: <c>messages[0].content[1].text</c>; for a property name that held a
    /// hit, the name as it is sent on, then <c> (name)</c>. A text's path is spelled when read, from the body the scrub
    /// walked: every request with a hit has one and nearly none is ever read. It is the path the walk saw as long as the
    /// body keeps its shape (read it before inserting or removing members in front of the field).
    /// </summary>
    public string Path => place.Spell();

    public BoundaryHit Hit { get; }

    /// <summary>Two hits are equal when they have the same path and the same hit, wherever their paths are read from.</summary>
    public bool Equals(FieldHit other) => Hit == other.Hit && Path == other.Path;

    public override int GetHashCode() => HashCode.Combine(Path, Hit);
}

/// <summary>
/// Where a field is in the body a scrub walked, without a string: the object or array that holds it, its key or index
/// there, and how deep it is. The path is spelled from these on demand (<see cref="Spell"/>), by climbing the parents.
/// A place can also hold a path already spelled (a property name's, or the walk without shortcuts', which tests compare),
/// or, for a body scanned as parsed elements, which have no parents, the body and where the field's token starts in it.
/// </summary>
internal readonly struct FieldPlace
{
    /// <summary>The parsed body holding the field, when the place is <see cref="index"/> bytes into it (<see cref="At"/>).</summary>
    private readonly JsonElement body;

    /// <summary>The object or array holding the field; null when <see cref="key"/> is the path already spelled.</summary>
    private readonly JsonNode? container;

    /// <summary>The field's key in <see cref="container"/> (null in an array); the path itself when there is no container.</summary>
    private readonly string? key;

    /// <summary>The field's index in <see cref="container"/> when it is an array.</summary>
    private readonly int index;

    /// <summary>How many steps the path has, the field's own included: <see cref="container"/> is that many less one below the body.</summary>
    private readonly int depth;

    private FieldPlace(JsonNode? container, string? key, int index, int depth, JsonElement body = default)
    {
        this.body = body;
        this.container = container;
        this.key = key;
        this.index = index;
        this.depth = depth;
    }

    /// <summary>A place whose path is already spelled.</summary>
    public static FieldPlace Spelled(string path) => new(null, path, 0, 0);

    /// <summary>The field <paramref name="key"/> (or, when null, item <paramref name="index"/>) of <paramref name="container"/>, <paramref name="depth"/> steps below the body.</summary>
    public static FieldPlace In(JsonNode container, string? key, int index, int depth) => new(container, key, index, depth);

    /// <summary>The string whose token starts <paramref name="at"/> bytes into <paramref name="body"/>'s UTF-8.</summary>
    public static FieldPlace At(JsonElement body, int at) => new(null, null, at, 0, body);

    /// <summary>The path, spelled as the walk spells it (see <see cref="FieldHit.Path"/>).</summary>
    public string Spell()
    {
        if (container is null)
        {
            return key ?? (body.ValueKind == JsonValueKind.Undefined ? "" : SpellAt(body, index));
        }
        // The steps from the field up to the body, then written from the body down.
        var steps = new (string? Key, int Index)[depth];
        steps[depth - 1] = (key, index);
        var node = container;
        for (var i = depth - 2; i >= 0; i--)
        {
            var parent = node.Parent;
            steps[i] = parent switch
            {
                JsonArray => (null, node.GetElementIndex()),
                JsonObject => (node.GetPropertyName(), -1),
                _ => ("", -1), // the body lost this branch since the walk: no path to climb
            };
            node = parent ?? node;
        }
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[128]);
        for (var i = 0; i < steps.Length; i++)
        {
            Append(ref text, steps[i].Key, steps[i].Index, first: i == 0);
        }
        return text.ToStringAndClear();
    }

    /// <summary>
    /// The path of the string whose token starts <paramref name="at"/> bytes into <paramref name="body"/>: from the body
    /// down, through the member or item whose UTF-8 holds that byte (a hit's path is rarely read: it is found, not kept).
    /// </summary>
    private static string SpellAt(JsonElement body, int at)
    {
        var utf8 = JsonMarshal.GetRawUtf8Value(body);
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[128]);
        var node = body;
        for (var first = true; node.ValueKind is JsonValueKind.Object or JsonValueKind.Array; first = false)
        {
            var found = false;
            if (node.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in node.EnumerateObject())
                {
                    if (Holds(utf8, property.Value, at))
                    {
                        Append(ref text, property.Name, -1, first);
                        (node, found) = (property.Value, true);
                        break;
                    }
                }
            }
            else
            {
                var i = 0;
                foreach (var item in node.EnumerateArray())
                {
                    if (Holds(utf8, item, at))
                    {
                        Append(ref text, null, i, first);
                        (node, found) = (item, true);
                        break;
                    }
                    i++;
                }
            }
            if (!found)
            {
                break;
            }
        }
        return text.ToStringAndClear();
    }

    /// <summary>Whether <paramref name="element"/>'s UTF-8 in <paramref name="utf8"/> (the body's) holds the byte <paramref name="at"/>.</summary>
    private static bool Holds(ReadOnlySpan<byte> utf8, JsonElement element, int at)
    {
        var raw = JsonMarshal.GetRawUtf8Value(element);
        utf8.Overlaps(raw, out var start);
        return start <= at && at < start + raw.Length;
    }

    /// <summary>One step of a path: <c>.key</c> (no dot first), or <c>[index]</c>.</summary>
    internal static void Append(ref DefaultInterpolatedStringHandler text, string? key, int index, bool first)
    {
        if (key is null)
        {
            text.AppendLiteral("[");
            text.AppendFormatted(index);
            text.AppendLiteral("]");
            return;
        }
        if (!first)
        {
            text.AppendLiteral(".");
        }
        text.AppendFormatted(key);
    }
}
