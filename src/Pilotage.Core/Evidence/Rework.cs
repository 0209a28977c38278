using Pilotage.Core.Metrics;

namespace Pilotage.Core.Evidence;

/// <summary>
/// How much of an AI answer a reviewer rewrote: the normalised edit distance between the answer and
/// the final text, in [0, 1] (0 = kept as is, 1 = rewritten entirely). The <c>rework</c> metric is
/// the mean of this over edited answers.
/// </summary>
/// <remarks>
/// Short texts are compared character by character (Levenshtein over characters divided by the
/// longer length), which is what a person means by "how much was changed". Long texts are compared
/// word by word (Levenshtein over whitespace-separated words divided by the longer word count), so
/// the quadratic table stays small: a 3,000-word answer is 9 M cells by words but 300 M by characters.
/// A common prefix and suffix are removed first (they never change the distance). If what remains is
/// still too large for the table, the distance is estimated by its lower bound
/// max(n, m) − |common words as a multiset|, which is exact when words were only inserted or only
/// deleted, and otherwise under-states (never over-states) the rework.
/// </remarks>
public static class Rework
{
    /// <summary>Texts up to this many characters (both) are compared by characters.</summary>
    public const int CharacterLimit = 2_000;

    /// <summary>Largest word table (cells) computed exactly; beyond it the lower-bound estimate is used.</summary>
    public const long WordCellLimit = 4_000_000;

    /// <summary>Normalised edit distance between <paramref name="answer"/> and <paramref name="final"/>, in [0, 1].</summary>
    public static double Between(string answer, string final)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(final);
        if (string.Equals(answer, final, StringComparison.Ordinal)) return 0;
        if (answer.Length <= CharacterLimit && final.Length <= CharacterLimit)
        {
            return (double)EditDistance.Between(answer, final) / Math.Max(answer.Length, final.Length);
        }
        return Words(answer, final);
    }

    /// <summary>Word-level normalised distance (exposed for tests; <see cref="Between"/> picks the level).</summary>
    public static double Words(string answer, string final)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(final);
        // Words become small integers so the table compares ints, not strings.
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var a = Tokens(answer, ids);
        var b = Tokens(final, ids);
        var longer = Math.Max(a.Length, b.Length);
        if (longer == 0) return 0;
        return (double)WordDistance(a, b, ids.Count) / longer;
    }

    private static int[] Tokens(string text, Dictionary<string, int> ids)
    {
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var tokens = new int[words.Length];
        for (var i = 0; i < words.Length; i++)
        {
            if (!ids.TryGetValue(words[i], out var id)) ids[words[i]] = id = ids.Count;
            tokens[i] = id;
        }
        return tokens;
    }

    private static int WordDistance(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int alphabet)
    {
        var prefix = 0;
        while (prefix < a.Length && prefix < b.Length && a[prefix] == b[prefix]) prefix++;
        a = a[prefix..];
        b = b[prefix..];
        var suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;
        a = a[..^suffix];
        b = b[..^suffix];
        if (a.Length == 0 || b.Length == 0) return Math.Max(a.Length, b.Length);
        if ((long)a.Length * b.Length > WordCellLimit) return LowerBound(a, b);
        return EditDistance.BetweenIds(a, b, alphabet);
    }

    /// <summary>max(n, m) − multiset intersection: every word not shared must be inserted, deleted or substituted.</summary>
    private static int LowerBound(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var counts = new Dictionary<int, int>();
        foreach (var word in a) counts[word] = counts.GetValueOrDefault(word) + 1;
        var shared = 0;
        foreach (var word in b)
        {
            if (counts.TryGetValue(word, out var left) && left > 0)
            {
                counts[word] = left - 1;
                shared++;
            }
        }
        return Math.Max(a.Length, b.Length) - shared;
    }
}
