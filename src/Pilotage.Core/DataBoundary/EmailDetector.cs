using System.Globalization;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// E-mail addresses, pragmatically: a local part, '@', dotted domain labels and an alphabetic
/// top-level domain. Letters and digits of any script count, so internationalised addresses are found.
/// </summary>
/// <remarks>
/// <see cref="Address"/> says what an address is; <see cref="Find"/> reads the same matches by hand around each '@'
/// (a vectorised search), with no regex engine to start on a text that holds one: property tests hold the two equal.
/// </remarks>
internal sealed partial class EmailDetector() : Detector(Email)
{
    // The '@' after the local-part loop lets the engine search for the literal first, which keeps
    // long texts without addresses linear.
    [GeneratedRegex(
        @"[\p{L}\p{M}\p{N}._%+'-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}{2,63}(?![\p{L}\p{N}-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    /// <summary>The most letters the top-level domain's <c>\p{L}{2,63}</c> takes.</summary>
    private const int LongestTopLevel = 63;

    /// <summary>addresses hold no whitespace: the stream never cuts inside one.</summary>
    public override int LongestMatch => 0;

    public override bool MayMatch(in TextProfile profile) => profile.HasAt;

    /// <summary>
    /// The matches of <see cref="Address"/>, leftmost first, each search resuming where the last match ended. The local
    /// part holds no '@', so a match's '@' is the first one after its start: the match of an '@' starts at the first
    /// character of the run of local-part characters before it (not before the end of the previous match), and its
    /// domain is read forwards, the way the pattern backtracks (see <see cref="DomainEnd"/>).
    /// </summary>
    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink) =>
        FindFrom(text, text.IndexOf('@'), index, ref sink);

    /// <summary>As <see cref="Find"/>, from the first '@' the text's own profile found (no second search up to it).</summary>
    public override void FindInProfiledText(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, in TextProfile profile) =>
        FindFrom(text, profile.Length == text.Length ? profile.FirstAt : text.IndexOf('@'), index, ref sink);

    /// <summary>The matches in <paramref name="text"/>, whose first '@' is at <paramref name="firstAt"/> (-1: none).</summary>
    private static void FindFrom(ReadOnlySpan<char> text, int firstAt, int index, ref List<Finding>? sink)
    {
        var previousEnd = 0;
        for (var at = firstAt; at >= 0;)
        {
            var start = at;
            while (start > previousEnd && IsLocalPart(text[start - 1]))
            {
                start--;
            }
            var end = start < at ? DomainEnd(text, at + 1) : -1;
            if (end > 0)
            {
                Add(ref sink, index, start, end - start);
                previousEnd = end;
            }
            var next = text[(at + 1)..].IndexOf('@');
            at = next < 0 ? -1 : at + 1 + next;
        }
    }

    /// <summary>The pattern itself: what <see cref="Find"/> must equal.</summary>
    public override void FindWithoutShortcuts(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in Address().EnumerateMatches(text))
        {
            Add(ref sink, index, match.Index, match.Length);
        }
    }

    /// <summary>
    /// Where the domain that starts at <paramref name="from"/> ends, or -1 when there is none. The pattern's labels are
    /// the maximal runs of domain characters joined by single dots (giving a label back leaves a domain character, not
    /// a dot, in front of the next <c>\.</c>); it backtracks from the most labels to the fewest, so the top-level domain
    /// is the last label after the first one that begins with 2 to 63 letters followed by neither a letter, a digit nor
    /// a '-'.
    /// </summary>
    private static int DomainEnd(ReadOnlySpan<char> text, int from)
    {
        var pos = from;
        while (pos < text.Length && IsDomain(text[pos]))
        {
            pos++;
        }
        if (pos == from)
        {
            return -1;
        }
        var end = -1;
        while (pos + 1 < text.Length && text[pos] == '.' && IsDomain(text[pos + 1]))
        {
            var label = pos + 1;
            var letters = label;
            while (letters < text.Length && letters - label <= LongestTopLevel && IsLetter(text[letters]))
            {
                letters++;
            }
            if (letters - label is >= 2 and <= LongestTopLevel && (letters == text.Length || !IsDigitOrDash(text[letters])))
            {
                end = letters;
            }
            pos = letters;
            while (pos < text.Length && IsDomain(text[pos]))
            {
                pos++;
            }
        }
        return end;
    }

    /// <summary>What a character can be in an address, as the pattern's classes read it.</summary>
    [Flags]
    private enum Role : byte
    {
        None = 0,
        /// <summary><c>[\p{L}\p{M}\p{N}._%+'-]</c></summary>
        LocalPart = 1,
        /// <summary><c>[\p{L}\p{M}\p{N}-]</c></summary>
        Domain = 2,
        /// <summary><c>\p{L}</c>, one UTF-16 unit at a time as the regex reads it (a surrogate is no letter).</summary>
        Letter = 4,
        /// <summary><c>[\p{N}-]</c>: what may not follow the top-level domain's letters (a letter cannot: they are all taken).</summary>
        DigitOrDash = 8,
    }

    /// <summary>The roles of the ASCII characters, one byte each: letters 7, digits and '-' 11, ". _ % + '" 1.</summary>
    private static ReadOnlySpan<byte> AsciiRoles =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 11, 1, 0,
        11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 0, 0, 0, 0, 0, 0,
        0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 1,
        0, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0,
    ];

    private static Role RoleOf(char c) => c < 128 ? (Role)AsciiRoles[c] : char.GetUnicodeCategory(c) switch
    {
        <= UnicodeCategory.OtherLetter => Role.LocalPart | Role.Domain | Role.Letter,
        <= UnicodeCategory.EnclosingMark => Role.LocalPart | Role.Domain,
        <= UnicodeCategory.OtherNumber => Role.LocalPart | Role.Domain | Role.DigitOrDash,
        _ => Role.None,
    };

    private static bool IsLocalPart(char c) => (RoleOf(c) & Role.LocalPart) != 0;

    private static bool IsDomain(char c) => (RoleOf(c) & Role.Domain) != 0;

    private static bool IsLetter(char c) => (RoleOf(c) & Role.Letter) != 0;

    private static bool IsDigitOrDash(char c) => (RoleOf(c) & Role.DigitOrDash) != 0;
}
