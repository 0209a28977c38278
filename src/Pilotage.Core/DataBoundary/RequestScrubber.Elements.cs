using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

public static partial class RequestScrubber
{
    /// <summary>
    /// The walk of <see cref="Scrub(JsonObject, DataBoundaryPolicy, BoundaryBudget?)"/> over a parsed body, without its
    /// tree: every string value and property name through the policy with the same rules and shortcuts, the same result
    /// (hits, counts, refusals; tests compare the two on random bodies), and the redacted values in
    /// <paramref name="redacted"/>, to write the body with (<see cref="RedactedElements.WriteTo"/>). Null when a property
    /// name holds a hit: the tree renames keys (with a suffix where renamed ones clash), which this does not, so such a
    /// body is scrubbed as a tree instead (the walk stops at that name).
    /// </summary>
    /// <param name="body">A JSON object parsed without duplicate keys, as the gateway parses a request.</param>
    public static ScrubResult? Scrub(JsonElement body, DataBoundaryPolicy policy, BoundaryBudget? budget, out RedactedElements redacted)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("a request body is a JSON object", nameof(body));
        }
        redacted = RedactedElements.None;
        if (policy.IsEmpty)
        {
            return ScrubResult.Clean;
        }
        var walker = new ElementWalker(new Collector(policy, budget, shortcuts: true, RedactedValues.Utf8), body);
        foreach (var key in TokenInputs)
        {
            FindTokenIds(body, key, ref walker.Collector);
        }
        try
        {
            walker.Object(body, inputAudio: false);
        }
        catch (BoundaryBudgetExceededException e)
        {
            walker.Collector.Exceeded(e.Detector);
        }
        var result = walker.Collector.Result(); // gives its pooled arrays back, whichever walk is kept
        if (walker.NameHit)
        {
            return null;
        }
        redacted = walker.Replaced is null ? RedactedElements.None : new RedactedElements(body, walker.Replaced);
        return result;
    }

    /// <summary>As <see cref="FindTokenIds(JsonNode?, string, ref Collector)"/>, in a parsed body.</summary>
    private static void FindTokenIds(JsonElement body, string key, ref Collector collector)
    {
        if (!body.TryGetProperty(key, out var input))
        {
            return;
        }
        if (input.ValueKind == JsonValueKind.Number)
        {
            collector.Uninspectable(key);
            return;
        }
        if (input.ValueKind != JsonValueKind.Array)
        {
            return;
        }
        var i = 0;
        foreach (var item in input.EnumerateArray())
        {
            if (item.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            {
                collector.Uninspectable(string.Create(CultureInfo.InvariantCulture, $"{key}[{i}]"));
                return;
            }
            i++;
        }
    }

    /// <summary>What the walk needs to know of a value's key, read once from the name (no string made of it).</summary>
    [Flags]
    private enum KeyTraits
    {
        /// <summary>An array item: no key.</summary>
        None = 0,
        Present = 1,
        /// <summary>One of the <see cref="StructuralKeys"/>.</summary>
        Structural = 2,
        /// <summary><c>data</c>: encoded media in some shapes.</summary>
        Data = 4,
        /// <summary>A message text (<see cref="RedactedUtf8.Keys"/>).</summary>
        Message = 8,
    }

    /// <summary>
    /// The tree walk's <see cref="Walker"/> over parsed elements: the same order, the same reading of each string (UTF-8
    /// verdicts, widening with digits marked, the JSON reader), the same <see cref="Collector"/>. A hit is placed by where
    /// its token starts in the body (<see cref="FieldPlace.At"/>), and its redacted node kept under that position.
    /// </summary>
    private ref struct ElementWalker(Collector collector, JsonElement body)
    {
        /// <summary>What the walk found so far: a field, never copied out.</summary>
        public Collector Collector = collector;

        /// <summary>The redacted values, by where their tokens start in the body, in the body's order; null while none is.</summary>
        public List<(int At, JsonValue Node)>? Replaced;

        /// <summary>True when the walk stopped at a property name that holds a hit.</summary>
        public bool NameHit;

        private readonly JsonElement body = body;
        private readonly ReadOnlySpan<byte> utf8 = JsonMarshal.GetRawUtf8Value(body);

        /// <param name="inputAudio">True when <paramref name="node"/> is the value of an <c>input_audio</c> member, whose <c>data</c> is encoded media.</param>
        public void Object(JsonElement node, bool inputAudio)
        {
            foreach (var property in node.EnumerateObject())
            {
                var key = Name(property);
                if (NameHit)
                {
                    return;
                }
                var value = property.Value;
                switch (value.ValueKind)
                {
                    case JsonValueKind.Object:
                        Object(value, property.NameEquals("input_audio"u8));
                        break;
                    case JsonValueKind.Array:
                        Array(value);
                        break;
                    case JsonValueKind.String:
                        Value(value, key, node, inputAudio);
                        break;
                    default:
                        break;
                }
                if (NameHit)
                {
                    return;
                }
            }
        }

        public void Array(JsonElement items)
        {
            foreach (var item in items.EnumerateArray())
            {
                switch (item.ValueKind)
                {
                    case JsonValueKind.Object:
                        Object(item, inputAudio: false);
                        break;
                    case JsonValueKind.Array:
                        Array(item);
                        break;
                    case JsonValueKind.String:
                        Value(item, KeyTraits.None, default, ownerInputAudio: false);
                        break;
                    default:
                        break;
                }
                if (NameHit)
                {
                    return;
                }
            }
        }

        /// <summary>
        /// A property name, scanned as the tree's key is (<see cref="Collector.NameHit"/>), and what its value's walk needs
        /// to know of it. Read from its UTF-8 on the stack; only a name with an escape, or a long one, makes a string.
        /// </summary>
        private KeyTraits Name(JsonProperty property)
        {
            var raw = JsonMarshal.GetRawUtf8PropertyName(property);
            if (raw.Length > StackChars || raw.Contains((byte)'\\'))
            {
                return Name(property.Name);
            }
            // UTF-8 takes a byte or more a UTF-16 unit: the name is no longer than its bytes.
            Span<char> buffer = stackalloc char[raw.Length];
            int length;
            if (IsPlain(raw))
            {
                Ascii.ToUtf16(raw, buffer, out length);
            }
            else
            {
                length = Encoding.UTF8.GetChars(raw, buffer);
            }
            return Name(buffer[..length]);
        }

        private KeyTraits Name(scoped ReadOnlySpan<char> name)
        {
            NameHit = Collector.NameHit(name, out _);
            return KeyTraits.Present
                | (IsStructural(name) ? KeyTraits.Structural : 0)
                | (name is "data" ? KeyTraits.Data : 0)
                | (name is "content" or "text" ? KeyTraits.Message : 0);
        }

        /// <summary>As <see cref="Walker"/>'s reading of a string node read from its element: see there.</summary>
        private void Value(JsonElement value, KeyTraits key, JsonElement owner, bool ownerInputAudio)
        {
            var raw = JsonMarshal.GetRawUtf8Value(value);
            var inner = raw[1..^1];
            var structural = (key & KeyTraits.Structural) != 0 && inner.Length <= StructuralValueLimit;
            if (!structural && inner.Length >= SecretDetector.MinLength)
            {
                Marked(value, key, owner, ownerInputAudio, raw);
                return;
            }
            var plain = IsPlain(inner);
            if (plain && (Collector.NothingToFind(inner) || structural))
            {
                return;
            }
            Span<char> buffer = stackalloc char[inner.Length <= StackChars ? inner.Length : 0];
            var text = plain ? Widen(inner, buffer, out var rented) : Read(raw, buffer, out rented);
            try
            {
                Text(text, key, owner, ownerInputAudio, value, raw);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
            }
        }

        /// <summary>As the tree walk's <c>ScrubMarked</c>: a long value widened and marked in one pass when plain.</summary>
        private void Marked(JsonElement value, KeyTraits key, JsonElement owner, bool ownerInputAudio, scoped ReadOnlySpan<byte> raw)
        {
            var inner = raw[1..^1];
            char[]? rented = null;
            ulong[]? rentedWords = null;
            var words = AsciiDigits.WordsFor(inner.Length);
            Span<char> buffer = inner.Length <= StackChars ? stackalloc char[inner.Length] : (rented = ArrayPool<char>.Shared.Rent(inner.Length));
            Span<ulong> digits = words <= StackChars / 4 ? stackalloc ulong[words] : (rentedWords = ArrayPool<ulong>.Shared.Rent(words)).AsSpan(0, words);
            try
            {
                if (AsciiDigits.TryWidenAndMark(inner, buffer, digits, out var firstAt))
                {
                    var text = buffer[..inner.Length];
                    if ((key & KeyTraits.Present) != 0 && IsEncodedMedia(key, text, owner, ownerInputAudio))
                    {
                        return;
                    }
                    var scan = Collector.Scan(text, digits, firstAt);
                    if (!scan.IsClean)
                    {
                        Hit(scan, text, key, value, raw);
                    }
                    return;
                }
                Text(Read(raw, buffer, out _), key, owner, ownerInputAudio, value, raw);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
                if (rentedWords is not null)
                {
                    ArrayPool<ulong>.Shared.Return(rentedWords);
                }
            }
        }

        private void Text(scoped ReadOnlySpan<char> text, KeyTraits key, JsonElement owner, bool ownerInputAudio, JsonElement value, scoped ReadOnlySpan<byte> raw)
        {
            if ((key & KeyTraits.Present) != 0
                && ((text.Length <= StructuralValueLimit && (key & KeyTraits.Structural) != 0) || IsEncodedMedia(key, text, owner, ownerInputAudio)))
            {
                return;
            }
            var scan = Collector.Scan(text);
            if (!scan.IsClean)
            {
                Hit(scan, text, key, value, raw);
            }
        }

        private void Hit(BoundaryScan scan, scoped ReadOnlySpan<char> text, KeyTraits key, JsonElement value, scoped ReadOnlySpan<byte> raw)
        {
            utf8.Overlaps(raw, out var at);
            if (Collector.Hit(scan, text, FieldPlace.At(body, at), (key & KeyTraits.Message) != 0, value, raw) is { } node)
            {
                (Replaced ??= []).Add((at, node));
            }
        }

        /// <summary>As the tree walk's <c>IsEncodedMedia</c>, for a value of <paramref name="owner"/>.</summary>
        private static bool IsEncodedMedia(KeyTraits key, ReadOnlySpan<char> text, JsonElement owner, bool ownerInputAudio) =>
            (text.StartsWith("data:", StringComparison.Ordinal) && text[..Math.Min(text.Length, 256)].IndexOf(";base64,", StringComparison.Ordinal) > 0)
            || ((key & KeyTraits.Data) != 0
                && ((owner.TryGetProperty("type"u8, out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("base64"u8))
                    || ownerInputAudio));
    }
}
