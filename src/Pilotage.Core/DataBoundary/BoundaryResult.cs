using System.Globalization;
using System.Text;

namespace Pilotage.Core.DataBoundary;

/// <summary>What the data boundary does with a detector's hits.</summary>
public enum BoundaryAction
{
    /// <summary>The hit is replaced by a typed placeholder and the request goes on.</summary>
    Redact,
    /// <summary>The request is refused (422) and nothing is sent upstream.</summary>
    Block,
}

/// <summary>
/// One detector hit: where it is, never what it is, so a hit can be logged, printed and stored as
/// evidence without leaking the value it found.
/// </summary>
/// <param name="Detector">Detector name (<c>credit_card</c>, <c>email</c>, a custom name…).</param>
/// <param name="Start">Offset in the inspected text (UTF-16 code units).</param>
/// <param name="Length">Length of the hit; 0 for a detector that could not finish (see <see cref="Note"/>).</param>
public readonly record struct BoundaryHit(string Detector, BoundaryAction Action, int Start, int Length)
{
    /// <summary>Why a hit has no span, e.g. a detector that timed out and failed closed.</summary>
    public string? Note { get; init; }
}

/// <summary>How many hits one detector had: what the evidence record keeps.</summary>
public readonly record struct DetectorCount(string Detector, BoundaryAction Action, int Count);

/// <summary>
/// The outcome of applying a <see cref="DataBoundaryPolicy"/> to one text. A struct so that the
/// common case, a clean text, costs no allocation at all.
/// </summary>
public readonly record struct BoundaryResult
{
    private readonly BoundaryHit[]? hits;
    private readonly string[]? blockedBy;
    private readonly DetectorCount[]? counts;

    internal BoundaryResult(string text)
    {
        Text = text;
    }

    internal BoundaryResult(string text, BoundaryHit[] hits, string[] blockedBy, DetectorCount[] counts)
    {
        Text = text;
        this.hits = hits;
        this.blockedBy = blockedBy;
        this.counts = counts;
    }

    /// <summary>
    /// The text with every hit replaced by <c>[REDACTED:detector]</c>, blocking hits included, so a
    /// refused request can still be recorded safely. The very same instance when there was no hit.
    /// </summary>
    public string Text { get; }

    /// <summary>Hits in text order, after overlaps were resolved.</summary>
    public IReadOnlyList<BoundaryHit> Hits => hits ?? [];

    public bool Blocked => blockedBy is { Length: > 0 };

    /// <summary>Names of the detectors whose hits refuse the request, in policy order.</summary>
    public IReadOnlyList<string> BlockedBy => blockedBy ?? [];

    /// <summary>Hits per detector, in policy order; only detectors that hit.</summary>
    public IReadOnlyList<DetectorCount> Counts => counts ?? [];

    public bool IsClean => hits is not { Length: > 0 };

    /// <summary>Counts only: <see cref="Text"/> may still hold a blocked value's neighbourhood and is never printed.</summary>
    public override string ToString() => Describe(Blocked, Counts);

    internal static string Describe(bool blocked, IReadOnlyList<DetectorCount> counts)
    {
        if (counts.Count == 0)
        {
            return "clean";
        }
        var text = new StringBuilder(blocked ? "blocked" : "redacted");
        var separator = ": ";
        foreach (var count in counts)
        {
            text.Append(separator).Append(count.Detector).Append(' ')
                .Append(count.Action == BoundaryAction.Block ? "block" : "redact")
                .Append(" x").Append(count.Count.ToString(CultureInfo.InvariantCulture));
            separator = ", ";
        }
        return text.ToString();
    }
}
