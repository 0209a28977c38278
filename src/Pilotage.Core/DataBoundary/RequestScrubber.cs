using System.Globalization;
using System.Text.Json.Nodes;

namespace Pilotage.Core.DataBoundary;

/// <summary>A hit inside a request body: the JSON path of the text field and the hit within it.</summary>
public readonly record struct FieldHit(string Path, BoundaryHit Hit);

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
/// Applies a <see cref="DataBoundaryPolicy"/> to OpenAI-compatible request bodies in place: only the
/// text the user sends is scanned and rewritten; every other field is left exactly as it was.
/// </summary>
public static class RequestScrubber
{
    /// <summary>
    /// Chat completions: <c>messages[*].content</c> when a string, and <c>messages[*].content[*].text</c>
    /// of parts whose <c>type</c> is <c>text</c>. Other parts (images, audio, files) are not text and pass.
    /// </summary>
    public static ScrubResult ScrubChatCompletion(JsonNode? request, DataBoundaryPolicy policy) => ScrubChatCompletion(request, policy, null);

    /// <summary>As <see cref="ScrubChatCompletion(JsonNode?, DataBoundaryPolicy)"/>, with the custom patterns within <paramref name="budget"/>.</summary>
    public static ScrubResult ScrubChatCompletion(JsonNode? request, DataBoundaryPolicy policy, BoundaryBudget? budget)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.IsEmpty || request is not JsonObject body || body["messages"] is not JsonArray messages)
        {
            return ScrubResult.Clean;
        }
        var collector = new Collector(policy, budget);
        try
        {
            ScrubMessages(messages, collector);
        }
        catch (BoundaryBudgetExceededException e)
        {
            collector.Exceeded(e.Detector);
        }
        return collector.Result();
    }

    private static void ScrubMessages(JsonArray messages, Collector collector)
    {
        for (var m = 0; m < messages.Count; m++)
        {
            if (messages[m] is not JsonObject message)
            {
                continue;
            }
            switch (message["content"])
            {
                case JsonValue value when value.TryGetValue<string>(out var text):
                    collector.Scrub(message, "content", text, m, -1);
                    break;
                case JsonArray parts:
                    for (var p = 0; p < parts.Count; p++)
                    {
                        if (parts[p] is JsonObject part
                            && part["type"] is JsonValue type && type.TryGetValue<string>(out var kind) && kind == "text"
                            && part["text"] is JsonValue partText && partText.TryGetValue<string>(out var text))
                        {
                            collector.Scrub(part, "text", text, m, p);
                        }
                    }
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>
    /// Embeddings: <c>input</c> as a string or an array of strings. Token-id input (numbers or arrays
    /// of numbers) cannot be read and is reported in <see cref="ScrubResult.Uninspectable"/>.
    /// </summary>
    public static ScrubResult ScrubEmbeddings(JsonNode? request, DataBoundaryPolicy policy) => ScrubEmbeddings(request, policy, null);

    /// <summary>As <see cref="ScrubEmbeddings(JsonNode?, DataBoundaryPolicy)"/>, with the custom patterns within <paramref name="budget"/>.</summary>
    public static ScrubResult ScrubEmbeddings(JsonNode? request, DataBoundaryPolicy policy, BoundaryBudget? budget)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.IsEmpty || request is not JsonObject body)
        {
            return ScrubResult.Clean;
        }
        var collector = new Collector(policy, budget);
        try
        {
            ScrubInput(body, collector);
        }
        catch (BoundaryBudgetExceededException e)
        {
            collector.Exceeded(e.Detector);
        }
        return collector.Result();
    }

    private static void ScrubInput(JsonObject body, Collector collector)
    {
        switch (body["input"])
        {
            case JsonValue value when value.TryGetValue<string>(out var text):
                collector.Scrub(body, "input", text);
                break;
            case JsonArray items:
                var tokens = false;
                for (var i = 0; i < items.Count; i++)
                {
                    if (items[i] is JsonValue item && item.TryGetValue<string>(out var text))
                    {
                        collector.Scrub(items, i, text);
                    }
                    else if (items[i] is not null && !tokens)
                    {
                        // One path is enough to refuse; a token array would otherwise list every token.
                        tokens = true;
                        collector.Uninspectable(string.Create(CultureInfo.InvariantCulture, $"input[{i}]"));
                    }
                }
                break;
            case null:
                break;
            default:
                collector.Uninspectable("input");
                break;
        }
    }

    /// <summary>Gathers per-field results; allocates nothing until a field has a hit.</summary>
    private sealed class Collector(DataBoundaryPolicy policy, BoundaryBudget? budget)
    {
        private List<FieldHit>? hits;
        private List<string>? uninspectable;
        private Dictionary<string, (BoundaryAction Action, int Count)>? counts;
        private string? exceededBy;

        /// <summary>The budget ran out in <paramref name="detector"/>: it counts as a blocking hit, like a timeout.</summary>
        public void Exceeded(string detector)
        {
            exceededBy = detector;
            counts ??= new Dictionary<string, (BoundaryAction, int)>(StringComparer.Ordinal);
            counts[detector] = (BoundaryAction.Block, (counts.TryGetValue(detector, out var seen) ? seen.Count : 0) + 1);
        }

        public void Scrub(JsonObject owner, string property, string text, int message, int part)
        {
            var result = policy.Apply(text, budget);
            if (result.IsClean)
            {
                return;
            }
            owner[property] = JsonValue.Create(result.Text);
            Record(result, part < 0
                ? string.Create(CultureInfo.InvariantCulture, $"messages[{message}].content")
                : string.Create(CultureInfo.InvariantCulture, $"messages[{message}].content[{part}].text"));
        }

        public void Scrub(JsonObject owner, string property, string text)
        {
            var result = policy.Apply(text, budget);
            if (!result.IsClean)
            {
                owner[property] = JsonValue.Create(result.Text);
                Record(result, property);
            }
        }

        public void Scrub(JsonArray owner, int index, string text)
        {
            var result = policy.Apply(text, budget);
            if (!result.IsClean)
            {
                owner[index] = JsonValue.Create(result.Text);
                Record(result, string.Create(CultureInfo.InvariantCulture, $"input[{index}]"));
            }
        }

        public void Uninspectable(string path) => (uninspectable ??= []).Add(path);

        private void Record(BoundaryResult result, string path)
        {
            hits ??= [];
            counts ??= new Dictionary<string, (BoundaryAction, int)>(StringComparer.Ordinal);
            foreach (var hit in result.Hits)
            {
                hits.Add(new FieldHit(path, hit));
            }
            foreach (var count in result.Counts)
            {
                // A detector that timed out blocks even where it is configured to redact.
                var action = counts.TryGetValue(count.Detector, out var seen) && seen.Action == BoundaryAction.Block
                    ? BoundaryAction.Block
                    : count.Action;
                counts[count.Detector] = (action, seen.Count + count.Count);
            }
        }

        public ScrubResult Result()
        {
            if (hits is null && uninspectable is null && exceededBy is null)
            {
                return ScrubResult.Clean;
            }
            var ordered = policy.Rules
                .Where(r => counts?.ContainsKey(r.Detector) == true)
                .Select(r => new DetectorCount(r.Detector, counts![r.Detector].Action, counts[r.Detector].Count))
                .ToArray();
            var blockedBy = ordered.Where(c => c.Action == BoundaryAction.Block).Select(c => c.Detector).ToArray();
            return new ScrubResult([.. hits ?? []], blockedBy, ordered, [.. uninspectable ?? []], exceededBy);
        }
    }
}
