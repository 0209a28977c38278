using System.Diagnostics;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The time one request's custom patterns may take together. Each match of a custom pattern is bounded by the
/// per-match timeout (<see cref="Specs.SpecDocumentReader.DetectorTimeout"/>), but a request of many texts (100
/// messages, say) could run a pattern near that bound once per text; the budget bounds the whole request. One
/// instance per request, used by one thread.
/// </summary>
public sealed class BoundaryBudget
{
    /// <summary>The default budget: five times the per-match timeout, far beyond what a sound pattern needs on 16 MB.</summary>
    public static TimeSpan DefaultLimit { get; } = TimeSpan.FromMilliseconds(500);

    private long _spent;

    public BoundaryBudget(TimeSpan limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(limit, TimeSpan.Zero);
        Limit = limit;
    }

    public TimeSpan Limit { get; }

    private bool _exhausted;

    /// <summary>What is left, counting the scan running since <paramref name="since"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    internal TimeSpan Remaining(long since) =>
        _exhausted ? TimeSpan.Zero : Limit - Stopwatch.GetElapsedTime(since) - TimeSpan.FromTicks(_spent);

    /// <summary>
    /// Marks the budget spent once a text was refused for it. The regex engine's timeout is checked on a coarser clock
    /// than the stopwatch that charges it, so a refused scan may be charged a fraction of a millisecond less than was
    /// left; without this, the next text could run in that sliver.
    /// </summary>
    internal void Exhaust() => _exhausted = true;

    /// <summary>Adds the scan that ran since <paramref name="since"/> to what was spent.</summary>
    internal void Charge(long since) => _spent += Stopwatch.GetElapsedTime(since).Ticks;
}

/// <summary>
/// A request's custom patterns used up its <see cref="BoundaryBudget"/>: the text cannot be said to be clean, so the
/// request is refused (fail closed). Carries the detector's name, never the text.
/// </summary>
public sealed class BoundaryBudgetExceededException(string detector, TimeSpan limit)
    : Exception($"the custom data-boundary patterns used up this request's budget of {limit.TotalMilliseconds:0} ms (detector '{detector}' was running)")
{
    public string Detector { get; } = detector;
    public TimeSpan Limit { get; } = limit;
}
