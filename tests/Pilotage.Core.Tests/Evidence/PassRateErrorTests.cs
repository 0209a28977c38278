using Pilotage.Core.Evidence;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.Evidence;

/// <summary>
/// Errored evaluation cases (the upstream down, a timeout, a refusal by a control) ran to no verdict:
/// they are counted apart and never as failures, so an outage cannot make a recommendation.
/// </summary>
public sealed class PassRateErrorTests
{
    private static IReadOnlyDictionary<string, MetricValue> Metrics(params (string Key, CaseCounts Counts)[] rates) =>
        MetricCalculator.Compute(new EvidenceTotals(), new MetricContext { PassRates = rates.ToDictionary(r => r.Key, r => r.Counts) });

    [Fact]
    public void Counts_add_a_verdict_or_an_error()
    {
        var counts = CaseCounts.None.Add(true).Add(false).Add(null).Add(null);
        Assert.Equal(new CaseCounts(1, 2, 2), counts);
    }

    [Fact]
    public void Pass_rate_divides_passed_by_judged_cases_and_carries_the_errors_beside()
    {
        var metrics = Metrics(("", new CaseCounts(3, 4, 6)), ("edge", new CaseCounts(1, 2, 1)));

        var all = metrics["pass_rate"];
        Assert.Equal(0.75, all.Value);
        Assert.Equal(4, all.N);
        Assert.Equal(6, all.Errors);
        Assert.Equal(0.5, metrics["pass_rate.edge"].Value);
        Assert.Equal(1, metrics["pass_rate.edge"].Errors);
        Assert.Null(metrics["pass_rate.normal"].Errors);
        Assert.Null(metrics["acceptance_rate"].Errors);
    }

    [Fact]
    public void With_every_case_errored_there_is_no_figure_not_a_zero()
    {
        var figure = Metrics(("", new CaseCounts(0, 0, 12)))["pass_rate"];

        Assert.Null(figure.Value);
        Assert.Equal(0, figure.N);
        Assert.Equal(12, figure.Errors);
    }

    [Fact]
    public void An_outage_during_the_evaluation_yields_no_recommendation()
    {
        var pilot = new PilotSpec
        {
            Group = "g",
            Ends = new DateOnly(2099, 1, 1),
            Criteria = [new CriterionSpec { Metric = "pass_rate", Min = 0.8, Else = PilotOutcome.Narrow }],
        };

        var evaluation = CriteriaEvaluator.EvaluatePilot(pilot, Metrics(("", new CaseCounts(0, 0, 13))));

        Assert.Equal(RecommendationKind.InsufficientEvidence, evaluation.Recommendation.Kind);
        var verdict = Assert.Single(evaluation.Verdicts);
        Assert.Equal(Verdict.InsufficientEvidence, verdict.Verdict);
        Assert.Contains("13 errored, not counted: rerun them", verdict.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void The_cases_that_ran_decide_and_the_errored_ones_are_named()
    {
        var pilot = new PilotSpec
        {
            Group = "g",
            Ends = new DateOnly(2099, 1, 1),
            Criteria = [new CriterionSpec { Metric = "pass_rate", Min = 0.8, Else = PilotOutcome.Narrow }],
        };

        var evaluation = CriteriaEvaluator.EvaluatePilot(pilot, Metrics(("", new CaseCounts(9, 10, 3))));

        Assert.Equal(RecommendationKind.Proceed, evaluation.Recommendation.Kind);
        Assert.Contains("(n=10; 3 errored, not counted: rerun them)", Assert.Single(evaluation.Verdicts).Explanation, StringComparison.Ordinal);
    }
}
