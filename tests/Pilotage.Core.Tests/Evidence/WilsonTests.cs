using Pilotage.Core.Evidence;

namespace Pilotage.Core.Tests.Evidence;

public sealed class WilsonTests
{
    // Newcombe R. G. (1998), "Two-sided confidence intervals for the single proportion: comparison
    // of seven methods", Statistics in Medicine 17:857–872, Table II, method 3 (Wilson score).
    [Theory]
    [InlineData(81, 263, 0.2553, 0.3662)]
    [InlineData(15, 148, 0.0624, 0.1605)]
    [InlineData(0, 20, 0.0000, 0.1611)]
    [InlineData(1, 29, 0.0061, 0.1718)]
    public void Matches_published_Wilson_intervals(long successes, long n, double low, double high)
    {
        var (l, h) = Wilson.Interval(successes, n);
        Assert.Equal(low, l, 4);
        Assert.Equal(high, h, 4);
    }

    [Fact]
    public void A_small_pilot_does_not_clear_a_bar_that_a_large_one_does()
    {
        // 9/10 and 900/1000 are both 90 %, but only the large sample's lower bound clears 0.8.
        Assert.True(Wilson.Interval(9, 10).Low < 0.8);
        Assert.True(Wilson.Interval(900, 1000).Low > 0.8);
    }

    [Fact]
    public void No_samples_means_no_knowledge_and_bad_counts_are_refused()
    {
        Assert.Equal((0, 1), Wilson.Interval(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Wilson.Interval(3, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Wilson.Interval(-1, 2));
    }
}

public sealed class MetricCalculatorTests
{
    private static EvidenceTotals Sample()
    {
        var t = new EvidenceTotals();
        for (var i = 0; i < 10; i++) t.Add(EvidenceTotals.ForInteraction("served", null, false, 100, 50, 0.1m, 200));
        t.Add(EvidenceTotals.ForInteraction("refused", "data_boundary_blocked", false, 0, 0, 0, 1));
        t.Add(EvidenceTotals.ForInteraction("failed", "upstream_error", false, 0, 0, 0, 1));
        for (var i = 0; i < 6; i++) t.Add(EvidenceTotals.ForReview(ReviewOutcome.Accepted, 60, null, 0, false));
        t.Add(EvidenceTotals.ForReview(ReviewOutcome.Edited, 120, 0.25, 60, false));
        t.Add(EvidenceTotals.ForReview(ReviewOutcome.Edited, 120, 0.75, 180, false));
        t.Add(EvidenceTotals.ForReview(ReviewOutcome.Rejected, 30, null, 0, true));
        t.Add(EvidenceTotals.ForReview(ReviewOutcome.Escalated, 30, null, 0, false));
        t.Add(EvidenceTotals.ForFeedback(5));
        t.Add(EvidenceTotals.ForFeedback(2));
        return t;
    }

    [Fact]
    public void Rates_counts_and_means_follow_their_definitions()
    {
        var m = MetricCalculator.Compute(Sample(), new MetricContext { BaselineMinutesPerTask = 9, ReviewHourlyRate = 30, Days = 2 });
        Assert.Equal(0.6, m["acceptance_rate"].Value!.Value, 6);
        Assert.Equal(10, m["acceptance_rate"].N);
        Assert.Equal(Wilson.Interval(6, 10).Low, m["acceptance_rate"].Low!.Value, 9);
        Assert.Equal(0.2, m["edit_rate"].Value!.Value, 6);
        Assert.Equal(0.1, m["rejection_rate"].Value!.Value, 6);
        Assert.Equal(0.1, m["escalation_rate"].Value!.Value, 6);
        Assert.Equal(0.5, m["rework"].Value!.Value, 6);                 // (0.25 + 0.75) / 2 edited
        Assert.Equal(2, m["rework"].N);
        Assert.Equal(1.1, m["review_minutes_per_task"].Value!.Value, 6); // (6×60 + 2×120 + 2×30) s / 10 / 60
        // 9 − (660 s review + 240 s rework) / 60 / 10 reviewed = 9 − 1.5
        Assert.Equal(7.5, m["net_minutes_saved_per_task"].Value!.Value, 6);
        // model 1.0 + labour (900 s = 0.25 h × 30 = 7.5) over 10 tasks
        Assert.Equal(0.85, m["cost_per_task"].Value!.Value, 6);
        Assert.Equal(4.25, m["cost_per_day"].Value!.Value, 6);
        Assert.Equal(3.5, m["feedback_mean"].Value!.Value, 6);
        Assert.Equal(0.1, m["out_of_scope_rate"].Value!.Value, 6);
        Assert.Equal(1.0 / 12, m["blocked_rate"].Value!.Value, 6);
        Assert.Equal(1.0 / 11, m["error_rate"].Value!.Value, 6);         // failed over calls that went upstream
        Assert.Equal(10, m["samples"].Value!.Value, 6);
    }

    [Fact]
    public void Net_minutes_saved_can_be_negative_and_is_shown_so()
    {
        var t = new EvidenceTotals();
        t.Add(EvidenceTotals.ForReview(ReviewOutcome.Edited, 600, 0.9, 300, false));
        var m = MetricCalculator.Compute(t, new MetricContext { BaselineMinutesPerTask = 9 });
        Assert.Equal(-6, m["net_minutes_saved_per_task"].Value!.Value, 6);
    }

    [Fact]
    public void Without_evidence_figures_are_absent_not_zero_and_every_catalogue_name_is_present()
    {
        var m = MetricCalculator.Compute(new EvidenceTotals(), new MetricContext());
        Assert.Null(m["acceptance_rate"].Value);
        Assert.Equal(0, m["acceptance_rate"].N);
        Assert.Null(m["net_minutes_saved_per_task"].Value);
        foreach (var name in Pilotage.Core.Metrics.MetricCatalogue.Names)
        {
            Assert.True(m.ContainsKey(name), $"the calculator does not compute '{name}'");
        }
    }

    [Fact]
    public void Retracting_a_replaced_review_restores_the_totals_exactly()
    {
        var t = Sample();
        var before = new EvidenceTotals();
        before.Add(t);
        var old = EvidenceTotals.ForReview(ReviewOutcome.Rejected, 30, null, 0, true);
        var replacement = EvidenceTotals.ForReview(ReviewOutcome.Accepted, 45, null, 0, false);
        t.Add(old, -1);
        t.Add(replacement);
        t.Add(replacement, -1);
        t.Add(old);
        Assert.Equal(before, t);
    }
}

public sealed class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_interpolate_inside_buckets()
    {
        var counts = new long[LatencyHistogram.Bounds.Count];
        counts[LatencyHistogram.BucketOf(80)] = 50;   // (50, 100]
        counts[LatencyHistogram.BucketOf(400)] = 50;  // (250, 500]
        Assert.Equal(100, LatencyHistogram.Percentile(counts, 0.5)!.Value, 6);
        Assert.Equal(475, LatencyHistogram.Percentile(counts, 0.95)!.Value, 6);
        Assert.Null(LatencyHistogram.Percentile(new long[LatencyHistogram.Bounds.Count], 0.5));
        Assert.Equal(LatencyHistogram.Bounds.Count - 1, LatencyHistogram.BucketOf(1e9));
    }
}

public sealed class ReviewCapacityTests
{
    [Fact]
    public void A_growing_backlog_breaks_the_SLA_on_the_forecast_day()
    {
        // 5 min per task, 240 min a day = 48 tasks a day; 60 arrive a day → +12 a day.
        // SLA 24 h = 48 tasks of backlog; 24 waiting now → (48 − 24) / 12 = 2 days.
        var forecast = ReviewCapacity.Forecast(24, 3, 5, 60, 240, 24);
        Assert.Equal(1.25, forecast.Utilisation!.Value, 6);
        Assert.Equal(12, forecast.WaitHours!.Value, 6);
        Assert.Equal(2, forecast.DaysUntilBreach!.Value, 6);
        Assert.Contains("2 days", forecast.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backlog_within_capacity_holds_and_an_old_item_is_already_a_breach()
    {
        Assert.Null(ReviewCapacity.Forecast(10, 1, 5, 20, 240, 24).DaysUntilBreach);
        Assert.Equal(0, ReviewCapacity.Forecast(10, 30, 5, 20, 240, 24).DaysUntilBreach);
        Assert.Null(ReviewCapacity.Forecast(10, 1, null, 20, 240, 24).Utilisation);
        Assert.Contains("review.minutesPerDay", ReviewCapacity.Forecast(10, 1, 5, 20, null, 24).Summary, StringComparison.Ordinal);
    }
}
