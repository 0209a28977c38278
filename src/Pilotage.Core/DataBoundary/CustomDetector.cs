using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// A detector declared in the spec as a regular expression; every non-empty match is a hit. A pattern the linear-time
/// engine accepts runs there, with no timeout; any other is bounded in time (see <see cref="PatternEngine"/>).
/// </summary>
internal sealed class CustomDetector : Detector
{
    private readonly Regex regex;
    private readonly CustomPattern pattern;
    private readonly TimeSpan timeout;

    public CustomDetector(string name, CustomPattern pattern, TimeSpan timeout)
        : base(name)
    {
        this.pattern = pattern;
        this.timeout = timeout;
        // Built once per policy (policies live until the next state change).
        regex = pattern.Build(timeout);
    }

    /// <summary>True when the pattern backtracks: its matches are bounded by the timeout and charged to the request's budget.</summary>
    public bool Timed => pattern.Engine == PatternEngine.Timed;

    /// <summary>a declared pattern can match anything: in streamed answers, matches up to this length are found.</summary>
    public override int LongestMatch => 256;

    public override bool MayMatch(in TextProfile profile) => true;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in regex.EnumerateMatches(text))
        {
            // Empty matches (a pattern like "x*") mark no data, only positions.
            if (match.Length > 0)
            {
                Add(ref sink, index, match.Index, match.Length);
            }
        }
    }

    /// <summary>
    /// As <see cref="Find(ReadOnlySpan{char}, int, ref List{Finding}?)"/>, within what is left of the request's budget (a linear
    /// pattern is not charged: its time is bounded by the text's length). While more than the per-match timeout is left,
    /// the compiled engine runs; in the last stretch each match runs with the time that is left as its timeout, so the
    /// budget is never overrun by more than one check.
    /// </summary>
    /// <exception cref="BoundaryBudgetExceededException">the budget ran out before the text was scanned.</exception>
    /// <exception cref="RegexMatchTimeoutException">one match took longer than the per-match timeout.</exception>
    public void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, BoundaryBudget budget)
    {
        if (!Timed)
        {
            Find(text, index, ref sink);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var position = 0;
            while (position <= text.Length)
            {
                var remaining = budget.Remaining(started);
                if (remaining <= TimeSpan.Zero)
                {
                    throw Exceeded(budget);
                }
                if (remaining >= timeout)
                {
                    var stopped = false;
                    foreach (var match in regex.EnumerateMatches(text, position))
                    {
                        if (match.Length > 0)
                        {
                            Add(ref sink, index, match.Index, match.Length);
                        }
                        position = match.Index + Math.Max(match.Length, 1);
                        if (budget.Remaining(started) < timeout)
                        {
                            stopped = true;
                            break;
                        }
                    }
                    if (!stopped)
                    {
                        return;
                    }
                    continue;
                }
                // Interpreted: built only in a budget's last stretch, where compiling would cost more than it saves.
                (int Index, int Length)? last = null;
                try
                {
                    foreach (var match in pattern.Interpreted(remaining).EnumerateMatches(text, position))
                    {
                        last = (match.Index, match.Length);
                        break;
                    }
                }
                catch (RegexMatchTimeoutException)
                {
                    throw Exceeded(budget);
                }
                if (last is not { } found)
                {
                    return;
                }
                if (found.Length > 0)
                {
                    Add(ref sink, index, found.Index, found.Length);
                }
                position = found.Index + Math.Max(found.Length, 1);
            }
        }
        finally
        {
            budget.Charge(started);
        }
    }

    private BoundaryBudgetExceededException Exceeded(BoundaryBudget budget)
    {
        budget.Exhaust();
        return new BoundaryBudgetExceededException(Name, budget.Limit);
    }
}
