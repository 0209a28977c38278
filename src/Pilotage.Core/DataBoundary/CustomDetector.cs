using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>A detector declared in the spec as a regular expression; every non-empty match is a hit.</summary>
internal sealed class CustomDetector : Detector
{
    private readonly Regex regex;

    public CustomDetector(string name, string pattern, TimeSpan timeout)
        : base(name)
    {
        // Compiled once per policy (policies live until the next state change), bounded in time because
        // a spec author can write a catastrophically backtracking pattern.
        regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, timeout);
    }

    public override bool MayMatch(in TextProfile profile) => true;

    public override void Find(string text, int index, ref List<Finding>? sink)
    {
        foreach (var match in regex.EnumerateMatches(text))
        {
            // Empty matches (a pattern like "x*") mark no data, only positions.
            if (match.Length > 0)
            {
                Add(ref sink, index, match.Index, match.Length);
            }
        }
    }
}
