using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Payment card numbers: 13–19 digits, written together or in groups of at least three digits separated
/// by one separator each (normalised: space, dash, dot, slash or underscore, in any mix), that pass the
/// Luhn check, start with a card network's issuer digit (2–6) and are not part of a longer digit run.
/// </summary>
internal sealed partial class CreditCardDetector() : Detector(CreditCard)
{
    internal const int MinDigits = 13;
    private const int MaxDigits = 19;
    /// <summary>Groups of one or two digits read as tables or amounts, not as a card someone typed.</summary>
    private const int MinGroupDigits = 3;
    private const int MaxGroups = 32;

    // A whole run of digit groups; which part of it is a card is decided in code, by group. No
    // alternatives that overlap, so the engine never backtracks.
    [GeneratedRegex("(?<![0-9])[0-9]+(?:[ ./_-][0-9]+)*", RegexOptions.CultureInvariant)]
    private static partial Regex Run();

    /// <summary>19 digits and 18 separators.</summary>
    public override int LongestMatch => 40;

    public override bool MayMatch(in TextProfile profile) => profile.LongestDigitRun >= MinDigits;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in Run().EnumerateMatches(text))
        {
            if (match.Length < MinDigits)
            {
                continue; // most numbers in a text: too short to hold a card even without separators
            }
            FindInRun(text.Slice(match.Index, match.Length), match.Index, index, ref sink);
        }
    }

    private static void FindInRun(ReadOnlySpan<char> run, int offset, int index, ref List<Finding>? sink)
    {
        // Groups as (start, length) within the run; a run is a sequence of digit groups with one separator between.
        Span<(int Start, int Length)> groups = stackalloc (int, int)[MaxGroups];
        var count = 0;
        var start = 0;
        for (var i = 0; i <= run.Length; i++)
        {
            if (i == run.Length || !char.IsAsciiDigit(run[i]))
            {
                if (count == MaxGroups)
                {
                    return; // dozens of groups is a table of numbers, not a card
                }
                groups[count++] = (start, i - start);
                start = i + 1;
            }
        }

        var first = 0;
        while (first < count)
        {
            var found = LongestCardFrom(run, groups[..count], first);
            if (found < 0)
            {
                first++;
                continue;
            }
            var from = groups[first].Start;
            var to = groups[found].Start + groups[found].Length;
            Add(ref sink, index, offset + from, to - from);
            first = found + 1;
        }
    }

    /// <summary>Index of the last group of the longest Luhn-valid card starting at group <paramref name="first"/>, or -1.</summary>
    private static int LongestCardFrom(ReadOnlySpan<char> run, ReadOnlySpan<(int Start, int Length)> groups, int first)
    {
        // Extend while the window stays a plausible way of writing one number: real groups, not a table of
        // one- and two-digit figures. Separators may differ: mixing them is a way of hiding a number.
        var last = first;
        var digits = groups[first].Length;
        while (last + 1 < groups.Length && digits + groups[last + 1].Length <= MaxDigits)
        {
            var next = groups[last + 1];
            if (next.Length < MinGroupDigits || groups[first].Length < MinGroupDigits)
            {
                break;
            }
            last++;
            digits += next.Length;
        }
        for (; last >= first; last--)
        {
            if (digits is >= MinDigits and <= MaxDigits)
            {
                var end = groups[last].Start + groups[last].Length;
                // Issuer prefixes of the card networks start with 2 to 6 (Mastercard 2-series, Amex, Visa,
                // Mastercard, Discover/UnionPay/Maestro): a 13-digit millisecond timestamp starting with 1 is not a card.
                if (run[groups[first].Start] is >= '2' and <= '6' && Checksums.Luhn(run[groups[first].Start..end]))
                {
                    return last;
                }
            }
            digits -= groups[last].Length;
        }
        return -1;
    }
}
