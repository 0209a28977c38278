using Pilotage.Core.Evidence;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.Pilots;

public sealed class CriteriaEvaluatorTests
{
    private static Dictionary<string, MetricValue> Metrics(params (string Name, MetricValue Value)[] figures) =>
        figures.ToDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    private static CriterionSpec Min(string metric, double min, PilotOutcome? orElse = null, string? confidence = null) =>
        new() { Metric = metric, Min = min, Else = orElse, Confidence = confidence };

    private static CriterionSpec Max(string metric, double max, PilotOutcome? orElse = null, string? confidence = null) =>
        new() { Metric = metric, Max = max, Else = orElse, Confidence = confidence };

    [Fact]
    public void A_figure_over_its_minimum_passes()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Redesign),
            Metrics(("acceptance_rate", MetricValue.Rate(180, 200))), minSamples: 200);

        Assert.Equal(Verdict.Pass, v.Verdict);
        Assert.Equal(0.9, v.Tested!.Value, 9);
        Assert.Equal(200, v.N);
        Assert.Null(v.SamplesNeeded);
        Assert.Equal("acceptance_rate 0.9 (n=200) meets min 0.8", v.Explanation);
    }

    [Fact]
    public void A_figure_under_its_minimum_fails_and_names_its_outcome()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Redesign, "lower"),
            Metrics(("acceptance_rate", new MetricValue(0.84, 212, 0.79, 0.88))), minSamples: 200);

        Assert.Equal(Verdict.Fail, v.Verdict);
        Assert.Equal(PilotOutcome.Redesign, v.Else);
        Assert.Equal(0.79, v.Tested);
        Assert.Equal("acceptance_rate 0.84 (n=212, lower bound 0.79) is below 0.8 → redesign", v.Explanation);
    }

    [Fact]
    public void A_figure_over_its_maximum_fails()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Max("incidents_high", 0, PilotOutcome.Stop),
            Metrics(("incidents_high", MetricValue.Count(2)), ("samples", MetricValue.Count(300))), minSamples: 200);

        Assert.Equal(Verdict.Fail, v.Verdict);
        Assert.Equal("incidents_high 2 (n=300) is above 0 → stop", v.Explanation);
    }

    [Fact]
    public void A_figure_is_never_printed_equal_to_the_threshold_it_fails()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Narrow),
            Metrics(("acceptance_rate", MetricValue.Rate(796, 1000))), minSamples: 0);

        Assert.Equal(Verdict.Fail, v.Verdict);
        Assert.StartsWith("acceptance_rate 0.796 (n=1000) is below 0.8", v.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_few_samples_is_its_own_verdict_with_the_number_still_needed()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Redesign),
            Metrics(("acceptance_rate", MetricValue.Rate(10, 10))), minSamples: 200);

        Assert.Equal(Verdict.InsufficientEvidence, v.Verdict);
        Assert.Equal(190, v.SamplesNeeded);
        Assert.Equal("acceptance_rate 1 (n=10) rests on too few samples: 200 needed, 190 more → keep collecting", v.Explanation);
    }

    [Fact]
    public void No_figure_at_all_is_insufficient_never_a_pass()
    {
        var noValue = CriteriaEvaluator.EvaluateCriterion(Min("net_minutes_saved_per_task", 1, PilotOutcome.Stop),
            Metrics(("net_minutes_saved_per_task", MetricValue.None(250))), minSamples: 200);
        var missing = CriteriaEvaluator.EvaluateCriterion(Min("adoption", 0.5, PilotOutcome.Narrow), Metrics(), minSamples: 200);
        var empty = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Narrow),
            Metrics(("acceptance_rate", MetricValue.Rate(0, 0))), minSamples: 0);

        Assert.Equal(Verdict.InsufficientEvidence, noValue.Verdict);
        Assert.Null(noValue.SamplesNeeded); // enough samples, no baseline: more samples would not help
        Assert.Contains("has no figure yet (n=250)", noValue.Explanation, StringComparison.Ordinal);
        Assert.Equal(Verdict.InsufficientEvidence, missing.Verdict);
        Assert.Equal(200, missing.SamplesNeeded);
        Assert.Equal("adoption was not measured: 200 samples needed, 200 more → keep collecting", missing.Explanation);
        Assert.Equal(Verdict.InsufficientEvidence, empty.Verdict);
    }

    [Theory]
    [InlineData(9, 10, "lower", Verdict.Fail)]
    [InlineData(900, 1000, "lower", Verdict.Pass)]
    [InlineData(9, 10, "point", Verdict.Pass)]
    [InlineData(9, 10, null, Verdict.Pass)]
    [InlineData(900, 1000, "point", Verdict.Pass)]
    [InlineData(9, 10, "upper", Verdict.Pass)]
    public void Nine_of_ten_is_weaker_evidence_than_nine_hundred_of_a_thousand(long accepted, long reviewed, string? confidence, Verdict expected)
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("acceptance_rate", 0.8, PilotOutcome.Repilot, confidence),
            Metrics(("acceptance_rate", MetricValue.Rate(accepted, reviewed))), minSamples: 0);

        Assert.Equal(expected, v.Verdict);
        var (low, high) = Wilson.Interval(accepted, reviewed);
        Assert.Equal(confidence switch { "lower" => low, "upper" => high, _ => 0.9 }, v.Tested!.Value, 9);
    }

    [Fact]
    public void An_upper_bound_under_a_maximum_is_the_cautious_reading()
    {
        var figures = Metrics(("rejection_rate", MetricValue.Rate(3, 20)));
        var point = CriteriaEvaluator.EvaluateCriterion(Max("rejection_rate", 0.2, PilotOutcome.Redesign), figures, 0);
        var upper = CriteriaEvaluator.EvaluateCriterion(Max("rejection_rate", 0.2, PilotOutcome.Redesign, "upper"), figures, 0);

        Assert.Equal(Verdict.Pass, point.Verdict);
        Assert.Equal(Verdict.Fail, upper.Verdict);
        Assert.Contains("upper bound 0.36) is above 0.2 → redesign", upper.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bound_asked_of_a_figure_without_an_interval_says_the_point_value_was_tested()
    {
        var v = CriteriaEvaluator.EvaluateCriterion(Min("net_minutes_saved_per_task", 1, PilotOutcome.Stop, "lower"),
            Metrics(("net_minutes_saved_per_task", new MetricValue(3.5, 300))), 200);

        Assert.Equal(Verdict.Pass, v.Verdict);
        Assert.Equal(3.5, v.Tested);
        Assert.Contains("no interval: point value tested", v.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Counts_rest_on_all_samples_not_on_themselves()
    {
        var zero = MetricValue.Count(0); // N = 0: the count, not the traffic it was observed over
        var enough = CriteriaEvaluator.EvaluateCriterion(Max("incidents_high", 0, PilotOutcome.Stop),
            Metrics(("incidents_high", zero), ("samples", MetricValue.Count(250))), 200);
        var tooFew = CriteriaEvaluator.EvaluateCriterion(Max("incidents_high", 0, PilotOutcome.Stop),
            Metrics(("incidents_high", zero), ("samples", MetricValue.Count(120))), 200);

        Assert.Equal(Verdict.Pass, enough.Verdict);
        Assert.Equal("incidents_high 0 (n=250) meets max 0", enough.Explanation);
        Assert.Equal(Verdict.InsufficientEvidence, tooFew.Verdict);
        Assert.Equal(80, tooFew.SamplesNeeded);
    }

    [Fact]
    public void Pass_rates_count_test_cases_against_their_own_minimum()
    {
        var figures = Metrics(("pass_rate.edge", MetricValue.Rate(27, 30)));
        var byDefault = CriteriaEvaluator.EvaluateCriterion(Min("pass_rate.edge", 0.7, PilotOutcome.Narrow), figures, minSamples: 200);
        var strict = CriteriaEvaluator.EvaluateCriterion(Min("pass_rate.edge", 0.7, PilotOutcome.Narrow), figures, minSamples: 200, minTestCases: 50);

        Assert.Equal(Verdict.Pass, byDefault.Verdict);
        Assert.True(byDefault.CountsTestCases);
        Assert.Equal(Verdict.InsufficientEvidence, strict.Verdict);
        Assert.Equal(20, strict.SamplesNeeded);
        Assert.Contains("too few test cases: 50 needed, 20 more", strict.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_range_criterion_passes_inside_and_fails_outside()
    {
        var range = new CriterionSpec { Metric = "edit_rate", Min = 0.05, Max = 0.4, Else = PilotOutcome.Narrow };
        var inside = CriteriaEvaluator.EvaluateCriterion(range, Metrics(("edit_rate", MetricValue.Rate(20, 100))), 0);
        var below = CriteriaEvaluator.EvaluateCriterion(range, Metrics(("edit_rate", MetricValue.Rate(1, 100))), 0);

        Assert.Equal(Verdict.Pass, inside.Verdict);
        Assert.EndsWith("is within 0.05–0.4", inside.Explanation, StringComparison.Ordinal);
        Assert.Equal(Verdict.Fail, below.Verdict);
    }

    [Fact]
    public void An_unknown_confidence_spelling_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() => CriteriaEvaluator.EvaluateCriterion(
            Min("acceptance_rate", 0.8, PilotOutcome.Stop, "Lower"), Metrics(("acceptance_rate", MetricValue.Rate(1, 1))), 0));
    }

    // ---- recommendation ----

    private static CriterionSpec Failing(PilotOutcome outcome, string metric = "acceptance_rate") => Min(metric, 0.99, outcome);

    private static readonly Dictionary<string, MetricValue> Evidence = Metrics(
        ("acceptance_rate", MetricValue.Rate(170, 200)),
        ("edit_rate", MetricValue.Rate(20, 200)),
        ("rejection_rate", MetricValue.Rate(10, 200)),
        ("escalation_rate", MetricValue.Rate(0, 200)),
        ("samples", MetricValue.Count(220)));

    [Theory]
    [InlineData(PilotOutcome.Proceed, RecommendationKind.Proceed)]
    [InlineData(PilotOutcome.Narrow, RecommendationKind.Narrow)]
    [InlineData(PilotOutcome.Repilot, RecommendationKind.Repilot)]
    [InlineData(PilotOutcome.Redesign, RecommendationKind.Redesign)]
    [InlineData(PilotOutcome.Stop, RecommendationKind.Stop)]
    public void A_single_failure_recommends_its_own_outcome(PilotOutcome outcome, RecommendationKind expected)
    {
        var result = CriteriaEvaluator.Evaluate([Min("edit_rate", 0.01, PilotOutcome.Stop), Failing(outcome)], Evidence, 100);

        Assert.Equal(expected, result.Recommendation.Kind);
        Assert.Equal(outcome, result.Recommendation.Outcome);
        Assert.Single(result.Recommendation.Because);
        Assert.StartsWith(SpecEnum.ToName(outcome) + ": acceptance_rate 0.85 (n=200) is below 0.99", result.Recommendation.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PilotOutcome.Stop, PilotOutcome.Redesign)]
    [InlineData(PilotOutcome.Redesign, PilotOutcome.Repilot)]
    [InlineData(PilotOutcome.Repilot, PilotOutcome.Narrow)]
    [InlineData(PilotOutcome.Narrow, PilotOutcome.Proceed)]
    [InlineData(PilotOutcome.Stop, PilotOutcome.Narrow)]
    public void The_most_severe_failing_outcome_wins_whatever_the_order(PilotOutcome severe, PilotOutcome milder)
    {
        foreach (var criteria in new[]
                 {
                     new[] { Failing(milder, "acceptance_rate"), Failing(severe, "edit_rate") },
                     new[] { Failing(severe, "edit_rate"), Failing(milder, "acceptance_rate") },
                 })
        {
            var recommendation = CriteriaEvaluator.Evaluate(criteria, Evidence, 100).Recommendation;
            Assert.Equal(severe, recommendation.Outcome);
            Assert.Equal("edit_rate", Assert.Single(recommendation.Because).Metric);
            Assert.Contains("(and 1 less severe failure)", recommendation.Summary, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void All_passing_recommends_proceed()
    {
        var result = CriteriaEvaluator.Evaluate(
            [Min("acceptance_rate", 0.8, PilotOutcome.Redesign), Max("rejection_rate", 0.1, PilotOutcome.Stop), Max("incidents_high", 0, PilotOutcome.Stop)],
            Evidence.Concat(Metrics(("incidents_high", MetricValue.Count(0)))).ToDictionary(), 200);

        Assert.All(result.Verdicts, v => Assert.Equal(Verdict.Pass, v.Verdict));
        Assert.Equal(RecommendationKind.Proceed, result.Recommendation.Kind);
        Assert.Equal("proceed: all 3 criteria pass", result.Recommendation.Summary);
    }

    [Fact]
    public void No_failure_but_missing_evidence_says_keep_collecting_and_how_much()
    {
        var result = CriteriaEvaluator.Evaluate(
            [Min("acceptance_rate", 0.8, PilotOutcome.Redesign), Min("pass_rate.edge", 0.7, PilotOutcome.Narrow), Max("incidents_high", 0, PilotOutcome.Stop)],
            Metrics(("acceptance_rate", MetricValue.Rate(45, 50)), ("pass_rate.edge", MetricValue.Rate(8, 10)),
                ("incidents_high", MetricValue.Count(0)), ("samples", MetricValue.Count(80))),
            minSamples: 200, minTestCases: 25);

        var r = result.Recommendation;
        Assert.Equal(RecommendationKind.InsufficientEvidence, r.Kind);
        Assert.Null(r.Outcome);
        Assert.Equal(150, r.MoreSamplesNeeded); // acceptance needs 150 more reviews, incidents 120 more samples
        Assert.Equal(15, r.MoreTestCasesNeeded);
        Assert.Equal(3, r.Because.Count);
        Assert.StartsWith("insufficient evidence: 3 of 3 criteria lack evidence; keep collecting — 150 more samples and 15 more test cases needed", r.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void When_more_samples_would_not_settle_it_the_need_is_given_as_a_floor()
    {
        var r = CriteriaEvaluator.Evaluate(
            [Min("acceptance_rate", 0.8, PilotOutcome.Redesign), Min("net_minutes_saved_per_task", 1, PilotOutcome.Stop)],
            Metrics(("acceptance_rate", MetricValue.Rate(45, 50)), ("net_minutes_saved_per_task", MetricValue.None(250))), 200).Recommendation;

        Assert.Equal(RecommendationKind.InsufficientEvidence, r.Kind);
        Assert.Equal(150, r.MoreSamplesNeeded);
        Assert.Contains("at least 150 more samples needed", r.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_decides_even_while_other_criteria_wait_for_evidence()
    {
        var r = CriteriaEvaluator.Evaluate(
            [Failing(PilotOutcome.Narrow), Min("adoption", 0.5, PilotOutcome.Stop)], Evidence, 100).Recommendation;

        Assert.Equal(RecommendationKind.Narrow, r.Kind);
        Assert.Equal("adoption", Assert.Single(r.Pending).Metric);
        Assert.EndsWith("1 criterion still lacks evidence and could ask for more", r.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_that_names_no_outcome_counts_as_stop()
    {
        var r = CriteriaEvaluator.Recommend(
            CriteriaEvaluator.Evaluate([Min("acceptance_rate", 0.99), Failing(PilotOutcome.Redesign, "edit_rate")], Evidence, 0).Verdicts);

        Assert.Equal(RecommendationKind.Stop, r.Kind);
    }

    [Fact]
    public void No_criteria_proceeds_but_says_so()
    {
        var r = CriteriaEvaluator.Evaluate([], Evidence, 0).Recommendation;

        Assert.Equal(RecommendationKind.Proceed, r.Kind);
        Assert.Contains("no criteria are defined", r.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pilot_is_evaluated_with_its_own_minimum_sample()
    {
        var pilot = new PilotSpec
        {
            Group = "support-pilot",
            Ends = new DateOnly(2026, 12, 31),
            MinSamples = 500,
            Criteria = [Min("acceptance_rate", 0.8, PilotOutcome.Redesign)],
        };

        var result = CriteriaEvaluator.EvaluatePilot(pilot, Evidence);

        Assert.Equal(Verdict.InsufficientEvidence, Assert.Single(result.Verdicts).Verdict);
        Assert.Equal(300, result.Recommendation.MoreSamplesNeeded);
    }

    // ---- rollout gates ----

    private static readonly RolloutStageSpec TeamA = new()
    {
        Name = "team-a",
        Groups = ["support-team-a"],
        Mode = ServingMode.Draft,
        MinDays = 14,
        MinSamples = 200,
        Gate = [Min("acceptance_rate", 0.85), Max("review_backlog_hours", 24)],
    };

    [Fact]
    public void A_gate_opens_when_criteria_time_and_sample_all_allow_it()
    {
        var gate = CriteriaEvaluator.EvaluateGate(TeamA,
            Metrics(("acceptance_rate", MetricValue.Rate(230, 250)), ("review_backlog_hours", new MetricValue(3, 4)), ("samples", MetricValue.Count(260))),
            TimeSpan.FromDays(15));

        Assert.True(gate.Open);
        Assert.Empty(gate.ClosedReasons);
        Assert.All(gate.Criteria, v => Assert.Equal(Verdict.Pass, v.Verdict));
        Assert.Equal("stage 'team-a' may expand: all 2 gate criteria pass; 15 days in stage (14 minimum); 260 samples (200 minimum)", gate.Summary);
    }

    [Fact]
    public void A_closed_gate_lists_every_reason_with_its_figures()
    {
        var gate = CriteriaEvaluator.EvaluateGate(TeamA,
            Metrics(("acceptance_rate", MetricValue.Rate(96, 120)), ("review_backlog_hours", new MetricValue(30, 12)), ("samples", MetricValue.Count(120))),
            TimeSpan.FromDays(9.4));

        Assert.False(gate.Open);
        Assert.Equal(
        [
            "14 days minimum, 9.4 days so far",
            "200 samples minimum, 120 so far",
            "acceptance_rate 0.8 (n=120) rests on too few samples: 200 needed, 80 more → keep collecting",
            "review_backlog_hours 30 h (n=120) rests on too few samples: 200 needed, 80 more → keep collecting",
        ], gate.ClosedReasons);
        Assert.StartsWith("stage 'team-a' may not expand yet: 14 days minimum, 9.4 days so far; ", gate.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_gate_criterion_closes_the_gate_without_naming_an_outcome()
    {
        var stage = TeamA with { Gate = [Min("acceptance_rate", 0.85, PilotOutcome.Stop)] };
        var gate = CriteriaEvaluator.EvaluateGate(stage,
            Metrics(("acceptance_rate", MetricValue.Rate(200, 250)), ("samples", MetricValue.Count(260))), TimeSpan.FromDays(20));

        Assert.False(gate.Open);
        Assert.Equal(Verdict.Fail, Assert.Single(gate.Criteria).Verdict);
        Assert.Equal(["acceptance_rate 0.8 (n=250) is below 0.85"], gate.ClosedReasons);
    }

    [Fact]
    public void Days_so_far_never_round_up_to_the_minimum()
    {
        var stage = new RolloutStageSpec { Name = "s", MinDays = 14 };
        var gate = CriteriaEvaluator.EvaluateGate(stage, Metrics(), TimeSpan.FromDays(13.99));

        Assert.False(gate.Open);
        Assert.Equal(["14 days minimum, 13.9 days so far"], gate.ClosedReasons);
    }

    [Fact]
    public void A_stage_without_gate_time_or_sample_is_open()
    {
        var gate = CriteriaEvaluator.EvaluateGate(new RolloutStageSpec { Name = "support" }, Metrics(), TimeSpan.Zero);

        Assert.True(gate.Open);
        Assert.Equal("stage 'support' may expand: no gate criteria", gate.Summary);
    }
}
