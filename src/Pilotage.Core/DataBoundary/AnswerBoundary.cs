using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.Specs;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The data boundary applied to what the model returns (<c>dataBoundary.answers</c>): a whole answer in one
/// call (<see cref="Filter"/>), or a streamed one chunk by chunk (<see cref="Stream"/>). In <c>redact</c> mode
/// every detector of the spec redacts; in <c>block</c> mode the request's own policy applies, so a hit of a
/// <c>block</c> detector withholds the answer. Immutable; one per policy.
/// </summary>
public sealed partial class AnswerBoundary
{
    internal AnswerBoundary(DataBoundaryPolicy policy, AnswerBoundaryMode mode)
    {
        Policy = policy;
        Mode = mode;
    }

    public AnswerBoundaryMode Mode { get; }

    /// <summary>The policy answers go through (all detectors redacting in <c>redact</c> mode).</summary>
    public DataBoundaryPolicy Policy { get; }

    /// <summary>
    /// A whole answer (an OpenAI-style completion, or any JSON): every text in it through the one walk. When
    /// anything was redacted, token log-probabilities are dropped, since they spell the original text.
    /// </summary>
    public ScrubResult Filter(JsonObject answer, BoundaryBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var result = RequestScrubber.Scrub(answer, Policy, budget);
        if (result.Redacted && answer["choices"] is JsonArray choices)
        {
            foreach (var choice in choices)
            {
                if (choice is JsonObject c && c.ContainsKey("logprobs"))
                {
                    c["logprobs"] = null;
                }
            }
        }
        return result;
    }

    /// <summary>
    /// A whole answer given as UTF-8 JSON: the bytes to send instead (the same array when nothing changed) and
    /// what was found. Bytes that are not a JSON object come back unchanged, with a clean result.
    /// </summary>
    public byte[] Filter(byte[] answer, out ScrubResult result, BoundaryBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(answer);
        // A timed custom pattern would be charged twice when the walk follows, so such a policy always walks.
        if (!Policy.HasTimedPatterns && ReadsClean(answer, budget))
        {
            // Nothing the walk below could find: the answer goes out as the model wrote it, with no document built.
            result = ScrubResult.Clean;
            return answer;
        }
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(answer, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth }) as JsonObject;
        }
        catch (JsonException)
        {
            json = null;
        }
        if (json is null)
        {
            result = RequestScrubber.Scrub(new JsonObject(), Policy);
            return answer;
        }
        result = Filter(json, budget);
        return result.Redacted ? JsonSerializer.SerializeToUtf8Bytes(json) : answer;
    }

    /// <summary>
    /// True when <paramref name="answer"/> is one JSON object in which every string and every property name is clean,
    /// read straight from the bytes: the walk (<see cref="RequestScrubber.Scrub"/>) could then change and report
    /// nothing. It reads at least what the walk reads (it also reads encoded media, which the walk skips), so it
    /// is never cleaner than the walk. Anything else answers false and the walk decides: a hit, a detector out of
    /// budget, a top-level <c>input</c> or <c>prompt</c> (which the walk checks for token ids), bytes the tokeniser
    /// cannot read as one JSON object within the depth the walk parses (in plain ASCII these may read clean instead: see
    /// <see cref="PlainReadsClean"/>; the walk could not parse them either, so the answer goes out as it came all the same).
    /// </summary>
    private bool ReadsClean(ReadOnlySpan<byte> answer, BoundaryBudget? budget) => ReadsClean(answer, budget, shortcuts: true);

    /// <summary>
    /// <see cref="ReadsClean(ReadOnlySpan{byte}, BoundaryBudget?)"/>, or with <paramref name="shortcuts"/> false, the same
    /// reading with every text transcoded and fully scanned (<see cref="DataBoundaryPolicy.ScanWithoutShortcuts"/>): what
    /// the shortcuts must equal, which tests compare.
    /// </summary>
    internal bool ReadsClean(ReadOnlySpan<byte> answer, BoundaryBudget? budget, bool shortcuts)
    {
        if (shortcuts && RequestScrubber.IsPlain(answer))
        {
            return PlainReadsClean(answer, budget);
        }
        scoped var reader = new Utf8JsonReader(answer, new JsonReaderOptions { MaxDepth = MaxDepth });
        // Each text is unescaped into this buffer, or a pooled one when longer: a clean answer allocates nothing.
        Span<char> small = stackalloc char[RequestScrubber.StackChars];
        Span<char> widened = stackalloc char[SecretDetector.MinLength]; // a short ASCII name, to ask whether it is structural
        char[]? rented = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            var structural = false; // the value about to be read is a structural key's
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        if (reader.CurrentDepth == 1 && (reader.ValueTextEquals("input"u8) || reader.ValueTextEquals("prompt"u8)))
                        {
                            return false; // RequestScrubber.TokenInputs: the walk checks them for token ids
                        }
                        if (shortcuts && PlainAscii(ref reader, out var plainName) && Policy.NothingToFind(plainName))
                        {
                            // A short name of plain ASCII with no digit and no '@' (every name of a usual answer): clean
                            // without reading it; whether it is structural, from its characters widened on the stack.
                            System.Text.Ascii.ToUtf16(plainName, widened, out var length);
                            structural = RequestScrubber.IsStructural(widened[..length]);
                            break;
                        }
                        var name = Text(ref reader, small, ref rented);
                        if ((!shortcuts || RequestScrubber.MayHoldHit(name, Policy)) && !Scan(name, budget, shortcuts).IsClean)
                        {
                            return false;
                        }
                        structural = RequestScrubber.IsStructural(name);
                        break;
                    case JsonTokenType.String:
                        // Plain ASCII is its own text, one character a byte: a short value of a structural key, or one with
                        // nothing any detector needs, is clean without being read.
                        if (shortcuts && PlainAscii(ref reader, out var plain)
                            && ((structural && plain.Length <= RequestScrubber.StructuralValueLimit) || Policy.NothingToFind(plain)))
                        {
                            structural = false;
                            break;
                        }
                        var text = Text(ref reader, small, ref rented);
                        if (!(structural && text.Length <= RequestScrubber.StructuralValueLimit) && !Scan(text, budget, shortcuts).IsClean)
                        {
                            return false;
                        }
                        structural = false;
                        break;
                    default:
                        structural = false;
                        break;
                }
            }
            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or BoundaryBudgetExceededException)
        {
            return false;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private BoundaryScan Scan(ReadOnlySpan<char> text, BoundaryBudget? budget, bool shortcuts) =>
        shortcuts ? Policy.Scan(text, budget) : Policy.ScanWithoutShortcuts(text, budget);

    /// <summary>
    /// The current string or property name's bytes when they are its text, one character a byte: in one segment, with no
    /// escape, all ASCII (so also valid, which reading it checks). False otherwise: it is then read (<see cref="Text"/>).
    /// </summary>
    private static bool PlainAscii(scoped ref Utf8JsonReader reader, out ReadOnlySpan<byte> bytes)
    {
        bytes = reader.HasValueSequence || reader.ValueIsEscaped ? default : reader.ValueSpan;
        return !reader.HasValueSequence && !reader.ValueIsEscaped && System.Text.Ascii.IsValid(bytes);
    }

    /// <summary>The current string or property name, unescaped into <paramref name="small"/> or, when longer, a pooled array.</summary>
    private static ReadOnlySpan<char> Text(scoped ref Utf8JsonReader reader, Span<char> small, ref char[]? rented)
    {
        var longest = reader.HasValueSequence ? (int)reader.ValueSequence.Length : reader.ValueSpan.Length;
        var buffer = small;
        if (longest > small.Length)
        {
            if (rented is null || rented.Length < longest)
            {
                if (rented is not null)
                {
                    System.Buffers.ArrayPool<char>.Shared.Return(rented);
                }
                rented = System.Buffers.ArrayPool<char>.Shared.Rent(longest);
            }
            buffer = rented;
        }
        return buffer[..reader.CopyString(buffer)];
    }

    /// <summary>The depth a whole answer is parsed to.</summary>
    private const int MaxDepth = 64;

    /// <summary>A filter for one streamed answer (OpenAI server-sent chunks).</summary>
    public StreamedAnswerFilter Stream(BoundaryBudget? budget = null) => new(Policy, budget);
}

/// <summary>
/// One streamed answer's chunks through the boundary: each choice's <c>delta.content</c>, <c>delta.refusal</c>
/// and tool call arguments go through their own <see cref="StreamingRedactor"/>, and the chunk is rewritten
/// with what is safe to send. What is held back goes out with the choice's <c>finish_reason</c> chunk, or in
/// a last chunk of its own (<see cref="Finish"/>). One instance per stream, used by one thread.
/// </summary>
public sealed class StreamedAnswerFilter
{
    private readonly DataBoundaryPolicy policy;
    private readonly BoundaryBudget? budget;
    private readonly Dictionary<(int Choice, string Field), StreamingRedactor> redactors = [];
    private JsonObject? lastHead;

    internal StreamedAnswerFilter(DataBoundaryPolicy policy, BoundaryBudget? budget)
    {
        this.policy = policy;
        this.budget = budget;
    }

    /// <summary>True once a blocking hit was seen: the caller ends the stream with a refusal.</summary>
    public bool Blocked => redactors.Values.Any(r => r.Blocked);

    /// <summary>Detectors whose hits blocked the answer.</summary>
    public IReadOnlyList<string> BlockedBy => [.. redactors.Values.SelectMany(r => r.BlockedBy).Distinct(StringComparer.Ordinal)];

    /// <summary>Hits so far, per detector.</summary>
    public IReadOnlyList<DetectorCount> Counts =>
        [.. redactors.Values.SelectMany(r => r.Counts).GroupBy(c => c.Detector, StringComparer.Ordinal)
            .Select(g => new DetectorCount(g.Key, g.Any(c => c.Action == BoundaryAction.Block) ? BoundaryAction.Block : BoundaryAction.Redact, g.Sum(c => c.Count)))];

    /// <summary>
    /// The chunk's JSON (the text after <c>data:</c>) rewritten with only safe text; returned unchanged when it
    /// is not a JSON object (the caller's own reading refuses it) or carries no text.
    /// </summary>
    public string Filter(string data)
    {
        ArgumentNullException.ThrowIfNull(data);
        JsonObject? chunk;
        try
        {
            chunk = JsonNode.Parse(data, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (JsonException)
        {
            return data;
        }
        return chunk is not null && Filter(chunk) ? chunk.ToJsonString() : data;
    }

    /// <summary>
    /// As <see cref="Filter(string)"/>, on a chunk the caller has parsed already (the gateway reads each chunk once):
    /// rewritten in place. False when it carries no choices, and is left as it is.
    /// </summary>
    public bool Filter(JsonObject chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        if (chunk["choices"] is not JsonArray choices)
        {
            return false;
        }
        lastHead = new JsonObject { ["id"] = chunk["id"]?.DeepClone(), ["object"] = chunk["object"]?.DeepClone(), ["created"] = chunk["created"]?.DeepClone(), ["model"] = chunk["model"]?.DeepClone() };
        foreach (var item in choices)
        {
            if (item is not JsonObject choice)
            {
                continue;
            }
            var index = choice["index"] is JsonValue i && i.TryGetValue<int>(out var n) ? n : 0;
            var finished = choice["finish_reason"] is JsonValue reason && reason.GetValueKind() == JsonValueKind.String;
            choice.Remove("logprobs"); // they spell the text token by token, before any redaction
            if (choice["delta"] is not JsonObject delta)
            {
                if (finished)
                {
                    choice["delta"] = delta = [];
                }
                else
                {
                    continue;
                }
            }
            FilterText(delta, "content", index, finished);
            FilterText(delta, "refusal", index, finished);
            if (delta["tool_calls"] is JsonArray calls)
            {
                foreach (var call in calls)
                {
                    if (call is JsonObject c && c["function"] is JsonObject function)
                    {
                        var tool = c["index"] is JsonValue t && t.TryGetValue<int>(out var k) ? k : 0;
                        FilterText(function, string.Create(CultureInfo.InvariantCulture, $"arguments#{tool}"), index, false, "arguments");
                    }
                }
            }
            if (finished)
            {
                FlushToolCalls(delta, index);
            }
        }
        return true;
    }

    /// <summary>What is still held back when the stream ends without a finish chunk: one last chunk, or null.</summary>
    public string? Finish()
    {
        var choices = new JsonArray();
        foreach (var ((choice, field), redactor) in redactors.ToArray())
        {
            var rest = redactor.Flush();
            if (rest.Length == 0)
            {
                continue;
            }
            var delta = field.StartsWith("arguments#", StringComparison.Ordinal)
                ? new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = int.Parse(field.AsSpan(10), CultureInfo.InvariantCulture), ["function"] = new JsonObject { ["arguments"] = rest } }) }
                : new JsonObject { [field] = rest };
            choices.Add(new JsonObject { ["index"] = choice, ["delta"] = delta });
        }
        if (choices.Count == 0)
        {
            return null;
        }
        var chunk = (JsonObject?)lastHead?.DeepClone() ?? [];
        chunk["choices"] = choices;
        return chunk.ToJsonString();
    }

    private void FilterText(JsonObject owner, string field, int choice, bool finished, string? property = null)
    {
        property ??= field;
        var text = owner[property] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
        if (text is null && !finished)
        {
            return;
        }
        if (!redactors.TryGetValue((choice, field), out var redactor))
        {
            if (text is null)
            {
                return;
            }
            redactors[(choice, field)] = redactor = new StreamingRedactor(policy, budget);
        }
        var safe = text is null ? "" : redactor.Push(text);
        if (finished)
        {
            safe += redactor.Flush();
        }
        if (text is not null || safe.Length > 0)
        {
            owner[property] = safe;
        }
    }

    private void FlushToolCalls(JsonObject delta, int choice)
    {
        foreach (var ((c, field), redactor) in redactors.ToArray())
        {
            if (c != choice || !field.StartsWith("arguments#", StringComparison.Ordinal))
            {
                continue;
            }
            var rest = redactor.Flush();
            if (rest.Length == 0)
            {
                continue;
            }
            var calls = delta["tool_calls"] as JsonArray ?? [];
            delta["tool_calls"] = calls;
            calls.Add(new JsonObject { ["index"] = int.Parse(field.AsSpan(10), CultureInfo.InvariantCulture), ["function"] = new JsonObject { ["arguments"] = rest } });
        }
    }
}
