using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>Every metric's unit is declared once, in the catalogue, and every figure people read carries it.</summary>
public sealed class MetricUnitTests
{
    private static readonly System.Text.Json.JsonSerializerOptions Web = new(System.Text.Json.JsonSerializerDefaults.Web);

    [Fact]
    public void Every_catalogue_metric_has_a_unit_and_names_outside_have_none()
    {
        Assert.All(MetricCatalogue.Names, name => Assert.NotNull(MetricCatalogue.UnitOf(name)));
        Assert.Null(MetricCatalogue.UnitOf("happiness"));
        Assert.Null(MetricCatalogue.UnitOf(null));
    }

    [Theory]
    [InlineData("acceptance_rate", MetricUnit.Ratio, "ratio")]
    [InlineData("pass_rate.edge", MetricUnit.Ratio, "ratio")]
    [InlineData("review_minutes_per_task", MetricUnit.Minutes, "minutes")]
    [InlineData("net_minutes_saved_per_task", MetricUnit.Minutes, "minutes")]
    [InlineData("review_backlog_hours", MetricUnit.Hours, "hours")]
    [InlineData("latency_p95", MetricUnit.Milliseconds, "milliseconds")]
    [InlineData("cost_per_task", MetricUnit.Currency, "currency")]
    [InlineData("cost_per_day", MetricUnit.CurrencyPerDay, "currency_per_day")]
    [InlineData("feedback_mean", MetricUnit.Rating, "rating")]
    [InlineData("samples", MetricUnit.Count, "count")]
    public void The_catalogue_declares_each_unit(string metric, MetricUnit unit, string wire)
    {
        Assert.Equal(unit, MetricCatalogue.UnitOf(metric));
        Assert.Equal(wire, MetricUnits.Name(unit));
    }

    [Theory]
    [InlineData("acceptance_rate", 0.842, "84.2 %")]
    [InlineData("review_minutes_per_task", 3.25, "3.25 min")]
    [InlineData("review_backlog_hours", 4.5, "4.5 h")]
    [InlineData("latency_p95", 850.4, "850 ms")]
    [InlineData("cost_per_task", 0.0004, "0.0004 (currency)")]
    [InlineData("cost_per_day", 0.84, "0.84 per day")]
    [InlineData("feedback_mean", 4.2, "4.2 of 5")]
    [InlineData("review_backlog", 12, "12")]
    public void Figures_are_formatted_with_their_unit(string metric, double value, string expected) =>
        Assert.Equal(expected, MetricCatalogue.Format(metric, value));

    [Fact]
    public void Every_computed_figure_carries_its_unit_for_the_api()
    {
        var figures = MetricCalculator.Compute(new EvidenceTotals { Requests = 4, Served = 4, Reviewed = 2, Accepted = 1, ReviewSeconds = 120 }, new MetricContext());
        Assert.All(figures, f => Assert.Equal(MetricUnits.Name(MetricCatalogue.UnitOf(f.Key)!.Value), f.Value.Unit));
        Assert.Equal("minutes", figures["review_minutes_per_task"].Unit);
        var json = System.Text.Json.JsonSerializer.Serialize(figures["review_minutes_per_task"], Web);
        Assert.StartsWith("{\"value\":1,\"unit\":\"minutes\",\"n\":2", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(72, 50L, false, "72 samples, minimum 50")]
    [InlineData(1, 30L, true, "1 test case, minimum 30")]
    [InlineData(12, null, false, "12 samples")]
    [InlineData(0, 0L, false, "0 samples")]
    public void A_sample_is_counted_against_its_minimum_never_as_n_of_m(long n, long? minimum, bool testCases, string expected) =>
        Assert.Equal(expected, MetricUnits.SamplesAgainstMinimum(n, minimum, testCases));

    [Fact]
    public void A_criterion_on_minutes_says_minutes_in_its_explanation()
    {
        var verdict = CriteriaEvaluator.EvaluateCriterion(new CriterionSpec { Metric = "net_minutes_saved_per_task", Min = 1, Else = PilotOutcome.Stop },
            new Dictionary<string, MetricValue> { ["net_minutes_saved_per_task"] = new(2.5, 40) }, minSamples: 10);
        Assert.Equal("net_minutes_saved_per_task 2.5 min (n=40) meets min 1 min", verdict.Explanation);
    }
}
