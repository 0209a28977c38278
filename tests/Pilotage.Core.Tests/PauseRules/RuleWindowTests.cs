using Pilotage.Core.Evidence;
using Pilotage.Core.PauseRules;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.PauseRules;

public sealed class RuleWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static RuleEvent Review(string key, ReviewOutcome outcome, DateTimeOffset? at = null, bool replaces = false) =>
        RuleEvent.Review(at ?? T0, key, outcome, [], replaces: replaces);

    private static RuleEvent Request(string outcome, DateTimeOffset at) => RuleEvent.Interaction(at, outcome, null, 100, 10, 0.5m, 20);

    [Fact]
    public void A_count_window_keeps_the_last_n_and_evicts_the_oldest()
    {
        var window = new CountWindow(RuleSampleKind.Review, 3);
        window.Add(Review("a", ReviewOutcome.Rejected));
        window.Add(Review("b", ReviewOutcome.Rejected));
        Assert.False(window.Current(T0).Full);
        window.Add(Review("c", ReviewOutcome.Accepted));
        window.Add(Review("d", ReviewOutcome.Accepted)); // evicts a
        var state = window.Current(T0);
        Assert.True(state.Full);
        Assert.Equal(3, state.Totals.Reviewed);
        Assert.Equal(1, state.Totals.Rejected);
    }

    [Fact]
    public void A_newer_review_replaces_the_older_one_and_a_correction_of_an_evicted_review_is_ignored()
    {
        var window = new CountWindow(RuleSampleKind.Review, 2);
        window.Add(Review("a", ReviewOutcome.Accepted));
        window.Add(Review("a", ReviewOutcome.Rejected, replaces: true));
        Assert.Equal((1, 1), (window.Current(T0).Totals.Reviewed, window.Current(T0).Totals.Rejected));
        window.Add(Review("b", ReviewOutcome.Accepted));
        window.Add(Review("c", ReviewOutcome.Accepted)); // evicts a
        Assert.False(window.Add(Review("a", ReviewOutcome.Accepted, replaces: true)));
        Assert.Equal(0, window.Current(T0).Totals.Rejected);
    }

    [Fact]
    public void A_window_ignores_events_of_another_kind()
    {
        var window = new CountWindow(RuleSampleKind.Review, 2);
        Assert.False(window.Add(Request("served", T0)));
        Assert.Equal(0, window.Current(T0).Samples);
    }

    [Fact]
    public void Time_buckets_expire_as_the_clock_moves()
    {
        var window = new TimeWindow(RuleSampleKind.Interaction, TimeSpan.FromHours(1));
        window.Add(Request("failed", T0));
        window.Add(Request("served", T0.AddMinutes(30)));
        Assert.Equal(2, window.Current(T0.AddMinutes(59)).Totals.Requests);
        var later = window.Current(T0.AddMinutes(61));
        Assert.Equal(1, later.Totals.Requests);
        Assert.Equal(0, later.Totals.Failed);
        Assert.Equal(1, window.BucketCount);
        Assert.Equal(0, window.Current(T0.AddMinutes(95)).Samples);
        Assert.Equal(0, window.BucketCount);
        // Too old for the window when it arrives: not counted.
        Assert.False(window.Add(Request("failed", T0)));
    }

    [Fact]
    public void Reset_empties_both_kinds()
    {
        var count = new CountWindow(RuleSampleKind.Review, 2);
        count.Add(Review("a", ReviewOutcome.Rejected));
        count.Reset();
        Assert.Equal(0, count.Current(T0).Totals.Reviewed);
        var time = new TimeWindow(RuleSampleKind.Incident, TimeSpan.FromDays(1));
        time.Add(RuleEvent.Incident(T0, "high"));
        time.Reset();
        Assert.Empty(time.Current(T0).IncidentsBySeverity);
    }

    [Fact]
    public void Unsupported_metrics_get_no_window()
    {
        Assert.Null(RuleWindow.For(new PauseRuleSpec { Metric = "feedback_mean", Below = 3 }));
        Assert.IsType<TimeWindow>(RuleWindow.For(new PauseRuleSpec { Metric = "complaints", Window = "1d", Above = 5 }));
        Assert.IsType<CountWindow>(RuleWindow.For(new PauseRuleSpec { Metric = "latency_p95", Over = 20, Above = 5000 }));
        Assert.Null(RuleWindow.For(new PauseRuleSpec { Metric = "cost_per_day", Over = 10, Above = 1 }));
        Assert.IsType<TimeWindow>(RuleWindow.For(new PauseRuleSpec { Metric = "incidents_high", Above = 0 }));
        Assert.IsType<CountWindow>(RuleWindow.For(new PauseRuleSpec { Metric = "rejection_rate", Over = 50, Above = 0.3 }));
    }
}

public sealed class RuleEvaluatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static RuleWindowState Reviews(int rejected, int accepted, int size)
    {
        var window = new CountWindow(RuleSampleKind.Review, size);
        for (var i = 0; i < rejected; i++) window.Add(RuleEvent.Review(T0, $"r{i}", ReviewOutcome.Rejected, []));
        for (var i = 0; i < accepted; i++) window.Add(RuleEvent.Review(T0, $"a{i}", ReviewOutcome.Accepted, []));
        return window.Current(T0);
    }

    [Fact]
    public void Above_fires_with_the_figure_and_a_sentence()
    {
        var rule = new PauseRuleSpec { Metric = "rejection_rate", Over = 50, Above = 0.3 };
        var check = RuleEvaluator.Check(rule, Reviews(18, 32, 50));
        Assert.True(check.Fired);
        Assert.Equal(0.36, check.Figure!.Value, 6);
        Assert.Equal(50, check.N);
        Assert.Equal("rejection_rate 0.36 over the last 50 reviews is above 0.3", check.Sentence);
    }

    [Fact]
    public void Below_fires_when_the_figure_drops_under_the_bound_and_equal_does_not_fire()
    {
        var rule = new PauseRuleSpec { Metric = "acceptance_rate", Over = 4, Below = 0.5 };
        Assert.True(RuleEvaluator.Check(rule, Reviews(3, 1, 4)).Fired);
        Assert.False(RuleEvaluator.Check(rule, Reviews(2, 2, 4)).Fired);
        Assert.False(RuleEvaluator.Check(new PauseRuleSpec { Metric = "rejection_rate", Over = 4, Above = 0.5 }, Reviews(2, 2, 4)).Fired);
    }

    [Fact]
    public void A_count_window_does_not_fire_before_it_is_full()
    {
        var rule = new PauseRuleSpec { Metric = "rejection_rate", Over = 5, Above = 0.3 };
        var check = RuleEvaluator.Check(rule, Reviews(4, 0, 5));
        Assert.False(check.Fired);
        Assert.Contains("4 of its 5", check.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_time_window_needs_a_minimal_sample_for_rates_but_not_for_incidents()
    {
        var rate = new PauseRuleSpec { Metric = "error_rate", Window = "1h", Above = 0.5 };
        var window = new TimeWindow(RuleSampleKind.Interaction, TimeSpan.FromHours(1));
        for (var i = 0; i < RuleMetrics.MinimumTimeWindowSamples - 1; i++) window.Add(RuleEvent.Interaction(T0, "failed", null, 0, 0, 0, 0));
        Assert.False(RuleEvaluator.Check(rate, window.Current(T0)).Fired);
        window.Add(RuleEvent.Interaction(T0, "failed", null, 0, 0, 0, 0));
        Assert.True(RuleEvaluator.Check(rate, window.Current(T0)).Fired);

        var incidents = new PauseRuleSpec { Metric = "incidents_high", Above = 0 };
        var day = (TimeWindow)RuleWindow.For(incidents)!;
        day.Add(RuleEvent.Incident(T0, "low"));
        Assert.False(RuleEvaluator.Check(incidents, day.Current(T0)).Fired);
        day.Add(RuleEvent.Incident(T0, "high"));
        var check = RuleEvaluator.Check(incidents, day.Current(T0));
        Assert.True(check.Fired);
        Assert.Equal("incidents_high 1 over the last 1d (2 incidents) is above 0", check.Sentence);
    }

    [Fact]
    public void Cost_per_day_is_scaled_from_the_window()
    {
        var rule = new PauseRuleSpec { Metric = "cost_per_day", Window = "1h", Above = 200 };
        var window = new TimeWindow(RuleSampleKind.Interaction, TimeSpan.FromHours(1));
        window.Add(RuleEvent.Interaction(T0, "served", null, 0, 0, 10m, 5));
        var check = RuleEvaluator.Check(rule, window.Current(T0));
        Assert.True(check.Fired);
        Assert.Equal(240, check.Figure!.Value, 6);
    }
}
