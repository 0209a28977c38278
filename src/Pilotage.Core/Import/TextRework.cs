namespace Pilotage.Core.Import;

/// <summary>
/// Rework of an edited answer: the normalised edit distance between the AI's answer and the final
/// text (Levenshtein edits ÷ length of the longer text): 0 untouched, 1 rewritten.
/// </summary>
public static class TextRework
{
    /// <summary>Above this many cells (≈ 1000 × 1000 characters) the character table is too slow for a bulk import; words are compared instead.</summary>
    internal const long MaxCells = 1_000_000;

    public static double Between(string answer, string final)
    {
        if (string.Equals(answer, final, StringComparison.Ordinal)) return 0;
        var longer = Math.Max(answer.Length, final.Length);
        var (start, end) = Common(answer, final);
        var a = answer.AsSpan(start, answer.Length - start - end);
        var b = final.AsSpan(start, final.Length - start - end);
        if (a.Length == 0 || b.Length == 0) return (double)Math.Max(a.Length, b.Length) / longer;
        if ((long)a.Length * b.Length <= MaxCells) return (double)Levenshtein(a, b) / longer;

        // Long texts: the same measure over words (edits ÷ words of the longer text).
        var wordsA = Words(answer);
        var wordsB = Words(final);
        var longerWords = Math.Max(wordsA.Length, wordsB.Length);
        if (longerWords == 0) return 1;
        if ((long)wordsA.Length * wordsB.Length <= MaxCells) return (double)Levenshtein(wordsA, wordsB) / longerWords;
        // Beyond even that: everything between the common start and end counts as rewritten (an upper bound).
        return (double)Math.Max(a.Length, b.Length) / longer;
    }

    /// <summary>Lengths of the common start and the common end (not overlapping it).</summary>
    private static (int Prefix, int Suffix) Common(string a, string b)
    {
        var prefix = a.AsSpan().CommonPrefixLength(b);
        var suffix = 0;
        while (suffix < a.Length - prefix && suffix < b.Length - prefix && a[^(suffix + 1)] == b[^(suffix + 1)]) suffix++;
        return (prefix, suffix);
    }

    private static string[] Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static int Levenshtein<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        if (b.Length > a.Length)
        {
            var swap = a;
            a = b;
            b = swap;
        }
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var ai = a[i - 1];
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = ai.Equals(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    private static int Levenshtein(string[] a, string[] b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
