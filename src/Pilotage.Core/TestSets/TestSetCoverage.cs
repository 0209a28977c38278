using Pilotage.Core.Specs;

namespace Pilotage.Core.TestSets;

/// <summary>
/// How well a test set covers the five categories. It detects the seed's "testing only easy examples"
/// mistake: a set with only normal cases says nothing about edge cases, unclear requests, missing
/// data or policy boundaries, which is where pilots fail in production.
/// </summary>
/// <param name="Counts">Cases per category; every category is present, with 0 when it has no case.</param>
/// <param name="Total">All cases.</param>
/// <param name="IsFlagged">No edge, unclear, missing_data or policy_boundary case at all: it tests only easy examples.</param>
/// <param name="Weak">Fewer than <see cref="MinCategories"/> categories have a case.</param>
/// <param name="Missing">Categories without a case, in catalogue order.</param>
/// <param name="Message">One sentence for people: what is wrong and what to add, or that coverage is complete.</param>
public sealed record TestSetCoverage(
    IReadOnlyDictionary<CaseCategory, int> Counts,
    int Total,
    bool IsFlagged,
    bool Weak,
    IReadOnlyList<CaseCategory> Missing,
    string Message)
{
    /// <summary>Below this many covered categories a set is <see cref="Weak"/>.</summary>
    public const int MinCategories = 3;

    /// <summary>Categories with at least one case.</summary>
    public int Covered => Counts.Count(c => c.Value > 0);

    public static TestSetCoverage Of(TestSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return Of(set.Cases.Select(c => c.Category));
    }

    /// <summary>Coverage of any list of case categories, e.g. of the cases an evaluation actually ran.</summary>
    public static TestSetCoverage Of(IEnumerable<CaseCategory> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var counts = Enum.GetValues<CaseCategory>().ToDictionary(c => c, _ => 0);
        foreach (var category in categories)
        {
            counts[category]++;
        }
        var total = counts.Values.Sum();
        var missing = counts.Where(c => c.Value == 0).Select(c => c.Key).ToArray();
        var hard = total - counts[CaseCategory.Normal];
        var covered = counts.Count(c => c.Value > 0);
        var flagged = hard == 0;
        var weak = covered < MinCategories;
        var names = string.Join(", ", missing.Select(SpecEnum.ToName));
        var message = (flagged, weak) switch
        {
            (true, _) when total == 0 => "the test set has no case: it proves nothing",
            (true, _) => $"tests only easy examples: all {total} cases are normal; add {names} cases, where pilots fail in production",
            (_, true) => $"weak coverage: only {covered} of 5 categories have a case; add {names} cases",
            _ when missing.Length > 0 => $"covers {covered} of 5 categories; no {names} case yet",
            _ => "covers all 5 categories",
        };
        return new TestSetCoverage(counts, total, flagged, weak, missing, message);
    }
}
