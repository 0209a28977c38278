namespace Pilotage.Core.Metrics;

/// <summary>
/// Levenshtein distance, for "did you mean" suggestions on metric names and spec fields, and for
/// <see cref="Evidence.Rework"/> (over characters, or over words as integer ids).
/// </summary>
internal static class EditDistance
{
    public static int Between(string a, string b) => Between(a.AsSpan(), b.AsSpan());

    public static int Between<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        // Two rows of the table are enough.
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1].Equals(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>
    /// The candidate closest to <paramref name="unknown"/> (case-insensitive), or null when none is
    /// close enough to be a plausible typo: at most a third of the word may differ, and never more than 3 edits.
    /// </summary>
    public static string? Closest(string unknown, IEnumerable<string> candidates)
    {
        if (string.IsNullOrWhiteSpace(unknown) || unknown.Length > 200)
        {
            return null;
        }
        var probe = unknown.Trim().ToLowerInvariant();
        var limit = Math.Clamp(probe.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Between(probe, candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        return bestDistance <= limit ? best : null;
    }
}
