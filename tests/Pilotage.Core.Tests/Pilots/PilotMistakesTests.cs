using Pilotage.Core.Evidence;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;
using M = Pilotage.Core.Pilots.PilotMistakes;

namespace Pilotage.Core.Tests.Pilots;

public sealed class PilotMistakesTests
{
    private static ReadinessFacts Ready => PilotFixtures.Ready();

    private static MistakeWarning? Find(ReadinessFacts facts, string id) => M.Detect(facts).SingleOrDefault(w => w.Id == id);

    private static Dictionary<string, MetricValue> With(ReadinessFacts f, string metric, MetricValue value) =>
        new(f.Metrics, StringComparer.Ordinal) { [metric] = value };

    private static readonly RolloutStageSpec TeamA = PilotFixtures.Spec.Rollout[0];

    [Fact]
    public void The_six_mistakes_carry_the_seeds_titles()
    {
        Assert.Equal(
            ["Judging by excitement", "Skipping ownership", "Testing only easy examples", "Ignoring human review capacity", "Expanding too quickly", "Missing pause rules"],
            M.Catalogue.Select(m => m.Title));
        Assert.Equal(6, M.Catalogue.Select(m => m.Id).Distinct().Count());
    }

    [Fact]
    public void A_well_run_pilot_makes_none_of_them_even_when_users_love_it()
    {
        var facts = Ready with { Expansion = new ExpansionRequest("team-a", null) };

        Assert.True(facts.Metrics["feedback_mean"].Value >= 4);
        Assert.Empty(M.Detect(facts));
    }

    [Fact]
    public void Everything_wrong_at_once_finds_all_six_in_the_seeds_order()
    {
        var facts = new ReadinessFacts
        {
            Metrics = new Dictionary<string, MetricValue> { ["feedback_mean"] = new MetricValue(4.6, 40), ["acceptance_rate"] = MetricValue.Rate(30, 60) },
            Mode = ServingMode.Draft,
            Expansion = new ExpansionRequest("team-a", null),
        };

        var found = M.Detect(facts);

        Assert.Equal(M.Catalogue.Select(m => m.Id), found.Select(w => w.Id));
        Assert.All(found, w => Assert.Equal(M.Catalogue.Single(m => m.Id == w.Id).Why, w.Why));
    }

    // ---- judging by excitement ----

    [Fact]
    public void Excitement_with_a_failing_quality_criterion_is_flagged_with_both_figures()
    {
        var f = Ready with { Metrics = With(Ready, "acceptance_rate", new MetricValue(0.72, 212, 0.66, 0.78)) };
        f = f with { Criteria = CriteriaEvaluator.Evaluate(f.PilotCriteria, f.Metrics, 200) };

        var w = Find(f, M.JudgingByExcitement);

        Assert.NotNull(w);
        Assert.Equal("Judging by excitement", w.Title);
        Assert.Equal("feedback averages 4.4 of 5 (n=90), but acceptance_rate 0.72 (n=212) is below 0.8 → redesign", w.Detail);
    }

    [Fact]
    public void Excitement_is_judged_against_the_quality_floor_when_no_criterion_covers_the_figure()
    {
        var f = Ready with { Metrics = With(Ready, "pass_rate", MetricValue.Rate(66, 120)) };

        var w = Find(f, M.JudgingByExcitement);

        Assert.NotNull(w);
        Assert.Contains("pass_rate 0.55 (n=120) is below 0.7", w.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Weak_quality_without_excitement_or_excitement_with_good_quality_is_not_this_mistake()
    {
        var lukewarm = Ready with { Metrics = With(Ready, "feedback_mean", new MetricValue(3.2, 90)) };
        lukewarm = lukewarm with { Metrics = With(lukewarm, "pass_rate", MetricValue.Rate(50, 120)) };
        var noFeedback = Ready with { Metrics = With(Ready, "feedback_mean", MetricValue.None()) };
        noFeedback = noFeedback with { Metrics = With(noFeedback, "pass_rate", MetricValue.Rate(50, 120)) };

        Assert.Null(Find(lukewarm, M.JudgingByExcitement));
        Assert.Null(Find(noFeedback, M.JudgingByExcitement));
        Assert.Null(Find(Ready, M.JudgingByExcitement));
    }

    // ---- skipping ownership ----

    [Theory]
    [InlineData(null, OwnerStatus.Active, "no owner is set")]
    [InlineData("dana@example.org", OwnerStatus.Inactive, "the owner dana@example.org is no longer an active user")]
    [InlineData("dana@example.org", OwnerStatus.Unknown, "the owner dana@example.org is not a known user")]
    public void An_absent_inactive_or_unknown_owner_is_skipped_ownership(string? owner, OwnerStatus status, string detail)
    {
        var w = Find(Ready with { Owner = owner, OwnerStatus = status }, M.SkippingOwnership);

        Assert.NotNull(w);
        Assert.StartsWith(detail, w.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void An_active_owner_is_ownership()
    {
        Assert.Null(Find(Ready, M.SkippingOwnership));
    }

    // ---- testing only easy examples ----

    [Theory]
    [InlineData("only normal cases", "all 60 test cases are normal; none edge, unclear, missing_data or policy_boundary")]
    [InlineData("two categories", "test cases cover 2 of 5 categories (normal, edge); missing unclear, missing_data, policy_boundary")]
    [InlineData("little real traffic", "real traffic is 7.7% of what was evaluated (10 real interactions vs 120 test cases)")]
    [InlineData("nothing evaluated", "test cases cover 0 of 5 categories; missing normal, edge, unclear, missing_data, policy_boundary")]
    public void Narrow_or_selected_examples_are_flagged(string change, string detail)
    {
        var w = Find(ReadinessAssessmentTests.Change(Ready, change), M.TestingOnlyEasyExamples);

        Assert.NotNull(w);
        Assert.Equal(detail, w.Detail);
    }

    [Fact]
    public void Three_categories_with_real_traffic_are_enough()
    {
        var f = Ready with { TestCasesByCategory = new Dictionary<string, long> { ["normal"] = 20, ["edge"] = 10, ["policy_boundary"] = 5 } };

        Assert.Null(Find(f, M.TestingOnlyEasyExamples));
    }

    // ---- ignoring review capacity ----

    [Fact]
    public void A_review_sla_already_broken_is_flagged()
    {
        var f = Ready with { ReviewForecast = ReviewCapacity.Forecast(300, 40, 2, 150, 240, 24) };

        var w = Find(f, M.IgnoringReviewCapacity);

        Assert.NotNull(w);
        Assert.StartsWith("the review SLA is already broken: the review SLA of 24 h is already broken", w.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_review_sla_breaking_within_two_weeks_is_flagged_and_one_breaking_later_is_not()
    {
        // 240 min/day at 2 min per task: 120 tasks a day of capacity, 24 h SLA.
        var soon = Ready with { ReviewForecast = ReviewCapacity.Forecast(10, 1, 2, 130, 240, 24) };   // grows 10/day: breaks in 11 days
        var later = Ready with { ReviewForecast = ReviewCapacity.Forecast(10, 1, 2, 125, 240, 24) };  // grows 5/day: breaks in 22 days

        var w = Find(soon, M.IgnoringReviewCapacity);
        Assert.NotNull(w);
        Assert.StartsWith("the review SLA breaks in 11 days at the current rate", w.Detail, StringComparison.Ordinal);
        Assert.Null(Find(later, M.IgnoringReviewCapacity));
    }

    [Fact]
    public void A_review_mode_without_review_capacity_is_flagged()
    {
        var f = Ready with { Review = Ready.Review with { MinutesPerDay = null }, ReviewForecast = null };

        var w = Find(f, M.IgnoringReviewCapacity);

        Assert.NotNull(w);
        Assert.Equal("draft mode expects every answer reviewed, but no review capacity is set (spec.review.minutesPerDay)", w.Detail);
    }

    [Fact]
    public void Full_mode_without_review_capacity_needs_none()
    {
        var f = Ready with
        {
            Mode = ServingMode.Full,
            Rollout = [TeamA with { Mode = ServingMode.ReadOnly }],
            Review = new ReviewSpec(),
            ReviewForecast = null,
        };

        Assert.Null(Find(f, M.IgnoringReviewCapacity));
        Assert.Null(Find(Ready, M.IgnoringReviewCapacity));
    }

    // ---- expanding too quickly ----

    [Fact]
    public void Expanding_through_a_closed_gate_is_flagged_with_its_reasons()
    {
        var gate = CriteriaEvaluator.EvaluateGate(TeamA,
            new Dictionary<string, MetricValue> { ["acceptance_rate"] = MetricValue.Rate(230, 250), ["review_backlog_hours"] = new MetricValue(2, 3), ["samples"] = MetricValue.Count(260) },
            TimeSpan.FromDays(9));

        var w = Find(Ready with { Expansion = new ExpansionRequest("support", gate) }, M.ExpandingTooQuickly);

        Assert.NotNull(w);
        Assert.Equal("expansion to 'support' asked for while the gate of 'team-a' is closed: 14 days minimum, 9 days so far", w.Detail);
    }

    [Fact]
    public void Leaving_the_pilot_against_its_evidence_is_flagged()
    {
        var early = Ready with { Criteria = CriteriaEvaluator.Evaluate(Ready.PilotCriteria, Ready.Metrics, 1000), Expansion = new ExpansionRequest("team-a", null) };
        var blind = Ready with { Criteria = null, Expansion = new ExpansionRequest("team-a", null) };

        Assert.StartsWith("expansion to 'team-a' asked for while the pilot evidence says otherwise: insufficient evidence",
            Find(early, M.ExpandingTooQuickly)?.Detail, StringComparison.Ordinal);
        Assert.Equal("expansion to 'team-a' asked for before the pilot criteria were evaluated", Find(blind, M.ExpandingTooQuickly)?.Detail);
    }

    [Fact]
    public void Expanding_through_an_open_gate_or_not_expanding_is_fine()
    {
        var open = CriteriaEvaluator.EvaluateGate(TeamA,
            new Dictionary<string, MetricValue> { ["acceptance_rate"] = MetricValue.Rate(230, 250), ["review_backlog_hours"] = new MetricValue(2, 3), ["samples"] = MetricValue.Count(260) },
            TimeSpan.FromDays(15));

        Assert.Null(Find(Ready with { Expansion = new ExpansionRequest("support", open) }, M.ExpandingTooQuickly));
        Assert.Null(Find(Ready with { Expansion = null }, M.ExpandingTooQuickly));
    }

    // ---- missing pause rules ----

    [Fact]
    public void No_pause_rules_or_none_on_quality_is_flagged()
    {
        var none = Find(Ready with { PauseRules = [] }, M.MissingPauseRules);
        var costOnly = Find(Ready with { PauseRules = [PilotFixtures.Spec.PauseRules[2]] }, M.MissingPauseRules);

        Assert.NotNull(none);
        Assert.StartsWith("no pause rules are defined", none.Detail, StringComparison.Ordinal);
        Assert.NotNull(costOnly);
        Assert.StartsWith("the 1 pause rule watches only cost_per_day", costOnly.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rejection_rate")]
    [InlineData("incidents_high")]
    [InlineData("pass_rate.edge")]
    [InlineData("complaints")]
    public void One_pause_rule_on_quality_or_harm_is_enough(string metric)
    {
        var f = Ready with { PauseRules = [new PauseRuleSpec { Metric = metric, Above = 0.3 }] };

        Assert.Null(Find(f, M.MissingPauseRules));
    }
}
