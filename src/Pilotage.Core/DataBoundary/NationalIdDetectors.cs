using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// US Social Security numbers written in three groups (<c>123-45-6789</c>, any normalised separator, the
/// same one twice) whose parts the SSA can issue: area not 000, 666 or 900–999, group not 00, serial not
/// 0000. Nine digits written together are left alone: without the groups they are any number.
/// </summary>
internal sealed partial class UsSsnDetector() : Detector(UsSsn)
{
    [GeneratedRegex(@"(?<![0-9][ ./_-]?)([0-9]{3})([ ./_-])([0-9]{2})\2([0-9]{4})(?![ ./_-]?[0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    /// <summary>"123-45-6789" with any separator.</summary>
    public override int LongestMatch => 11;

    /// <summary>The digits of the three groups.</summary>
    internal const int MinDigits = 9;

    public override bool MayMatch(in TextProfile profile) => profile.LongestDigitRun >= MinDigits;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in Candidate().EnumerateMatches(text))
        {
            // The match is exactly "ddd", a separator, "dd", the same separator, "dddd".
            var number = text.Slice(match.Index, match.Length);
            var area = int.Parse(number[..3], provider: null);
            var group = int.Parse(number.Slice(4, 2), provider: null);
            var serial = int.Parse(number[7..], provider: null);
            if (area is 0 or 666 or >= 900 || group == 0 || serial == 0)
            {
                continue;
            }
            Add(ref sink, index, match.Index, match.Length);
        }
    }
}

/// <summary>
/// UK National Insurance numbers: two prefix letters from the issuable set (not D, F, I, Q, U or V; O not
/// second; not BG, GB, KN, NK, NT, TN or ZZ), six digits in pairs or together, and a suffix letter A–D.
/// Upper case, as HMRC writes them: lower-case letter pairs are too common in prose.
/// </summary>
internal sealed partial class UkNinoDetector() : Detector(UkNino)
{
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][ ./_-]?[0-9]{2}[ ./_-]?[0-9]{2}[ ./_-]?[0-9]{2}[ ./_-]?[A-D](?![A-Za-z0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    /// <summary>"QQ 12 34 56 C".</summary>
    public override int LongestMatch => 13;

    /// <summary>The six digits between the letters.</summary>
    internal const int MinDigits = 6;

    public override bool MayMatch(in TextProfile profile) => profile.LongestDigitRun >= MinDigits && profile.HasCapitalBeforeDigit;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in Candidate().EnumerateMatches(text))
        {
            Add(ref sink, index, match.Index, match.Length);
        }
    }
}

/// <summary>
/// EU VAT identification numbers with their country prefix, for the member states whose numbers carry a
/// check digit Pilotage verifies (see <see cref="VatNumbers"/>): a prefix and digits that fail the check
/// are an order number, not a VAT number.
/// </summary>
internal sealed partial class EuVatDetector() : Detector(EuVat)
{
    // The prefix, then up to 14 characters of digits (and the letters some formats use) with single separators.
    [GeneratedRegex(@"(?<![A-Za-z0-9])(ATU|BE|DE|DK|ES|FI|FR|IT|LU|NL|PL|PT|SE)[ ./_-]?([0-9A-Z](?:[ ./_-]?[0-9A-Z]){7,13})(?![A-Za-z0-9])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    /// <summary>a prefix, 14 characters and their separators.</summary>
    public override int LongestMatch => 32;

    /// <summary>The fewest digits in one run of digit groups a VAT number is read in.</summary>
    internal const int MinDigits = 7;

    public override bool MayMatch(in TextProfile profile) => profile.LongestDigitRun >= MinDigits && profile.HasCapitalBeforeDigit;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        Span<char> compact = stackalloc char[32];
        foreach (var match in Candidate().EnumerateMatches(text))
        {
            // The match is a prefix (ATU is the only one of three letters, and no other starts with AT), perhaps a
            // separator, then the number.
            var candidate = text.Slice(match.Index, match.Length);
            var prefix = candidate.StartsWith("ATU") ? candidate[..3] : candidate[..2];
            var length = 0;
            foreach (var c in candidate[prefix.Length..])
            {
                if (!Checksums.Separators.Contains(c))
                {
                    compact[length++] = c;
                }
            }
            if (VatNumbers.IsValid(prefix, compact[..length]))
            {
                Add(ref sink, index, match.Index, match.Length);
            }
        }
    }
}
