using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

public class TestSetCoverageTests
{
    private static TestSet SetOf(params CaseCategory[] categories) =>
        new("s", null, categories.Select((c, i) => new TestCase($"c{i}", [new CaseMessage("user", "q")], c, new Expectation { Human = true }, null, i + 1)).ToArray(), "s.yaml");

    [Fact]
    public void Only_normal_cases_are_flagged_as_testing_only_easy_examples()
    {
        var coverage = TestSetCoverage.Of(SetOf(CaseCategory.Normal, CaseCategory.Normal, CaseCategory.Normal));
        Assert.True(coverage.IsFlagged);
        Assert.True(coverage.Weak);
        Assert.Equal(3, coverage.Total);
        Assert.Equal(1, coverage.Covered);
        Assert.Equal(3, coverage.Counts[CaseCategory.Normal]);
        Assert.Equal(0, coverage.Counts[CaseCategory.Edge]);
        Assert.Equal("tests only easy examples: all 3 cases are normal; add edge, unclear, missing_data, policy_boundary cases, where pilots fail in production", coverage.Message);
    }

    [Fact]
    public void One_hard_case_lifts_the_flag_but_two_categories_are_weak()
    {
        var coverage = TestSetCoverage.Of(SetOf(CaseCategory.Normal, CaseCategory.Edge));
        Assert.False(coverage.IsFlagged);
        Assert.True(coverage.Weak);
        Assert.Equal([CaseCategory.Unclear, CaseCategory.MissingData, CaseCategory.PolicyBoundary], coverage.Missing);
        Assert.Equal("weak coverage: only 2 of 5 categories have a case; add unclear, missing_data, policy_boundary cases", coverage.Message);
    }

    [Fact]
    public void Hard_cases_without_normal_ones_are_not_flagged()
    {
        var coverage = TestSetCoverage.Of(SetOf(CaseCategory.Edge, CaseCategory.Unclear, CaseCategory.PolicyBoundary));
        Assert.False(coverage.IsFlagged);
        Assert.False(coverage.Weak);
        Assert.Equal("covers 3 of 5 categories; no normal, missing_data case yet", coverage.Message);
    }

    [Fact]
    public void Full_coverage()
    {
        var coverage = TestSetCoverage.Of(Enum.GetValues<CaseCategory>());
        Assert.False(coverage.IsFlagged);
        Assert.False(coverage.Weak);
        Assert.Empty(coverage.Missing);
        Assert.Equal(5, coverage.Covered);
        Assert.Equal("covers all 5 categories", coverage.Message);
    }

    [Fact]
    public void No_case_at_all_is_flagged()
    {
        var coverage = TestSetCoverage.Of([]);
        Assert.True(coverage.IsFlagged);
        Assert.Equal(5, coverage.Counts.Count);
        Assert.Equal("the test set has no case: it proves nothing", coverage.Message);
    }

    [Fact]
    public void Category_names_match_the_metric_catalogue() =>
        Assert.Equal(Metrics.MetricCatalogue.Categories, Enum.GetValues<CaseCategory>().Select(Specs.SpecEnum.ToName));
}
