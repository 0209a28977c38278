using System.Buffers;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The data boundary applied to a whole request body. Holds positions and counts only, never a
/// matched value, so it can be printed and recorded as evidence.
/// </summary>
public sealed class ScrubResult
{
    internal static readonly ScrubResult Clean = new([], [], [], []);

    internal ScrubResult(FieldHit[] hits, string[] blockedBy, DetectorCount[] counts, string[] uninspectable, string? budgetExceededBy = null)
    {
        Hits = hits;
        BlockedBy = blockedBy;
        Counts = counts;
        Uninspectable = uninspectable;
        BudgetExceededBy = budgetExceededBy;
    }

    /// <summary>
    /// The custom detector that was running when the request's <see cref="BoundaryBudget"/> ran out; null when it did
    /// not. The rest of the request was not scanned, so it is refused (and listed in <see cref="BlockedBy"/>).
    /// </summary>
    public string? BudgetExceededBy { get; }

    public IReadOnlyList<FieldHit> Hits { get; }

    /// <summary>Detectors whose hits refuse the request.</summary>
    public IReadOnlyList<string> BlockedBy { get; }

    /// <summary>Hits per detector over every text field, in policy order.</summary>
    public IReadOnlyList<DetectorCount> Counts { get; }

    /// <summary>
    /// Paths of inputs that carry text the boundary cannot read (embeddings given as token ids).
    /// They refuse the request: the boundary fails closed rather than wave through what it cannot check.
    /// </summary>
    public IReadOnlyList<string> Uninspectable { get; }

    public bool Blocked => BlockedBy.Count > 0 || Uninspectable.Count > 0;

    /// <summary>True when some text field was rewritten with placeholders.</summary>
    public bool Redacted => Hits.Count > 0;

    public override string ToString()
    {
        var text = BoundaryResult.Describe(Blocked, Counts);
        if (BudgetExceededBy is not null) text += $" (budget exceeded in '{BudgetExceededBy}')";
        return Uninspectable.Count == 0 ? text : $"{text} (uninspectable: {string.Join(", ", Uninspectable)})";
    }
}

/// <summary>
/// Applies a <see cref="DataBoundaryPolicy"/> to a request body in place, deny by default: every string in
/// the body is scanned, and every property name, wherever it is, except the values of a short list of
/// structural keys (<see cref="StructuralKeys"/>). So every field that can reach the model is covered, in
/// every protocol: chat completions (content as text or parts, <c>name</c>, tool call arguments, tool
/// results, <c>user</c>, <c>metadata</c>), the Responses API (<c>instructions</c>, <c>input</c>), Anthropic
/// Messages (<c>system</c>, content blocks, <c>tool_use</c> input, <c>tool_result</c>), embeddings
/// <c>input</c> and the legacy <c>prompt</c>; a field a new protocol adds is scanned without a change here.
/// </summary>
public static partial class RequestScrubber
{
    /// <summary>
    /// Keys whose string values are identifiers or closed vocabularies, not text: a role, a type, an id. Their
    /// values are left alone when short (at most <see cref="StructuralValueLimit"/> characters); anything longer is
    /// text hiding in a structural field and is scanned like the rest.
    /// </summary>
    public static IReadOnlySet<string> StructuralKeys => Structural;

    private static readonly FrozenSet<string> Structural = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "role", "type", "object", "id", "tool_call_id", "tool_use_id", "call_id", "finish_reason",
        "stop_reason", "encoding_format", "tool_choice", "detail", "media_type", "format", "reasoning_effort",
        "service_tier", "status", "system_fingerprint",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// True when <paramref name="key"/> is one of the <see cref="StructuralKeys"/>. Every property of every request and
    /// answer asks, so it is a switch the compiler turns into a length test and a few character comparisons (a frozen
    /// set's lookup cost as much as the rest of a short request's walk); tests hold it to the set.
    /// </summary>
    internal static bool IsStructural(ReadOnlySpan<char> key) => key switch
    {
        "model" or "role" or "type" or "object" or "id" or "tool_call_id" or "tool_use_id" or "call_id" or "finish_reason"
            or "stop_reason" or "encoding_format" or "tool_choice" or "detail" or "media_type" or "format" or "reasoning_effort"
            or "service_tier" or "status" or "system_fingerprint" => true,
        _ => false,
    };

    /// <summary>Longest value of a structural key left unscanned.</summary>
    public const int StructuralValueLimit = 64;

    /// <summary>Inputs that may be given as token ids, which the boundary cannot read.</summary>
    internal static readonly string[] TokenInputs = ["input", "prompt"];

    /// <summary>The shortest text a built-in detector finds ("a@b.co").</summary>
    internal const int ShortestBuiltInMatch = 6;

    /// <summary>
    /// False for a property name too short for any detector of <paramref name="policy"/> to find anything in. Only an
    /// ASCII name is judged by its length: normalisation can lengthen any other ("a@b.\uFB00", a ligature, reads as the
    /// six characters "a@b.ff").
    /// </summary>
    internal static bool MayHoldHit(ReadOnlySpan<char> name, DataBoundaryPolicy policy) =>
        name.Length >= ShortestBuiltInMatch || policy.HasCustomDetectors || !System.Text.Ascii.IsValid(name);

    /// <summary>Strings up to this many characters are read on the stack; longer ones into a pooled array.</summary>
    internal const int StackChars = 256;

    /// <summary>
    /// The characters of a string node without a string of its own: a parsed request's text is unescaped from the
    /// body's own UTF-8 into <paramref name="buffer"/>, or into a pooled array (<paramref name="rented"/>, to return)
    /// when it is longer; a string set in code (a translated request) is read as it is.
    /// </summary>
    /// <exception cref="InvalidOperationException">the text holds invalid UTF-8 or a lone surrogate escape, as <c>GetValue&lt;string&gt;</c> would say.</exception>
    internal static ReadOnlySpan<char> Read(JsonValue value, Span<char> buffer, out char[]? rented)
    {
        rented = null;
        if (!value.TryGetValue<JsonElement>(out var element))
        {
            return value.GetValue<string>();
        }
        return Read(JsonMarshal.GetRawUtf8Value(element), buffer, out rented);
    }

    /// <summary>As <see cref="Read(JsonValue, Span{char}, out char[])"/>, from a string token's raw UTF-8 (quotes included).</summary>
    private static ReadOnlySpan<char> Read(ReadOnlySpan<byte> raw, Span<char> buffer, out char[]? rented)
    {
        rented = null;
        var reader = new Utf8JsonReader(raw);
        reader.Read();
        // Each character takes at least one byte, and an escape more: the escaped length bounds the text's.
        if (reader.ValueSpan.Length > buffer.Length)
        {
            buffer = rented = ArrayPool<char>.Shared.Rent(reader.ValueSpan.Length);
        }
        return buffer[..reader.CopyString(buffer)];
    }

    /// <summary>
    /// The text of a string token whose UTF-8 (<paramref name="ascii"/>, quotes excluded) is plain ASCII with no escape:
    /// each byte is its character, so it is widened as it is, with no JSON reader and no UTF-8 decoding (what
    /// <see cref="Read(ReadOnlySpan{byte}, Span{char}, out char[])"/> would read; tests compare the two).
    /// </summary>
    internal static ReadOnlySpan<char> Widen(ReadOnlySpan<byte> ascii, Span<char> buffer, out char[]? rented)
    {
        rented = null;
        if (ascii.Length > buffer.Length)
        {
            buffer = rented = ArrayPool<char>.Shared.Rent(ascii.Length);
        }
        System.Text.Ascii.ToUtf16(ascii, buffer, out var written);
        return buffer[..written];
    }

    /// <summary>Every ASCII byte but the backslash: UTF-8 made only of these is its own text, one character a byte.</summary>
    private static readonly SearchValues<byte> PlainBytes = SearchValues.Create([.. Enumerable.Range(0, 128).Where(b => b != '\\').Select(b => (byte)b)]);

    /// <summary>True when <paramref name="utf8"/> (a JSON string's content) is plain ASCII with no escape, in one search.</summary>
    internal static bool IsPlain(ReadOnlySpan<byte> utf8) => !utf8.ContainsAnyExcept(PlainBytes);

    /// <summary>True when <paramref name="value"/> is the string <paramref name="expected"/>, read without a string.</summary>
    private static bool Is(JsonValue value, string expected) =>
        value.TryGetValue<JsonElement>(out var element) ? element.ValueEquals(expected) : value.GetValue<string>() == expected;

    /// <summary>
    /// The one walk: every string and property name of <paramref name="body"/> through the policy, hits replaced
    /// in place. Token-id inputs (<c>input</c> or <c>prompt</c> as numbers) are reported in
    /// <see cref="ScrubResult.Uninspectable"/>; the custom patterns run within <paramref name="budget"/>.
    /// </summary>
    public static ScrubResult Scrub(JsonObject body, DataBoundaryPolicy policy, BoundaryBudget? budget = null) =>
        Scrub(body, policy, budget, shortcuts: true);

    /// <summary>As <see cref="Scrub(JsonObject, DataBoundaryPolicy, BoundaryBudget?)"/>, redacted texts put back as <paramref name="redacted"/> says.</summary>
    public static ScrubResult Scrub(JsonObject body, DataBoundaryPolicy policy, BoundaryBudget? budget, RedactedValues redacted) =>
        Scrub(body, policy, budget, shortcuts: true, redacted);

    /// <summary>
    /// The walk with none of its shortcuts (<paramref name="shortcuts"/> false): every string read and scanned with the
    /// scan's own shortcuts off (<see cref="DataBoundaryPolicy.ScanWithoutShortcuts"/>). What <see cref="Scrub(JsonObject, DataBoundaryPolicy, BoundaryBudget?)"/>
    /// must equal: tests compare the two.
    /// </summary>
    internal static ScrubResult Scrub(JsonObject body, DataBoundaryPolicy policy, BoundaryBudget? budget, bool shortcuts, RedactedValues redacted = RedactedValues.Strings)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.IsEmpty)
        {
            return ScrubResult.Clean;
        }
        // The walker and its collector are structs on this stack, the collector inside the walker, each used through its own
        // methods (which share it by reference, never by a copy): a scrub allocates no object for them.
        var walker = new Walker(new Collector(policy, budget, shortcuts, redacted), shortcuts);
        foreach (var key in TokenInputs)
        {
            FindTokenIds(body[key], key, ref walker.Collector);
        }
        try
        {
            walker.Object(body);
        }
        catch (BoundaryBudgetExceededException e)
        {
            walker.Collector.Exceeded(e.Detector);
        }
        finally
        {
            walker.Dispose();
        }
        return walker.Collector.Result();
    }

    /// <summary>Chat completions: the one walk (<see cref="Scrub"/>); kept for callers that hold a <see cref="JsonNode"/>.</summary>
    public static ScrubResult ScrubChatCompletion(JsonNode? request, DataBoundaryPolicy policy) => ScrubChatCompletion(request, policy, null);

    /// <summary>As <see cref="ScrubChatCompletion(JsonNode?, DataBoundaryPolicy)"/>, with the custom patterns within <paramref name="budget"/>.</summary>
    public static ScrubResult ScrubChatCompletion(JsonNode? request, DataBoundaryPolicy policy, BoundaryBudget? budget) =>
        request is JsonObject body ? Scrub(body, policy, budget) : ScrubResult.Clean;

    /// <summary>Embeddings: the one walk (<see cref="Scrub"/>); token-id input is uninspectable.</summary>
    public static ScrubResult ScrubEmbeddings(JsonNode? request, DataBoundaryPolicy policy) => ScrubEmbeddings(request, policy, null);

    /// <summary>As <see cref="ScrubEmbeddings(JsonNode?, DataBoundaryPolicy)"/>, with the custom patterns within <paramref name="budget"/>.</summary>
    public static ScrubResult ScrubEmbeddings(JsonNode? request, DataBoundaryPolicy policy, BoundaryBudget? budget) =>
        request is JsonObject body ? Scrub(body, policy, budget) : ScrubResult.Clean;

    /// <summary>A number, or an array holding numbers, where text was expected: the boundary cannot read it.</summary>
    private static void FindTokenIds(JsonNode? input, string key, ref Collector collector)
    {
        switch (input)
        {
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number:
                collector.Uninspectable(key);
                break;
            case JsonArray items:
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is JsonValue item && item.GetValueKind() == JsonValueKind.Number || items[i] is JsonArray)
                    {
                        // One path is enough to refuse; a token array would otherwise list every token.
                        collector.Uninspectable(string.Create(CultureInfo.InvariantCulture, $"{key}[{i}]"));
                        return;
                    }
                }
                break;
            default:
                break;
        }
    }

    /// <summary>Encoded media (a data URL, base64 image or audio data) is not text the boundary can read or a model reads as text.</summary>
    private static bool IsEncodedMedia(string key, ReadOnlySpan<char> text, JsonObject owner) =>
        (text.StartsWith("data:", StringComparison.Ordinal) && text[..Math.Min(text.Length, 256)].IndexOf(";base64,", StringComparison.Ordinal) > 0)
        || (key == "data" && (owner["type"] is JsonValue type && type.GetValueKind() == JsonValueKind.String && Is(type, "base64")
            || owner.Parent is JsonObject parent && parent["input_audio"] == owner));

    /// <summary>
    /// Depth-first over the body, keeping how deep the current node is, and the index of the current array item, to
    /// name a field that had a hit (<see cref="FieldPlace"/> climbs from there). The walk without shortcuts keeps the
    /// whole path too, and spells it as it goes: the reference the climb is held to.
    /// </summary>
    private struct Walker(Collector collector, bool shortcuts) : IDisposable
    {
        /// <summary>What the walk found so far: a field, never copied out (a copy would lose what is found after it).</summary>
        public Collector Collector = collector;

        /// <summary>The path to the current node (without shortcuts only), in a pooled array.</summary>
        private (string? Key, int Index)[]? path = shortcuts ? null : ArrayPool<(string? Key, int Index)>.Shared.Rent(16);
        private int depth;

        /// <summary>The index of the array item being scrubbed: where a hit in it is.</summary>
        private int item;

        private void Enter(string? key, int index)
        {
            if (path is null)
            {
                depth++;
                return;
            }
            if (depth == path.Length)
            {
                var deeper = ArrayPool<(string? Key, int Index)>.Shared.Rent(depth * 2);
                path.AsSpan().CopyTo(deeper);
                ArrayPool<(string? Key, int Index)>.Shared.Return(path, clearArray: true);
                path = deeper;
            }
            path[depth++] = (key, index);
        }

        /// <summary>Returns the path's array, cleared: it holds the body's keys.</summary>
        public void Dispose()
        {
            if (path is not null)
            {
                ArrayPool<(string? Key, int Index)>.Shared.Return(path, clearArray: true);
                path = null;
            }
        }

        public void Object(JsonObject node)
        {
            for (var i = 0; i < node.Count; i++)
            {
                var (key, value) = node.GetAt(i);
                Enter(key, -1);
                var renamed = ScrubName(key, node);
                if (renamed is not null)
                {
                    key = Rename(node, i, renamed);
                    if (path is not null)
                    {
                        path[depth - 1] = (key, -1);
                    }
                }
                switch (value)
                {
                    case JsonObject child:
                        Object(child);
                        break;
                    case JsonArray items:
                        Array(items);
                        break;
                    case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                        if (Scrub(text, key, node) is { } clean)
                        {
                            node.SetAt(i, clean);
                        }
                        break;
                    default:
                        break;
                }
                depth--;
            }
        }

        public void Array(JsonArray items)
        {
            for (var i = 0; i < items.Count; i++)
            {
                Enter(null, i);
                switch (items[i])
                {
                    case JsonObject child:
                        Object(child);
                        break;
                    case JsonArray nested:
                        Array(nested);
                        break;
                    case JsonValue text when text.GetValueKind() == JsonValueKind.String:
                        item = i;
                        if (Scrub(text, null, null) is { } clean)
                        {
                            items[i] = clean;
                        }
                        break;
                    default:
                        break;
                }
                depth--;
            }
        }

        /// <summary>
        /// A string value through the policy, read without a string of its own (see <see cref="Read"/>): the redacted
        /// text when it had a hit, else null. A short value of a structural key, and encoded media, are left alone.
        /// </summary>
        private JsonValue? Scrub(JsonValue value, string? key, JsonObject? owner)
        {
            if (!shortcuts || !value.TryGetValue<JsonElement>(out var element))
            {
                Span<char> whole = stackalloc char[StackChars];
                var read = Read(value, whole, out var pooled);
                try
                {
                    return Scrub(read, key, owner, value.Parent!);
                }
                finally
                {
                    if (pooled is not null)
                    {
                        ArrayPool<char>.Shared.Return(pooled);
                    }
                }
            }
            var raw = JsonMarshal.GetRawUtf8Value(element);
            // Judged from the UTF-8 first where that is the walk's own verdict: a value in plain ASCII with no escape is
            // its own text, one character a byte, so a short one of a structural key, or one with nothing any detector
            // needs (see DataBoundaryPolicy.NothingToFind), is left as it is without being read. A long one is read in one
            // pass that also marks its digits for the normalisation (ScrubMarked). Anything else is read: a plain one
            // widened byte by byte (Widen), one with escapes or outside ASCII by the JSON reader (which refuses a lone
            // surrogate escape, structural key or not).
            var inner = raw[1..^1];
            var structural = key is not null && inner.Length <= StructuralValueLimit && IsStructural(key);
            if (!structural && inner.Length >= SecretDetector.MinLength)
            {
                return ScrubMarked(value, key, owner, element, raw);
            }
            var plain = IsPlain(inner);
            if (plain && (Collector.NothingToFind(inner) || structural))
            {
                return null;
            }
            // The text is no longer than its escaped UTF-8: the stack buffer is only as long (and only as cleared) as that,
            // and not there at all when the text is read into a pooled array anyway.
            Span<char> buffer = stackalloc char[inner.Length <= StackChars ? inner.Length : 0];
            var text = plain ? Widen(inner, buffer, out var rented) : Read(raw, buffer, out rented);
            try
            {
                return Scrub(text, key, owner, value.Parent!, element, raw);
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<char>.Shared.Return(rented);
                }
            }
        }

        /// <summary>
        /// A value of <see cref="SecretDetector.MinLength"/> bytes or more (never one NothingToFind clears), not a short one
        /// of a structural key: widened and marked in one pass when plain, read by the JSON reader when not.
        /// </summary>
        private JsonValue? ScrubMarked(JsonValue value, string? key, JsonObject? owner, JsonElement element, ReadOnlySpan<byte> raw)
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
                    // Not a short value of a structural key: of the checks Scrub(text) makes first, only encoded media is left.
                    if (key is not null && IsEncodedMedia(key, text, owner!))
                    {
                        return null;
                    }
                    var scan = Collector.Scan(text, digits, firstAt);
                    return scan.IsClean ? null : Collector.Hit(scan, text, Place(value.Parent!, key), RedactedUtf8.Keys(key), element, raw);
                }
                // The buffer holds the escaped length: the reader rents nothing more.
                return Scrub(Read(raw, buffer, out _), key, owner, value.Parent!, element, raw);
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

        /// <param name="container">The object or array holding the value: where a hit is recorded (see <see cref="Place"/>).</param>
        /// <param name="element">The value's token in the request's document, and <paramref name="raw"/> its UTF-8, when it was read from them.</param>
        private JsonValue? Scrub(ReadOnlySpan<char> text, string? key, JsonObject? owner, JsonNode container, JsonElement element = default, ReadOnlySpan<byte> raw = default)
        {
            if (key is not null && ((text.Length <= StructuralValueLimit && IsStructural(key)) || IsEncodedMedia(key, text, owner!)))
            {
                return null;
            }
            var scan = Collector.Scan(text);
            return scan.IsClean ? null : Collector.Hit(scan, text, Place(container, key), RedactedUtf8.Keys(key), element, raw);
        }

        /// <summary>A property name with its hits redacted, recorded as the name of that path; null when clean.</summary>
        private string? ScrubName(string name, JsonObject owner)
        {
            if (!Collector.NameHit(name, out var scan))
            {
                return null;
            }
            var redacted = Collector.RedactedName(scan, name);
            // The path names the key as it is sent on, never as it came: the hit's path must not spell the value.
            Collector.Record(scan, FieldPlace.Spelled(NamePath(owner, redacted ?? name) + " (name)"));
            return redacted;
        }

        /// <summary>
        /// Where the current value is, held in <paramref name="container"/> (its object or array) under <paramref name="key"/>
        /// (null: the current item of an array): no string, the path is spelled if it is ever read. The walk without
        /// shortcuts spells it now, as it always did: tests compare the two.
        /// </summary>
        public readonly FieldPlace Place(JsonNode container, string? key) =>
            path is null ? FieldPlace.In(container, key, key is null ? item : -1, depth) : FieldPlace.Spelled(Path());

        /// <summary>
        /// The path of the current property of <paramref name="owner"/>, named <paramref name="name"/> (as it is sent on),
        /// spelled now: climbed from <paramref name="owner"/>, or, without shortcuts, read from the walk's own path.
        /// </summary>
        public readonly string NamePath(JsonObject owner, string name) =>
            path is null ? FieldPlace.In(owner, name, -1, depth).Spell() : Path(name);

        /// <summary>A property name that held a hit, renamed in place; a clash with a sibling gets a suffix.</summary>
        private static string Rename(JsonObject node, int index, string name)
        {
            var value = node.GetAt(index).Value;
            var unique = name;
            for (var n = 2; node.ContainsKey(unique); n++)
            {
                unique = string.Create(CultureInfo.InvariantCulture, $"{name}#{n}");
            }
            node.SetAt(index, unique, value);
            return unique;
        }

        /// <summary>The current path, spelled as in JavaScript: <c>messages[0].content[1].text</c>; its last key as <paramref name="lastKey"/> when given.</summary>
        private readonly string Path(string? lastKey = null)
        {
            Debug.Assert(path is not null, "only the walk without shortcuts keeps its path");
            // Spelled on the stack, one string in the end (every redacted field has a path).
            var text = new System.Runtime.CompilerServices.DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[128]);
            var empty = true;
            for (var i = 0; i < depth; i++)
            {
                var (key, index) = path![i];
                if (i == depth - 1 && lastKey is not null)
                {
                    key = lastKey;
                }
                if (key is null)
                {
                    text.AppendLiteral("[");
                    text.AppendFormatted(index);
                    text.AppendLiteral("]");
                }
                else
                {
                    if (!empty)
                    {
                        text.AppendLiteral(".");
                    }
                    text.AppendFormatted(key);
                }
                empty = false;
            }
            return text.ToStringAndClear();
        }
    }
}
