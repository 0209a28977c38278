using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;
using Pilotage.Core.PauseRules;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.PauseRules;

/// <summary>
/// Nothing is silently ignored: every catalogue metric is either watched by pause rules or refused in
/// one at apply, with its line; and the metrics pause rules watch (complaints and latency among them)
/// really fire.
/// </summary>
public sealed class PauseRuleMetricTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Catalogue() => new(MetricCatalogue.Names);

    [Theory]
    [MemberData(nameof(Catalogue))]
    public void Every_metric_is_either_watched_by_a_window_or_refused_at_apply_with_its_line(string metric)
    {
        var yaml = SpecYaml.With($"  pauseRules:\n    - {{ metric: {metric}, window: 1d, above: 0.5 }}");
        var result = SpecReader.Read(yaml, "spec.yaml");
        var rule = new PauseRuleSpec { Metric = metric, Window = "1d", Above = 0.5 };

        if (MetricCatalogue.IsPauseRuleMetric(metric))
        {
            Assert.True(result.Ok, string.Join("\n", result.Errors));
            Assert.NotNull(RuleMetrics.KindOf(metric));
            Assert.NotNull(RuleWindow.For(rule));
            Assert.Null(MetricCatalogue.WhyNotInPauseRules(metric));
        }
        else
        {
            var error = Assert.Single(result.Errors);
            Assert.Equal("spec.pauseRules[0].metric", error.Path);
            Assert.Equal((12, 17), (error.Line, error.Column));
            Assert.StartsWith($"a pause rule cannot watch {metric}: ", error.Message, StringComparison.Ordinal);
            Assert.Contains("complaints", error.Message, StringComparison.Ordinal); // the list of what works
            Assert.Null(RuleMetrics.KindOf(metric));
            Assert.Null(RuleWindow.For(rule));
        }
    }

    [Fact]
    public void Every_metric_remains_usable_in_pilot_criteria()
    {
        foreach (var metric in MetricCatalogue.Names)
        {
            var result = SpecReader.Read(SpecYaml.With($"  pilot:\n    group: g\n    ends: 2099-01-01\n    criteria:\n      - {{ metric: {metric}, min: 0, else: stop }}"), "spec.yaml");
            Assert.True(result.Ok, metric + ": " + string.Join("\n", result.Errors));
        }
    }

    [Fact]
    public void Cost_per_day_over_a_count_is_refused_at_the_over_field()
    {
        var error = Assert.Single(SpecReader.Read(SpecYaml.With("  pauseRules:\n    - { metric: cost_per_day, over: 50, above: 100 }"), "spec.yaml").Errors);
        Assert.Equal("spec.pauseRules[0].over", error.Path);
        Assert.Contains("needs a time window", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_policy_example_watches_complaints_and_applies()
    {
        var spec = Assert.Single(SpecReader.ReadFile(RepoPaths.Example("policy-qa.yaml")).Specs);
        var complaints = Assert.Single(spec.PauseRules, r => r.Metric == "complaints");
        Assert.True(RuleMetrics.IsSupported(complaints));
    }

    [Fact]
    public void Complaints_fire_a_rule_over_a_day_without_a_minimum_sample()
    {
        var rule = new PauseRuleSpec { Metric = "complaints", Window = "1d", Above = 2 };
        var window = RuleWindow.For(rule)!;
        window.Add(RuleEvent.Incident(T0, "high")); // an incident is not a complaint
        window.Add(RuleEvent.Complaint(T0));
        window.Add(RuleEvent.Complaint(T0.AddMinutes(5)));
        var quiet = RuleEvaluator.Check(rule, window.Current(T0.AddMinutes(6)));
        Assert.False(quiet.Fired);
        Assert.Equal(2, quiet.Figure);

        window.Add(RuleEvent.Complaint(T0.AddMinutes(10)));
        var check = RuleEvaluator.Check(rule, window.Current(T0.AddMinutes(11)));
        Assert.True(check.Fired);
        Assert.Equal("complaints 3 over the last 1d (3 complaints) is above 2", check.Sentence);
        // A day later they have aged out.
        Assert.False(RuleEvaluator.Check(rule, window.Current(T0.AddDays(1).AddMinutes(11))).Fired);
    }

    [Fact]
    public void Latency_percentiles_count_answers_only_and_fire_on_slow_ones()
    {
        var rule = new PauseRuleSpec { Metric = "latency_p95", Over = 10, Above = 5000 };
        var window = RuleWindow.For(rule)!;
        for (var i = 0; i < 5; i++) window.Add(RuleEvent.Interaction(T0, "refused", "data_boundary_blocked", 0, 0, 0, 1));
        for (var i = 0; i < 9; i++) window.Add(RuleEvent.Interaction(T0, "served", null, 10, 10, 0, 200));
        var notFull = RuleEvaluator.Check(rule, window.Current(T0));
        Assert.False(notFull.Fired);
        Assert.Contains("9 of its 10 answers", notFull.Sentence, StringComparison.Ordinal);

        window.Add(RuleEvent.Interaction(T0, "served", null, 10, 10, 0, 20_000));
        var fast = RuleEvaluator.Check(rule, window.Current(T0));
        Assert.Equal(10, fast.N);
        for (var i = 0; i < 3; i++) window.Add(RuleEvent.Interaction(T0, "served", null, 10, 10, 0, 20_000));
        var slow = RuleEvaluator.Check(rule, window.Current(T0));
        Assert.True(slow.Fired, slow.Sentence);
        Assert.StartsWith("latency_p95 ", slow.Sentence, StringComparison.Ordinal);
        Assert.Contains("over the last 10 answers is above 5000", slow.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_latency_time_window_seeded_from_hourly_buckets_fires_like_a_live_one()
    {
        var rule = new PauseRuleSpec { Metric = "latency_p50", Window = "1h", Above = 1000 };
        var window = (TimeWindow)RuleWindow.For(rule)!;
        var buckets = new long[LatencyHistogram.Bounds.Count];
        buckets[LatencyHistogram.BucketOf(2500)] = 12;
        window.AddTotals(T0, new EvidenceTotals(), 12, buckets);

        var check = RuleEvaluator.Check(rule, window.Current(T0.AddMinutes(1)));

        Assert.True(check.Fired, check.Sentence);
        Assert.Equal(12, check.N);
        Assert.False(RuleEvaluator.Check(rule, window.Current(T0.AddMinutes(61))).Fired);
    }
}
