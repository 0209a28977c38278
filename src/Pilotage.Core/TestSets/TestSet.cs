using Pilotage.Core.Specs;

namespace Pilotage.Core.TestSets;

/// <summary>
/// What kind of situation a case exercises. The names match <see cref="Metrics.MetricCatalogue.Categories"/>
/// (<c>normal</c>, <c>edge</c>, <c>unclear</c>, <c>missing_data</c>, <c>policy_boundary</c>) through
/// <see cref="SpecEnum"/>, so each category has its <c>pass_rate.&lt;category&gt;</c> metric.
/// </summary>
public enum CaseCategory
{
    Normal,
    Edge,
    Unclear,
    MissingData,
    PolicyBoundary,
}

/// <summary>One OpenAI chat message of a case: <c>role</c> is system, user or assistant.</summary>
public sealed record CaseMessage(string Role, string Content);

/// <summary>One test case: the conversation sent to the system, its category and what the answer must satisfy.</summary>
/// <param name="Id">Unique within its set; <c>case-N</c> (N = 1-based position) when the file gives none.</param>
/// <param name="Messages">The conversation; the last message is always from the user.</param>
/// <param name="Category">The situation it exercises.</param>
/// <param name="Expect">What the answer must satisfy.</param>
/// <param name="Note">Free text for the people reading results or grading by hand; null when absent.</param>
/// <param name="Line">1-based line of the case in its file, so a result can point back to it.</param>
public sealed record TestCase(string Id, IReadOnlyList<CaseMessage> Messages, CaseCategory Category, Expectation Expect, string? Note, int Line);

/// <summary>A validated test set.</summary>
/// <param name="Name">From <c>metadata.name</c> (YAML) or the file name without extension (JSON Lines).</param>
/// <param name="System">The AI system (its slug) the set is written for, when the file names one.</param>
/// <param name="Cases">At least one case, in file order.</param>
/// <param name="Source">The file name (or "request") it was read from.</param>
public sealed record TestSet(string Name, string? System, IReadOnlyList<TestCase> Cases, string Source);

/// <summary>
/// The result of reading a test set: the set, or every problem found (never both). Errors reuse
/// <see cref="SpecError"/> so the CLI and API show them exactly like spec errors.
/// </summary>
public sealed record TestSetReadResult(TestSet? Set, IReadOnlyList<SpecError> Errors)
{
    public bool Ok => Errors.Count == 0 && Set is not null;
}
