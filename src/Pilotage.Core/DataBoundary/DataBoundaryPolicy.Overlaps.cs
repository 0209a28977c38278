namespace Pilotage.Core.DataBoundary;

// How a policy resolves overlapping findings of its detectors: in a file of its own, the policy was past 600 lines.
public sealed partial class DataBoundaryPolicy
{
    /// <summary>
    /// Keeps, among overlapping findings, the one of the strongest tier, then the one that starts
    /// first, then the longer, then the detector earlier in policy order. Tiers: blocking detectors,
    /// then redacting ones, then the weak one (phone), which only fills gaps. Blocking first means a
    /// redaction can never hide a finding that should refuse the request.
    /// </summary>
    /// <param name="findings">Every finding of the text.</param>
    /// <param name="weakLost">Whether a weak finding was dropped for overlapping a stronger one.</param>
    /// <param name="shortcuts">
    /// When true, findings that already come in start order with no two overlapping (one e-mail address, a few
    /// separate numbers: nearly every text with a hit) are kept as they are, in one pass with no sort and no new list:
    /// with no overlap every finding is kept, in start order, whatever the tiers. Tests hold it to the sort.
    /// </param>
    internal List<Finding> KeepNonOverlapping(List<Finding> findings, out bool weakLost, bool shortcuts = true)
    {
        weakLost = false;
        if (shortcuts && InOrderApart(findings))
        {
            return findings;
        }
        findings.Sort(byStrength);

        // Kept findings in start order; they never overlap, so their ends are in order too.
        var kept = new List<Finding>(findings.Count);
        foreach (var f in findings)
        {
            var at = FirstStartingAtOrAfter(kept, f.Start);
            var overlaps = (at < kept.Count && kept[at].Start < f.End) || (at > 0 && kept[at - 1].End > f.Start);
            if (!overlaps)
            {
                kept.Insert(at, f);
            }
            else if (detectors[f.Detector].Weak)
            {
                // Lost only if it reached outside the stronger finding: a card's digits read as a phone lose nothing.
                var over = kept[at < kept.Count && kept[at].Start < f.End ? at : at - 1];
                weakLost |= Tier(over) < Tier(f) && (f.Start < over.Start || f.End > over.End);
            }
        }
        return kept;
    }

    /// <summary>True when each finding is non-empty and starts at or after the end of the one before it.</summary>
    private static bool InOrderApart(List<Finding> findings)
    {
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(findings);
        for (var i = 0; i < all.Length; i++)
        {
            if (all[i].Length <= 0 || (i > 0 && all[i].Start < all[i - 1].End))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The order overlaps are resolved in: tier, then start, then the longer, then policy order.</summary>
    private int CompareStrength(Finding a, Finding b)
    {
        var byTier = Tier(a).CompareTo(Tier(b));
        if (byTier != 0)
        {
            return byTier;
        }
        var byStart = a.Start.CompareTo(b.Start);
        if (byStart != 0)
        {
            return byStart;
        }
        var byLength = b.Length.CompareTo(a.Length);
        return byLength != 0 ? byLength : a.Detector.CompareTo(b.Detector);
    }

    private int Tier(Finding f) =>
        detectors[f.Detector].Weak ? 2 : actions[f.Detector] == BoundaryAction.Block ? 0 : 1;

    private static int FirstStartingAtOrAfter(List<Finding> kept, int start)
    {
        // Findings usually arrive in start order within a tier: try the end before searching.
        if (kept.Count == 0 || kept[^1].Start < start)
        {
            return kept.Count;
        }
        int low = 0, high = kept.Count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (kept[mid].Start < start)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }
}
