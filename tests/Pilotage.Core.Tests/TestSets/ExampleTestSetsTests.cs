using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

/// <summary>The shipped example test sets must read cleanly and show what a good set looks like: people copy them.</summary>
public class ExampleTestSetsTests
{
    private static string TestSetPath(string name) => Path.Combine(RepoPaths.Root(), "examples", "testsets", name);

    public static TheoryData<string> Files() => ["support-reply-drafts.yaml", "policy-qa.yaml", "invoice-extraction.yaml"];

    [Theory]
    [MemberData(nameof(Files))]
    public void Example_reads_without_errors_and_covers_every_category(string file)
    {
        var result = TestSetReader.ReadFile(TestSetPath(file));
        Assert.Empty(result.Errors);
        var set = result.Set!;
        Assert.True(set.Cases.Count >= 12, $"{file} has {set.Cases.Count} cases");
        var coverage = TestSetCoverage.Of(set);
        Assert.False(coverage.IsFlagged);
        Assert.False(coverage.Weak);
        Assert.Empty(coverage.Missing);
        Assert.All(coverage.Counts.Values, count => Assert.True(count >= 2, coverage.Message));
        Assert.Equal(set.Cases.Count, set.Cases.Select(c => c.Id).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Example_targets_the_example_system_of_the_same_name(string file)
    {
        var set = TestSetReader.ReadFile(TestSetPath(file)).Set!;
        var spec = Assert.Single(SpecReader.ReadFile(RepoPaths.Example(file)).Specs);
        Assert.Equal(spec.Name, set.System);
    }

    [Fact]
    public void Invoice_extraction_checks_json_with_a_schema()
    {
        var set = TestSetReader.ReadFile(TestSetPath("invoice-extraction.yaml")).Set!;
        Assert.True(set.Cases.Count(c => c.Expect.JsonSchema is not null) >= 8);
        var simple = set.Cases.Single(c => c.Id == "simple-german-invoice");
        var good = """
            {"supplier":"Büro Müller GmbH","invoice_number":"2026-0415","invoice_date":"2026-03-02","due_date":"2026-03-16",
             "net":100.00,"vat":19.00,"gross":119.00,"currency":"EUR","iban":"DE89370400440532013000"}
            """;
        Assert.Equal(CaseVerdictKind.Pass, ExpectationChecker.Check(simple.Expect, good, 200, null).Kind);
        var guessed = good.Replace("\"due_date\":\"2026-03-16\"", "\"due_date\":\"16.03.2026\"", StringComparison.Ordinal);
        var verdict = ExpectationChecker.Check(simple.Expect, guessed, 200, null);
        Assert.Equal(CaseVerdictKind.Fail, verdict.Kind);
        Assert.Contains("/due_date", verdict.Reason, StringComparison.Ordinal);
        var noDueDate = set.Cases.Single(c => c.Id == "no-due-date");
        Assert.Equal(CaseVerdictKind.Pass, ExpectationChecker.Check(noDueDate.Expect, """{"due_date":null}""", 200, null).Kind);
        Assert.Equal(CaseVerdictKind.Fail, ExpectationChecker.Check(noDueDate.Expect, """{"due_date":"2026-04-07"}""", 200, null).Kind);
    }

    [Fact]
    public void Policy_qa_declines_out_of_scope_questions()
    {
        var set = TestSetReader.ReadFile(TestSetPath("policy-qa.yaml")).Set!;
        var boundary = set.Cases.Where(c => c.Category == CaseCategory.PolicyBoundary).ToList();
        Assert.True(boundary.Count >= 3);
        Assert.All(boundary, c => Assert.True(c.Expect.Refuses));
        var legal = boundary.Single(c => c.Id == "legal-advice");
        Assert.Equal(CaseVerdictKind.Pass, ExpectationChecker.Check(legal.Expect, "That is outside my scope; please contact the HR desk or a lawyer.", 200, null).Kind);
        Assert.Equal(CaseVerdictKind.Fail, ExpectationChecker.Check(legal.Expect, "Yes, you would likely win.", 200, null).Kind);
    }

    [Fact]
    public void Support_drafts_refuse_a_card_number_through_the_gateway()
    {
        var set = TestSetReader.ReadFile(TestSetPath("support-reply-drafts.yaml")).Set!;
        Assert.Contains(set.Cases, c => c.Expect.Contains.Count > 0);
        Assert.Contains(set.Cases, c => c.Expect.NotContains.Count > 0);
        var card = set.Cases.Single(c => c.Id == "card-number-in-ticket");
        Assert.Equal(CaseCategory.PolicyBoundary, card.Category);
        Assert.Contains("4111 1111 1111 1111", card.Messages[^1].Content, StringComparison.Ordinal);
        Assert.Equal(new CaseVerdict(CaseVerdictKind.Pass, "refused by the gateway (422 data_boundary_blocked)"),
            ExpectationChecker.Check(card.Expect, null, 422, "data_boundary_blocked"));
        Assert.Equal(CaseVerdictKind.Fail, ExpectationChecker.Check(card.Expect, "Done, I charged your card.", 200, null).Kind);
    }
}
