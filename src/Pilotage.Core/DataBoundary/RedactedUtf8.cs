using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Pilotage.Core.DataBoundary;

/// <summary>How a scrub puts a redacted text back into the body it scrubs.</summary>
public enum RedactedValues
{
    /// <summary>As a string node, which <c>GetValue&lt;string&gt;</c> reads.</summary>
    Strings,

    /// <summary>
    /// A long message text (<see cref="RedactedUtf8.Keys"/>, at least <see cref="RedactedUtf8.MinimumBytes"/> bytes) read
    /// from the request's own UTF-8 goes back as a node that, when the body is serialised, writes the request's escaped
    /// UTF-8 with the placeholders in place of the hits: nothing of the message's size is built (a string of it costs two
    /// bytes a character, then its transcoding when written). Such a node is written, not read: <c>GetValue&lt;string&gt;</c>
    /// fails on it. For a body that is only serialised after the scrub, as the gateway's is; any other text is a string.
    /// </summary>
    Utf8,
}

/// <summary>Writes a scrubbed body (see <see cref="RedactedValues.Utf8"/>).</summary>
public static class ScrubbedBody
{
    /// <summary>Options whose resolver knows a node and a redacted message's node: nothing else is looked up.</summary>
    private static readonly JsonSerializerOptions Options = new() { TypeInfoResolver = new Resolver() };

    private static readonly JsonTypeInfo<JsonNode> NodeInfo = (JsonTypeInfo<JsonNode>)Options.GetTypeInfo(typeof(JsonNode));

    /// <summary>
    /// A redacted message's metadata in the options the body is written with: a node made with it is written by it as it
    /// is, where metadata of other options would be looked up again in these for every redacted message written.
    /// </summary>
    internal static readonly JsonTypeInfo<RedactedUtf8> RedactedInfo = (JsonTypeInfo<RedactedUtf8>)Options.GetTypeInfo(typeof(RedactedUtf8));

    /// <summary>
    /// <paramref name="body"/> as UTF-8 JSON, byte for byte as <c>JsonSerializer.SerializeToUtf8Bytes</c> writes it with
    /// default options (and with the serializer's pooled buffer and cached writer). A redacted message's node is looked
    /// up in the options a node is written with: these know it, where a source-generated context would refuse it.
    /// </summary>
    public static byte[] ToUtf8Bytes(JsonNode body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return JsonSerializer.SerializeToUtf8Bytes(body, NodeInfo);
    }

    private sealed class Resolver : IJsonTypeInfoResolver
    {
        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options) =>
            type == typeof(JsonNode) ? JsonMetadataServices.CreateValueInfo<JsonNode>(options, JsonMetadataServices.JsonNodeConverter)
            : type == typeof(RedactedUtf8) ? JsonMetadataServices.CreateValueInfo<RedactedUtf8>(options, new RedactedUtf8.Converter())
            : null;
    }
}

/// <summary>
/// A redacted text as the request's own escaped UTF-8 between the redacted spans (see <see cref="RedactedValues.Utf8"/>).
/// Cuts fall on character boundaries of the JSON text (never inside an escape or a UTF-8 sequence), and what lies
/// between them was validated when the request was parsed; the placeholders are ASCII. So the bytes written are a
/// valid JSON string, spelling exactly the redacted text.
/// </summary>
/// <remarks>
/// Serialised with options of their own, the node is looked up in them: the attribute names its converter to a
/// reflection-based resolver; a source-generated context that does not list the type refuses to write it (loudly, never
/// as an empty object). Write scrubbed bodies with <see cref="ScrubbedBody.ToUtf8Bytes"/>, whose options know it.
/// A struct, held inside its node: a redacted message costs the node and one array, no object besides.
/// </remarks>
[JsonConverter(typeof(Converter))]
internal readonly struct RedactedUtf8
{
    /// <summary>Keys whose values are the long texts of a conversation; short ones and other keys stay strings.</summary>
    public static bool Keys(string? key) => key is "content" or "text";

    /// <summary>Below this many bytes a string costs little, and saves the node's own few dozen bytes.</summary>
    public const int MinimumBytes = 256;

    private static readonly SearchValues<byte> EscapeOrNonAscii = SearchValues.Create([(byte)'\\', .. Enumerable.Range(0x80, 0x80).Select(b => (byte)b)]);

    /// <summary>The string token in the request's document (quotes included), which this keeps alive.</summary>
    private readonly JsonElement source;

    /// <summary>
    /// With more than one hit: per hit, its start and end in the token's bytes; then, from twice the hits on, each hit's
    /// detector. Null with one hit (a message with one address, the usual case), which is held in the fields below
    /// instead: no array besides the node.
    /// </summary>
    private readonly int[]? cuts;

    /// <summary>The one hit's start, end and detector when <see cref="cuts"/> is null.</summary>
    private readonly int start, end, detector;

    /// <summary>Whose placeholders are written in place of the hits.</summary>
    private readonly DataBoundaryPolicy policy;

    private readonly int length;

    private RedactedUtf8(JsonElement source, int[]? cuts, (int Start, int End, int Detector) one, DataBoundaryPolicy policy, int length)
    {
        this.source = source;
        this.cuts = cuts;
        (start, end, detector) = one;
        this.policy = policy;
        this.length = length;
    }

    private int Hits => cuts is null ? 1 : cuts.Length / 3;

    /// <summary>Hit <paramref name="i"/>'s start and end in the token's bytes, and its detector.</summary>
    private (int Start, int End, int Detector) Hit(int i) =>
        cuts is null ? (start, end, detector) : (cuts[2 * i], cuts[2 * i + 1], cuts[2 * Hits + i]);

    /// <summary>
    /// The node for <paramref name="raw"/> (the token of <paramref name="source"/>) with the <paramref name="kept"/> findings
    /// (in UTF-16 offsets of its unescaped text) replaced by their placeholders; null when a finding's end falls inside a
    /// character that UTF-16 spells with two units (a surrogate pair), where no byte offset exists: the caller builds a string.
    /// </summary>
    /// <param name="textLength">The length of the text <paramref name="raw"/> spells, in UTF-16 units.</param>
    public static JsonValue? Create(JsonElement source, ReadOnlySpan<byte> raw, int textLength, List<Finding> kept, DataBoundaryPolicy policy)
    {
        // With several hits one array: the cuts, then the detectors (the placeholders are the policy's own, looked up when
        // written). With one, its three numbers in the node itself.
        var many = kept.Count == 1 ? null : new int[kept.Count * 3];
        Span<int> cuts = many is null ? stackalloc int[3] : many;
        if (textLength == raw.Length - 2)
        {
            // As many units as bytes: each unit is one byte (an escape or a character outside ASCII takes two bytes or more
            // for one unit, four for two), so the text is plain ASCII and a unit's offset is its byte's, past the quote.
            for (var i = 0; i < kept.Count; i++)
            {
                cuts[2 * i] = kept[i].Start + 1;
                cuts[2 * i + 1] = kept[i].End + 1;
            }
        }
        else if (!Map(raw, kept, cuts[..(kept.Count * 2)]))
        {
            return null;
        }
        var length = raw.Length;
        for (var i = 0; i < kept.Count; i++)
        {
            var detector = kept[i].Detector;
            cuts[2 * kept.Count + i] = detector;
            length += policy.PlaceholderUtf8(detector).Length - (cuts[2 * i + 1] - cuts[2 * i]);
        }
        var node = kept.Count == 1
            ? new RedactedUtf8(source, null, (cuts[0], cuts[1], cuts[2]), policy, length)
            : new RedactedUtf8(source, many, default, policy, length);
        return JsonValue.Create(node, ScrubbedBody.RedactedInfo);
    }

    /// <summary>
    /// Byte offsets in <paramref name="raw"/> (quotes included) of each finding's start and end, in one walk: plain ASCII
    /// is one byte a unit and is skipped in blocks; an escape (<c>\n</c>, <c>\u0040</c>) is one unit, each half of an
    /// escaped surrogate pair one; a UTF-8 sequence one unit, or two for four bytes. False when an offset falls between
    /// the two units of a four-byte sequence.
    /// </summary>
    internal static bool Map(ReadOnlySpan<byte> raw, List<Finding> kept, Span<int> cuts)
    {
        var inner = raw[1..^1];
        // Where the next escape or non-ASCII byte is, searched once and kept: in a plain text every cut is found in the one
        // search, not in one search to the text's end per cut.
        int at = 0, unit = 0, special = -1;
        for (var c = 0; c < cuts.Length; c++)
        {
            var f = kept[c / 2];
            var target = c % 2 == 0 ? f.Start : f.End;
            while (unit < target)
            {
                if (special < at)
                {
                    var next = inner[at..].IndexOfAny(EscapeOrNonAscii);
                    special = next < 0 ? inner.Length : at + next;
                }
                var plain = special - at;
                if (target - unit <= plain)
                {
                    at += target - unit;
                    unit = target;
                    break;
                }
                at += plain;
                unit += plain;
                var b = inner[at];
                if (b == (byte)'\\')
                {
                    at += inner[at + 1] == (byte)'u' ? 6 : 2;
                    unit++;
                }
                else
                {
                    var (bytes, units) = b >= 0xF0 ? (4, 2) : b >= 0xE0 ? (3, 1) : (2, 1);
                    at += bytes;
                    unit += units;
                }
            }
            // Inside a four-byte sequence, or between the two escaped halves of a pair: no cut there keeps the text valid.
            if (unit != target || IsLowSurrogateEscape(inner[at..]))
            {
                return false;
            }
            cuts[c] = at + 1;
        }
        return true;
    }

    private static bool IsLowSurrogateEscape(ReadOnlySpan<byte> at) =>
        at.Length >= 6 && at[0] == (byte)'\\' && at[1] == (byte)'u' && at[2] is (byte)'d' or (byte)'D'
            && at[3] is (byte)'c' or (byte)'C' or (byte)'d' or (byte)'D' or (byte)'e' or (byte)'E' or (byte)'f' or (byte)'F';

    /// <summary>The JSON string, quotes included.</summary>
    internal void CopyTo(Span<byte> into)
    {
        var raw = JsonMarshal.GetRawUtf8Value(source);
        var from = 0;
        var hits = Hits;
        for (var i = 0; i < hits; i++)
        {
            var (start, end, detector) = Hit(i);
            var segment = raw[from..start];
            segment.CopyTo(into);
            into = into[segment.Length..];
            var placeholder = policy.PlaceholderUtf8(detector);
            placeholder.CopyTo(into);
            into = into[placeholder.Length..];
            from = end;
        }
        raw[from..].CopyTo(into);
    }

    internal int Length => length;

    /// <summary>Written as the valid JSON string it is, with no second validation: see <see cref="RedactedUtf8"/>.</summary>
    internal void WriteTo(Utf8JsonWriter writer)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            CopyTo(buffer);
            writer.WriteRawValue(buffer.AsSpan(0, length), skipInputValidation: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The serializer's way to <see cref="WriteTo"/>.</summary>
    internal sealed class Converter : JsonConverter<RedactedUtf8>
    {
        public override RedactedUtf8 Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("a redacted text is written, not read");

        public override void Write(Utf8JsonWriter writer, RedactedUtf8 value, JsonSerializerOptions options) => value.WriteTo(writer);
    }
}
