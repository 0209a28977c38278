using Pilotage.Core.Metrics;

namespace Pilotage.Core.Tests;

public class MetricCatalogueTests
{
    [Theory]
    [InlineData("acceptance_rate")]
    [InlineData("review_capacity_utilisation")]
    [InlineData("latency_p95")]
    [InlineData("incidents_critical")]
    [InlineData("pass_rate")]
    [InlineData("pass_rate.normal")]
    [InlineData("pass_rate.edge")]
    [InlineData("pass_rate.unclear")]
    [InlineData("pass_rate.missing_data")]
    [InlineData("pass_rate.policy_boundary")]
    [InlineData("samples")]
    public void Known_names_are_known(string name) => Assert.True(MetricCatalogue.IsKnown(name));

    [Theory]
    [InlineData("acceptence_rate")]
    [InlineData("Acceptance_Rate")]
    [InlineData("pass_rate.other")]
    [InlineData("pass_rate.")]
    [InlineData("")]
    [InlineData(null)]
    public void Other_names_are_not_known(string? name) => Assert.False(MetricCatalogue.IsKnown(name));

    [Fact]
    public void Names_hold_the_whole_catalogue_once()
    {
        Assert.Equal(31, MetricCatalogue.Names.Count);
        Assert.Equal(MetricCatalogue.Names.Count, MetricCatalogue.Names.Distinct().Count());
        Assert.All(MetricCatalogue.Categories, c => Assert.Contains("pass_rate." + c, MetricCatalogue.Names));
    }

    [Theory]
    [InlineData("acceptence_rate", "acceptance_rate")]
    [InlineData("Acceptance_Rate", "acceptance_rate")]
    [InlineData("latency_p99", "latency_p95")]
    [InlineData("incident_high", "incidents_high")]
    [InlineData("pass_rate.edges", "pass_rate.edge")]
    [InlineData("review_capacity_utilization", "review_capacity_utilisation")]
    [InlineData("cost_per_dya", "cost_per_day")]
    public void Suggest_finds_the_closest_name(string typo, string expected) =>
        Assert.Equal(expected, MetricCatalogue.Suggest(typo));

    [Theory]
    [InlineData("happiness")]
    [InlineData("x")]
    [InlineData("")]
    [InlineData("totally_unrelated_metric_name")]
    public void Suggest_returns_null_when_nothing_is_close(string unknown) => Assert.Null(MetricCatalogue.Suggest(unknown));

    [Theory]
    [InlineData("acceptance_rate", true)]
    [InlineData("edit_rate", true)]
    [InlineData("out_of_scope_rate", true)]
    [InlineData("error_rate", true)]
    [InlineData("adoption", true)]
    [InlineData("pass_rate", true)]
    [InlineData("pass_rate.policy_boundary", true)]
    [InlineData("rework", false)]
    [InlineData("cost_per_day", false)]
    [InlineData("feedback_mean", false)]
    [InlineData("review_capacity_utilisation", false)]
    [InlineData("samples", false)]
    [InlineData("unknown_rate", false)]
    public void IsRate_is_true_for_proportions_only(string name, bool expected) =>
        Assert.Equal(expected, MetricCatalogue.IsRate(name));
}
