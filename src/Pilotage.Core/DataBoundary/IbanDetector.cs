using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// International bank account numbers (ISO 13616): country code, two check digits and up to 30
/// alphanumerics, written compact or in groups of four (any normalised separator); any case. A candidate counts only when it
/// passes mod-97 and, for a country in the table, has that country's length.
/// </summary>
internal sealed partial class IbanDetector() : Detector(Iban)
{
    internal const int MinLength = 15;
    private const int MaxLength = 34;

    /// <summary>IBAN lengths of the SEPA countries and a few other common ones (SWIFT IBAN registry).</summary>
    private static readonly FrozenDictionary<string, int> Lengths = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase)
    {
        ["AD"] = 24, ["AE"] = 23, ["AT"] = 20, ["BE"] = 16, ["BG"] = 22, ["BH"] = 22, ["BR"] = 29,
        ["CH"] = 21, ["CY"] = 28, ["CZ"] = 24, ["DE"] = 22, ["DK"] = 18, ["EE"] = 20, ["ES"] = 24,
        ["FI"] = 18, ["FO"] = 18, ["FR"] = 27, ["GB"] = 22, ["GI"] = 23, ["GL"] = 18, ["GR"] = 27,
        ["HR"] = 21, ["HU"] = 28, ["IE"] = 22, ["IL"] = 23, ["IS"] = 26, ["IT"] = 27, ["LI"] = 21,
        ["LT"] = 20, ["LU"] = 20, ["LV"] = 21, ["MC"] = 27, ["MT"] = 31, ["NL"] = 18, ["NO"] = 15,
        ["PL"] = 28, ["PT"] = 25, ["QA"] = 29, ["RO"] = 24, ["SA"] = 24, ["SE"] = 24, ["SI"] = 19,
        ["SK"] = 24, ["SM"] = 27, ["TR"] = 26, ["UA"] = 29, ["VA"] = 22,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> LengthsBySpan =
        Lengths.GetAlternateLookup<ReadOnlySpan<char>>();

    // Compact, or "CCdd" then space-separated groups of four with a shorter last group. The grouped
    // form may swallow a short word after the number; Find retries at group boundaries for that.
    [GeneratedRegex(
        "\\G[A-Za-z]{2}[0-9]{2}(?:[A-Za-z0-9]{11,30}|(?:[ ./_-][A-Za-z0-9]{4}){2,7}(?:[ ./_-][A-Za-z0-9]{1,4})?)(?![0-9A-Za-z])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    /// <summary>34 characters and 8 separators.</summary>
    public override int LongestMatch => 48;

    public override bool MayMatch(in TextProfile profile) => profile.HasIbanStart && profile.Length >= MinLength;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        // Two letters then two digits: found from the digits, which are rare in prose, with the regex anchored
        // at the letters (\G). Letting the regex look for two letters followed by digits at every position of a
        // 4 KB prompt cost ten times the rest of the boundary.
        var span = text;
        for (var i = AsciiDigits.IndexOf(span); i >= 0 && i + 1 < span.Length; i = NextDigit(span, i + 1))
        {
            if (i < 2 || !char.IsAsciiDigit(span[i + 1]) || !char.IsAsciiLetter(span[i - 1]) || !char.IsAsciiLetter(span[i - 2])
                || (i >= 3 && char.IsAsciiLetterOrDigit(span[i - 3])))
            {
                continue;
            }
            foreach (var match in Candidate().EnumerateMatches(text, i - 2))
            {
                if (match.Index == i - 2)
                {
                    AddValid(ref sink, index, text, match);
                }
                break;
            }
        }
    }

    private static int NextDigit(ReadOnlySpan<char> span, int from)
    {
        var next = AsciiDigits.IndexOf(span[from..]);
        return next < 0 ? -1 : from + next;
    }

    private static void AddValid(ref List<Finding>? sink, int index, ReadOnlySpan<char> text, ValueMatch match)
    {
        var candidate = text.Slice(match.Index, match.Length);
        // Longest first, cutting at the spaces between groups; compact candidates have one try.
        var end = candidate.Length;
        while (end >= MinLength)
        {
            if (IsValid(candidate[..end]))
            {
                Add(ref sink, index, match.Index, end);
                break;
            }
            end = candidate[..end].LastIndexOfAny(Checksums.Separators);
        }
    }

    internal static bool IsValid(ReadOnlySpan<char> candidate)
    {
        var length = candidate.Length - Checksums.CountSeparators(candidate);
        if (length is < MinLength or > MaxLength)
        {
            return false;
        }
        if (LengthsBySpan.TryGetValue(candidate[..2], out var expected) && expected != length)
        {
            return false;
        }
        // Check digits 00, 01 and 99 cannot come out of the ISO 7064 computation.
        var check = ((candidate[2] - '0') * 10) + (candidate[3] - '0');
        return check is >= 2 and <= 98 && Checksums.IbanMod97(candidate);
    }
}
