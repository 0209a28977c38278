namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The data boundary over a text that arrives in pieces (a streamed answer): takes each delta and returns
/// the part that is safe to send now, redacted. It holds back only what a hit could still grow into: the
/// policy's longest match, in normalised characters (so zero-width or repeated separators cannot stretch a
/// number past the window), never cutting inside a run of non-whitespace characters (an address, a token)
/// nor inside a hit still open at the end. One instance per streamed text, used by one thread.
/// </summary>
public sealed class StreamingRedactor
{
    private readonly DataBoundaryPolicy policy;
    private readonly BoundaryBudget? budget;
    private readonly int holdBack;
    private string pending = "";
    private readonly Dictionary<string, (BoundaryAction Action, int Count)> counts = new(StringComparer.Ordinal);

    public StreamingRedactor(DataBoundaryPolicy policy, BoundaryBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
        this.budget = budget;
        holdBack = policy.LongestMatch;
    }

    /// <summary>True once a blocking hit was seen: the caller ends the answer; nothing after it is released.</summary>
    public bool Blocked { get; private set; }

    /// <summary>Detectors whose hits block, in the order they were first seen.</summary>
    public IReadOnlyList<string> BlockedBy => [.. counts.Where(c => c.Value.Action == BoundaryAction.Block).Select(c => c.Key)];

    /// <summary>Hits so far, per detector.</summary>
    public IReadOnlyList<DetectorCount> Counts => [.. counts.Select(c => new DetectorCount(c.Key, c.Value.Action, c.Value.Count))];

    /// <summary>Characters received and not yet released.</summary>
    public int Pending => pending.Length;

    /// <summary>Adds <paramref name="delta"/> and returns the text that can go out now (often empty while a number may be forming).</summary>
    /// <exception cref="BoundaryBudgetExceededException">the custom patterns used up the budget: the caller ends the answer.</exception>
    public string Push(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (Blocked)
        {
            return "";
        }
        pending += delta;
        if (policy.IsEmpty)
        {
            return Release(pending.Length, default);
        }
        using var normal = Normalized.Of(pending);
        var cut = normal.Text.Length - holdBack;
        if (cut <= 0)
        {
            return "";
        }
        // Back to a whitespace boundary in the normalised text: hits without whitespace are never split.
        while (cut > 0 && !char.IsWhiteSpace(normal.Text[cut - 1]))
        {
            cut--;
        }
        var at = normal.OriginalOffset(cut);
        if (at == 0)
        {
            return "";
        }
        var result = policy.Apply(pending, normal, budget);
        foreach (var hit in result.Hits)
        {
            // A hit that reaches past the cut is still forming: hold it back whole, to be judged with what follows.
            if (hit.Start < at && hit.Start + hit.Length > at)
            {
                at = hit.Start;
            }
        }
        return Release(at, result);
    }

    /// <summary>The end of the text: everything held back, redacted. Empty when the answer was blocked.</summary>
    public string Flush()
    {
        if (Blocked || pending.Length == 0)
        {
            return "";
        }
        var result = policy.Apply(pending, budget);
        return Release(pending.Length, result);
    }

    /// <summary>Releases <c>pending[..at]</c> with the hits that lie inside it redacted.</summary>
    private string Release(int at, BoundaryResult result)
    {
        var text = pending;
        var released = new System.Text.StringBuilder();
        var from = 0;
        foreach (var hit in result.Hits)
        {
            if (hit.Length == 0 && hit.Action == BoundaryAction.Block)
            {
                Count(hit); // a detector that timed out: fail closed
                Blocked = true;
                continue;
            }
            if (hit.Start + hit.Length > at)
            {
                continue;
            }
            Count(hit);
            if (hit.Action == BoundaryAction.Block)
            {
                Blocked = true;
            }
            released.Append(text, from, hit.Start - from).Append("[REDACTED:").Append(hit.Detector).Append(']');
            from = hit.Start + hit.Length;
        }
        if (Blocked)
        {
            // Nothing from the blocked stretch goes out; what went out before it was clean.
            pending = "";
            return "";
        }
        released.Append(text, from, at - from);
        pending = text[at..];
        return released.ToString();
    }

    private void Count(BoundaryHit hit)
    {
        var seen = counts.GetValueOrDefault(hit.Detector);
        counts[hit.Detector] = (seen.Action == BoundaryAction.Block ? BoundaryAction.Block : hit.Action, seen.Count + 1);
    }
}
