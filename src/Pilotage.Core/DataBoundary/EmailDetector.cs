using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// E-mail addresses, pragmatically: a local part, '@', dotted domain labels and an alphabetic
/// top-level domain. Letters and digits of any script count, so internationalised addresses are found.
/// </summary>
internal sealed partial class EmailDetector() : Detector(Email)
{
    // The '@' after the local-part loop lets the engine search for the literal first, which keeps
    // long texts without addresses linear.
    [GeneratedRegex(
        @"[\p{L}\p{M}\p{N}._%+'-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.\p{L}{2,63}(?![\p{L}\p{N}-])",
        RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    /// <summary>addresses hold no whitespace: the stream never cuts inside one.</summary>
    public override int LongestMatch => 0;

    public override bool MayMatch(in TextProfile profile) => profile.HasAt;

    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink)
    {
        foreach (var match in Address().EnumerateMatches(text))
        {
            Add(ref sink, index, match.Index, match.Length);
        }
    }
}
