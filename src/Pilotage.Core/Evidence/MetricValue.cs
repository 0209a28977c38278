using System.Text.Json.Serialization;

namespace Pilotage.Core.Evidence;

/// <summary>
/// One figure of the catalogue with its sample count and, for rates, its 95 % Wilson bounds: the shape
/// <c>{"value","n","low","high"}</c> of the metrics API. A null value means "no evidence yet", never zero.
/// </summary>
/// <param name="Errors">For <c>pass_rate*</c> only: evaluation cases that errored (upstream failure, timeout,
/// refusal by a control). They ran to no verdict, so they are not in <paramref name="N"/> nor in the value.</param>
public sealed record MetricValue(
    [property: JsonPropertyOrder(0)] double? Value,
    [property: JsonPropertyOrder(2)] long N,
    [property: JsonPropertyOrder(3)] double? Low = null,
    [property: JsonPropertyOrder(4)] double? High = null,
    [property: JsonPropertyOrder(5), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Errors = null)
{
    /// <summary>
    /// The unit of <see cref="Value"/> as the API spells it (<c>ratio</c>, <c>minutes</c>, <c>currency_per_day</c>…),
    /// from <see cref="Metrics.MetricCatalogue"/>; set for every figure the catalogue computes.
    /// </summary>
    [JsonPropertyOrder(1)]
    public string? Unit { get; init; }

    public static MetricValue None(long n = 0) => new(null, n);

    public static MetricValue Rate(long successes, long n)
    {
        if (n <= 0) return None();
        var (low, high) = Wilson.Interval(successes, n);
        return new MetricValue((double)successes / n, n, low, high);
    }

    public static MetricValue Mean(double sum, long n) => n <= 0 ? None() : new MetricValue(sum / n, n);

    public static MetricValue Count(long count) => new(count, count);
}

/// <summary>Log-spaced latency buckets: roll-ups keep counts per bucket, percentiles are read from them.</summary>
public static class LatencyHistogram
{
    /// <summary>Upper bounds in milliseconds; the last bucket is open-ended.</summary>
    public static IReadOnlyList<double> Bounds { get; } = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, double.PositiveInfinity];

    public static int BucketOf(double milliseconds)
    {
        for (var i = 0; i < Bounds.Count; i++)
        {
            if (milliseconds <= Bounds[i]) return i;
        }
        return Bounds.Count - 1;
    }

    /// <summary>The q-quantile (0–1), interpolated linearly inside its bucket; null without samples.</summary>
    public static double? Percentile(IReadOnlyList<long> counts, double q)
    {
        var total = counts.Sum();
        if (total == 0) return null;
        var rank = q * total;
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0) continue;
            if (seen + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : Bounds[i - 1];
                var upper = double.IsPositiveInfinity(Bounds[i]) ? lower * 2 : Bounds[i];
                var within = (rank - seen) / counts[i];
                return lower + (upper - lower) * within;
            }
            seen += counts[i];
        }
        return Bounds[^2];
    }
}
