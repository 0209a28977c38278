using System.Text;
using Pilotage.Cli.Pilots;
using Pilotage.Core.TestSets;

namespace Pilotage.Cli.Tests;

/// <summary>How <c>pilotage eval</c> judges one gateway answer, whatever the model put in it.</summary>
public sealed class EvalJudgeTests
{
    private static TestCase RefundCase() =>
        TestSetReader.Read("""{"id":"refund","prompt":"Can I get a refund?","category":"normal","expect":{"contains":["refund"]}}""", "cases.jsonl").Set!.Cases.Single();

    private static CaseOutcome Judge(string answer) => EvalRunner.Judge(RefundCase(), 200, Encoding.UTF8.GetBytes(answer), "ix-1");

    [Fact]
    public void An_answer_with_the_expected_text_passes_and_one_without_fails()
    {
        Assert.Equal(CaseVerdictKind.Pass, Judge("""{"choices":[{"message":{"role":"assistant","content":"We will refund it."}}]}""").Verdict.Kind);
        Assert.Equal(CaseVerdictKind.Fail, Judge("""{"choices":[{"message":{"role":"assistant","content":"No."}}]}""").Verdict.Kind);
    }

    [Fact]
    public void An_answer_holding_half_a_surrogate_pair_is_an_error_verdict_not_a_crash()
    {
        var outcome = Judge("""{"choices":[{"message":{"role":"assistant","content":"refund \ud800"}}]}""");
        Assert.Equal(CaseVerdictKind.Error, outcome.Verdict.Kind);
        Assert.Contains("surrogate", outcome.Verdict.Reason, StringComparison.Ordinal);
    }
}
