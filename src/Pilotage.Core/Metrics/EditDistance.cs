using System.Buffers;

namespace Pilotage.Core.Metrics;

/// <summary>
/// Levenshtein distance, for "did you mean" suggestions on metric names and spec fields, and for
/// <see cref="Evidence.Rework"/> (over UTF-16 characters, or over words as integer ids).
/// </summary>
/// <remarks>
/// Computed bit-parallel (Myers 1999, in Hyyrö's form for the whole-text distance, in blocks of 64 rows for
/// longer texts): one column of the table is a few machine words updated with a handful of logical operations
/// per text character, not one cell at a time, and nothing is allocated for texts of a few hundred characters.
/// Every imported edited row computes it, so it was a fifth of an import's CPU as the plain table. The plain
/// table stays as <see cref="Table{T}"/>, the reference the tests compare against.
/// </remarks>
internal static class EditDistance
{
    private const int Word = 64;

    // Small tables live on the stack; larger ones come from the pool.
    private const int StackWords = 256;

    public static int Between(string a, string b) => Between(a.AsSpan(), b.AsSpan());

    /// <summary>Over UTF-16 characters (a surrogate pair is two), exactly as <see cref="Table{T}"/> counts.</summary>
    public static int Between(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        if (Narrow(ref a, ref b)) return b.Length;
        var patternRented = a.Length > StackWords ? ArrayPool<int>.Shared.Rent(a.Length) : null;
        var textRented = b.Length > StackWords ? ArrayPool<int>.Shared.Rent(b.Length) : null;
        try
        {
            Span<int> pattern = patternRented is null ? stackalloc int[StackWords] : patternRented;
            Span<int> text = textRented is null ? stackalloc int[StackWords] : textRented;
            pattern = pattern[..a.Length];
            text = text[..b.Length];
            // Characters become dense ids of the pattern's alphabet; a text character not in the pattern is -1.
            Span<int> ascii = stackalloc int[128];
            ascii.Fill(-1);
            Dictionary<char, int>? other = null;
            var alphabet = 0;
            for (var i = 0; i < a.Length; i++)
            {
                var c = a[i];
                if (c < 128)
                {
                    if (ascii[c] < 0) ascii[c] = alphabet++;
                    pattern[i] = ascii[c];
                }
                else
                {
                    other ??= [];
                    if (!other.TryGetValue(c, out var id)) other[c] = id = alphabet++;
                    pattern[i] = id;
                }
            }
            for (var j = 0; j < b.Length; j++)
            {
                var c = b[j];
                text[j] = c < 128 ? ascii[c] : other is not null && other.TryGetValue(c, out var id) ? id : -1;
            }
            return Distance(pattern, alphabet, text);
        }
        finally
        {
            if (patternRented is not null) ArrayPool<int>.Shared.Return(patternRented);
            if (textRented is not null) ArrayPool<int>.Shared.Return(textRented);
        }
    }

    /// <summary>Over sequences of ids, each in [0, <paramref name="alphabet"/>) (words numbered by <see cref="Evidence.Rework"/>).</summary>
    public static int BetweenIds(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int alphabet)
    {
        if (Narrow(ref a, ref b)) return b.Length;
        // Renumbered densely over the pattern's own ids, so the table of matches is as small as the pattern.
        var dense = ArrayPool<int>.Shared.Rent(alphabet);
        var pattern = ArrayPool<int>.Shared.Rent(a.Length);
        var text = ArrayPool<int>.Shared.Rent(b.Length);
        try
        {
            dense.AsSpan(0, alphabet).Fill(-1);
            var count = 0;
            for (var i = 0; i < a.Length; i++)
            {
                ref var id = ref dense[a[i]];
                if (id < 0) id = count++;
                pattern[i] = id;
            }
            for (var j = 0; j < b.Length; j++) text[j] = dense[b[j]];
            return Distance(pattern.AsSpan(0, a.Length), count, text.AsSpan(0, b.Length));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(dense);
            ArrayPool<int>.Shared.Return(pattern);
            ArrayPool<int>.Shared.Return(text);
        }
    }

    /// <summary>The plain dynamic-programming table, two rows at a time: the definition the bit-parallel form must equal.</summary>
    public static int Table<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : IEquatable<T>
    {
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

    /// <summary>A common prefix and suffix never change the distance.</summary>
    /// <summary>
    /// Trims the common start and end (they cost nothing) and puts the shorter side first, as the pattern: fewer blocks
    /// of 64 rows. True when the shorter side is then empty, and the distance is the other side's length.
    /// </summary>
    private static bool Narrow<T>(ref ReadOnlySpan<T> a, ref ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        Trim(ref a, ref b);
        if (a.Length > b.Length)
        {
            var swap = a;
            a = b;
            b = swap;
        }
        return a.Length == 0;
    }

    private static void Trim<T>(ref ReadOnlySpan<T> a, ref ReadOnlySpan<T> b) where T : IEquatable<T>
    {
        var prefix = a.CommonPrefixLength(b);
        a = a[prefix..];
        b = b[prefix..];
        var suffix = 0;
        while (suffix < a.Length && suffix < b.Length && a[^(suffix + 1)].Equals(b[^(suffix + 1)])) suffix++;
        a = a[..^suffix];
        b = b[..^suffix];
    }

    /// <summary>
    /// D[m][n] for a non-empty pattern of dense ids in [0, <paramref name="alphabet"/>) and a non-empty text of ids
    /// (−1: in no position of the pattern). Each block of 64 rows keeps the column's vertical differences as two bit
    /// vectors (+1 and −1); a text character advances every block, the horizontal difference leaving a block's last
    /// row entering the next one, and the score follows the pattern's last row.
    /// </summary>
    private static int Distance(ReadOnlySpan<int> pattern, int alphabet, ReadOnlySpan<int> text)
    {
        var m = pattern.Length;
        var blocks = (m + Word - 1) / Word;
        var peqWords = alphabet * blocks;
        var peqRented = peqWords > StackWords ? ArrayPool<ulong>.Shared.Rent(peqWords) : null;
        var vectorsRented = blocks * 2 > StackWords ? ArrayPool<ulong>.Shared.Rent(blocks * 2) : null;
        try
        {
            Span<ulong> peq = peqRented is null ? stackalloc ulong[StackWords] : peqRented;
            Span<ulong> vectors = vectorsRented is null ? stackalloc ulong[StackWords] : vectorsRented;
            peq = peq[..peqWords];
            peq.Clear();
            // Peq[symbol, block]: bit r set where the pattern holds the symbol at row block·64 + r.
            for (var i = 0; i < m; i++) peq[pattern[i] * blocks + i / Word] |= 1UL << (i % Word);
            var pv = vectors[..blocks];
            var mv = vectors.Slice(blocks, blocks);
            pv.Fill(ulong.MaxValue);
            mv.Clear();
            var last = blocks - 1;
            var lastBit = 1UL << ((m - 1) % Word);
            var score = m;
            foreach (var symbol in text)
            {
                var eqs = symbol < 0 ? default : peq.Slice(symbol * blocks, blocks);
                // The table's first row is 0, 1, 2, …: it enters the first block as +1.
                var hin = 1;
                for (var b = 0; b < blocks; b++)
                {
                    var eq = symbol < 0 ? 0UL : eqs[b];
                    var p = pv[b];
                    var n = mv[b];
                    var hinNegative = hin < 0 ? 1UL : 0UL;
                    var hinPositive = hin > 0 ? 1UL : 0UL;
                    var xv = eq | n;
                    eq |= hinNegative;
                    var xh = (unchecked((eq & p) + p) ^ p) | eq;
                    var ph = n | ~(xh | p);
                    var mh = p & xh;
                    if (b == last)
                    {
                        if ((ph & lastBit) != 0) score++;
                        else if ((mh & lastBit) != 0) score--;
                    }
                    var hout = (ph >> (Word - 1)) != 0 ? 1 : (mh >> (Word - 1)) != 0 ? -1 : 0;
                    ph = (ph << 1) | hinPositive;
                    mh = (mh << 1) | hinNegative;
                    pv[b] = mh | ~(xv | ph);
                    mv[b] = ph & xv;
                    hin = hout;
                }
            }
            return score;
        }
        finally
        {
            if (peqRented is not null) ArrayPool<ulong>.Shared.Return(peqRented);
            if (vectorsRented is not null) ArrayPool<ulong>.Shared.Return(vectorsRented);
        }
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
