using Pilotage.Core.Specs;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>A raw finding, before overlaps between detectors are resolved.</summary>
/// <param name="Detector">Index of the detector in its policy.</param>
internal readonly record struct Finding(int Detector, int Start, int Length)
{
    public int End => Start + Length;
}

/// <summary>
/// Facts about a text that are cheap to compute once and let detectors skip texts they cannot match,
/// so the regexes only run where they have a chance.
/// </summary>
internal readonly struct TextProfile
{
    /// <summary>Digits are only counted up to this: no detector needs to know more.</summary>
    private const int DigitCap = 13;

    public TextProfile(ReadOnlySpan<char> span)
    {
        var digits = 0;
        var longestRun = 0;
        var ibanStart = false;
        var capitalBeforeDigit = false;
        var runStart = 0;
        var longRunsStart = -1;
        var longRunsEnd = 0;
        var first = AsciiDigits.IndexOf(span);
        if (first >= 0)
        {
            // Digits in all, and the most digits in one run of digit groups joined by at most three separator
            // characters ("(555) 123-4567", "4111 1111 1111 1111", "+49 (0) (30) 1234"): no card, SSN, phone or NINO
            // fits in less. Three is the most a phone has between two of its digits, the ") (" after "(0)".
            var run = 0;
            var gap = 0;
            for (var i = first; i < span.Length; i++)
            {
                var c = span[i];
                if (char.IsAsciiDigit(c))
                {
                    // Two letters, then this digit and another, with no letter or digit before them: where an IBAN
                    // begins (see IbanDetector.Find, which looks for nothing else). Only a run's first digit has a letter before it.
                    ibanStart |= i >= 2 && char.IsAsciiLetter(span[i - 1]) && char.IsAsciiLetter(span[i - 2]) && i + 1 < span.Length
                        && char.IsAsciiDigit(span[i + 1]) && (i < 3 || !char.IsAsciiLetterOrDigit(span[i - 3]));
                    capitalBeforeDigit |= i >= 1 && (char.IsAsciiLetterUpper(span[i - 1])
                        || (i >= 2 && IsIdSeparator(span[i - 1]) && char.IsAsciiLetterUpper(span[i - 2])));
                    digits++;
                    if (run == 0)
                    {
                        runStart = i;
                    }
                    run++;
                    gap = 0;
                    if (run > longestRun)
                    {
                        longestRun = run;
                    }
                    if (run >= LongRunDigits)
                    {
                        longRunsStart = longRunsStart < 0 ? runStart : longRunsStart;
                        longRunsEnd = i + 1;
                    }
                }
                else if (run > 0 && gap < 3 && IsRunSeparator(c))
                {
                    gap++;
                }
                else
                {
                    run = 0;
                    gap = 0;
                    var next = AsciiDigits.IndexOf(span[(i + 1)..]);
                    if (next < 0)
                    {
                        break;
                    }
                    i += next;
                }
            }
        }
        Digits = Math.Min(digits, DigitCap);
        LongestDigitRun = longestRun;
        HasIbanStart = ibanStart;
        HasCapitalBeforeDigit = capitalBeforeDigit;
        FirstAt = span.IndexOf('@');
        Length = span.Length;
        LongRunsStart = Math.Max(longRunsStart, 0);
        LongRunsEnd = longRunsEnd;
    }

    /// <summary>
    /// The same profile, from what a walk that visits the text's runs of digits anyway learnt of them (the normalisation's,
    /// see <see cref="Normalized"/>): only a run's first digit can have a letter before it, and two runs join when at most
    /// three run separators stand between them, so the runs and their gaps say all the character by character walk says.
    /// Tests compare the two.
    /// </summary>
    internal TextProfile(int digits, int longestRun, bool ibanStart, bool capitalBeforeDigit, int firstAt, int length, int longRunsStart, int longRunsEnd)
    {
        LongRunsStart = Math.Max(longRunsStart, 0);
        LongRunsEnd = longRunsEnd;
        Digits = Math.Min(digits, DigitCap);
        LongestDigitRun = longestRun;
        HasIbanStart = ibanStart;
        HasCapitalBeforeDigit = capitalBeforeDigit;
        FirstAt = firstAt;
        Length = length;
    }

    // Tested one character at a time, where a pattern compiles to a few comparisons and a SearchValues set to a call.
    private static bool IsRunSeparator(char c) => c is ' ' or '-' or '.' or '/' or '_' or '(' or ')' or '+';

    /// <summary>The single separator a VAT or NI number may have between its letters and its digits.</summary>
    private static bool IsIdSeparator(char c) => c is ' ' or '.' or '/' or '_' or '-';

    /// <summary>
    /// True when a digit follows a capital letter, directly or across one separator. The first digit of a UK NI number
    /// or of an EU VAT number always does: before it stand only the number's capital letters (prefix, and the letters
    /// some VAT formats have) and at most one separator after each. Prose writes its numbers after lower-case words.
    /// </summary>
    public bool HasCapitalBeforeDigit { get; }

    /// <summary>Runs of digit groups with at least this many digits are long: a phone number needs as many.</summary>
    public const int LongRunDigits = 7;

    /// <summary>Where the first long run of digit groups (see <see cref="LongRunDigits"/>) begins: its first digit; 0 when none.</summary>
    public int LongRunsStart { get; }

    /// <summary>Where the last long run of digit groups ends: after its last digit; 0 when none.</summary>
    public int LongRunsEnd { get; }

    /// <summary>The most digits in one run of digit groups (groups joined by at most three separators).</summary>
    public int LongestDigitRun { get; }

    /// <summary>True when two letters and two digits stand where an IBAN can begin (not after a letter or digit).</summary>
    public bool HasIbanStart { get; }

    /// <summary>Number of ASCII digits, capped at 13.</summary>
    public int Digits { get; }
    public bool HasAt => FirstAt >= 0;

    /// <summary>Where the first '@' is; -1 when there is none.</summary>
    public int FirstAt { get; }

    public int Length { get; }

    /// <summary>
    /// Which of the built-in detectors' needs (see <see cref="ProfileNeeds"/>) this text meets, all in one value: the scan
    /// tests each detector's need against it with one AND, where asking each detector (<see cref="Detector.MayMatch"/>, a
    /// virtual call per detector and text) cost as much as the loop around it. Held to every built-in's MayMatch by tests.
    /// </summary>
    public ProfileNeeds Met
    {
        get
        {
            var run = LongestDigitRun;
            var capital = HasCapitalBeforeDigit;
            var met = ProfileNeeds.Anything;
            met |= run >= LongRunDigits ? ProfileNeeds.DigitRun7 : 0;
            met |= run >= UsSsnDetector.MinDigits ? ProfileNeeds.DigitRun9 : 0;
            met |= run >= CreditCardDetector.MinDigits ? ProfileNeeds.DigitRun13 : 0;
            met |= capital && run >= UkNinoDetector.MinDigits ? ProfileNeeds.CapitalDigitRun6 : 0;
            met |= capital && run >= EuVatDetector.MinDigits ? ProfileNeeds.CapitalDigitRun7 : 0;
            met |= HasIbanStart && Length >= IbanDetector.MinLength ? ProfileNeeds.IbanStart : 0;
            met |= FirstAt >= 0 ? ProfileNeeds.At : 0;
            met |= Length >= SecretDetector.MinLength ? ProfileNeeds.SecretLength : 0;
            return met;
        }
    }
}

/// <summary>
/// What a detector needs of a text's <see cref="TextProfile"/> to have a chance of a hit there, one bit each: the need of
/// a built-in detector is its <see cref="Detector.MayMatch"/> written as a bit of <see cref="TextProfile.Met"/>, and a
/// text where the bit is not set holds none of its hits. A custom pattern needs <see cref="Anything"/>, which every text meets.
/// </summary>
[Flags]
internal enum ProfileNeeds : ushort
{
    None = 0,

    /// <summary>Met by every text: custom patterns, which may match anything.</summary>
    Anything = 1,

    /// <summary>A run of digit groups with at least 7 digits: a phone.</summary>
    DigitRun7 = 1 << 1,

    /// <summary>At least 9: a US SSN.</summary>
    DigitRun9 = 1 << 2,

    /// <summary>At least 13: a card.</summary>
    DigitRun13 = 1 << 3,

    /// <summary>A digit after a capital letter and a run of at least 6 digits: a UK NINO.</summary>
    CapitalDigitRun6 = 1 << 4,

    /// <summary>A digit after a capital letter and a run of at least 7 digits: an EU VAT number.</summary>
    CapitalDigitRun7 = 1 << 5,

    /// <summary>Where an IBAN can begin, in a text of an IBAN's least length.</summary>
    IbanStart = 1 << 6,

    /// <summary>An '@': an e-mail address.</summary>
    At = 1 << 7,

    /// <summary>As long as the shortest secret.</summary>
    SecretLength = 1 << 8,

    /// <summary>Every bit: the scan without shortcuts runs every detector on every text.</summary>
    All = (1 << 9) - 1,
}

/// <summary>Which <see cref="ProfileNeeds"/> bit each detector reads.</summary>
internal static class DetectorNeeds
{
    /// <summary>The need of <paramref name="detector"/>: the bit of <see cref="TextProfile.Met"/> its MayMatch reads.</summary>
    public static ProfileNeeds Of(Detector detector) => detector switch
    {
        CreditCardDetector => ProfileNeeds.DigitRun13,
        IbanDetector => ProfileNeeds.IbanStart,
        EmailDetector => ProfileNeeds.At,
        PhoneDetector => ProfileNeeds.DigitRun7,
        SecretDetector => ProfileNeeds.SecretLength,
        UsSsnDetector => ProfileNeeds.DigitRun9,
        UkNinoDetector => ProfileNeeds.CapitalDigitRun6,
        EuVatDetector => ProfileNeeds.CapitalDigitRun7,
        _ => ProfileNeeds.Anything,
    };
}

/// <summary>
/// Finds spans of one kind of sensitive data in a text. Implementations are immutable and
/// thread-safe: a policy shares them across all concurrent requests.
/// </summary>
/// <remarks>
/// Built-in detectors run with no timeout, so their result never depends on how busy the machine is: each one's
/// time is linear in the text by construction. Every built-in pattern either has a bounded length with bounded
/// lookarounds (a constant cost per start position: IBAN, SSN, NINO, VAT, the token formats, the phone number's
/// look-behind at an IBAN-shaped run, bounded to the longest IBAN), or starts with a loop over a set that cannot
/// match what follows it, which the engine makes atomic and skips past when a match fails (card digit runs, e-mail
/// local parts, JWT parts, private key bodies); none nests quantifiers over overlapping sets. A new pattern must keep
/// to that; the scan bench's adversarial inputs check that the cost per character stays flat as texts grow.
/// </remarks>
internal abstract class Detector(string name)
{
    public const string CreditCard = DetectorNames.CreditCard;
    public const string Iban = DetectorNames.Iban;
    public const string Email = DetectorNames.Email;
    public const string Phone = DetectorNames.Phone;
    public const string Secret = DetectorNames.Secret;
    public const string UsSsn = DetectorNames.UsSsn;
    public const string UkNino = DetectorNames.UkNino;
    public const string EuVat = DetectorNames.EuVat;

    public string Name { get; } = name;

    /// <summary>
    /// A weak detector yields to every other one on overlap: phone-shaped digit runs are the least
    /// specific finding, and a card or IBAN number must not be reported as a phone.
    /// </summary>
    public virtual bool Weak => false;

    /// <summary>
    /// The longest stretch of normalised text, whitespace included, a hit can span; a streamed answer holds back
    /// this much (see <see cref="StreamingRedactor"/>). A hit without whitespace (an address, a token) is covered
    /// whatever its length, since the stream never cuts inside a run of non-whitespace characters.
    /// </summary>
    public abstract int LongestMatch { get; }

    /// <summary>False when the text cannot hold a hit, so the scan is skipped.</summary>
    public abstract bool MayMatch(in TextProfile profile);

    /// <summary>Adds this detector's findings to <paramref name="sink"/>, creating it on the first one.</summary>
    /// <exception cref="RegexMatchTimeoutException">a timed custom pattern ran out of time; the caller fails closed.</exception>
    public abstract void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink);

    /// <summary>
    /// As <see cref="Find"/>, told what <paramref name="profile"/> (the text's own) says of where a hit can be: a detector
    /// that knows its hits lie only in some part of the text reads only that part.
    /// </summary>
    public virtual void FindInProfiledText(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, in TextProfile profile) => Find(text, index, ref sink);

    /// <summary>
    /// As <see cref="Find"/>, with none of the detector's own shortcuts: the scan without shortcuts
    /// (<see cref="DataBoundaryPolicy.ScanWithoutShortcuts"/>) calls it, so that tests compare the two.
    /// </summary>
    public virtual void FindWithoutShortcuts(ReadOnlySpan<char> text, int index, ref List<Finding>? sink) => Find(text, index, ref sink);

    protected static void Add(ref List<Finding>? sink, int index, int start, int length) =>
        (sink ??= []).Add(new Finding(index, start, length));
}
