using System.Globalization;

namespace Pilotage.Core.Metrics;

/// <summary>What a metric's number measures (declared per metric in <see cref="MetricCatalogue"/>).</summary>
public enum MetricUnit
{
    /// <summary>A share between 0 and 1 (utilisation may exceed 1); shown as a percentage.</summary>
    Ratio,
    Minutes,
    Hours,
    Milliseconds,
    /// <summary>An amount in the currency of the spec's prices (<c>upstream.pricePer1k…</c>, <c>review.hourlyRate</c>).</summary>
    Currency,
    /// <summary>An amount in that currency per UTC day.</summary>
    CurrencyPerDay,
    Count,
    /// <summary>A feedback rating from 1 to 5.</summary>
    Rating,
}

/// <summary>Names and formatting of <see cref="MetricUnit"/>s, in invariant culture.</summary>
public static class MetricUnits
{
    /// <summary>The unit as the API spells it, beside each value: <c>ratio</c>, <c>minutes</c>, <c>currency_per_day</c>…</summary>
    public static string Name(MetricUnit unit) => unit switch
    {
        MetricUnit.Ratio => "ratio",
        MetricUnit.Minutes => "minutes",
        MetricUnit.Hours => "hours",
        MetricUnit.Milliseconds => "milliseconds",
        MetricUnit.Currency => "currency",
        MetricUnit.CurrencyPerDay => "currency_per_day",
        MetricUnit.Rating => "rating",
        _ => "count",
    };

    /// <summary>The unit in a table's unit column: "%", "minutes", "currency per day"…</summary>
    public static string Label(MetricUnit unit) => unit switch
    {
        MetricUnit.Ratio => "%",
        MetricUnit.Minutes => "minutes",
        MetricUnit.Hours => "hours",
        MetricUnit.Milliseconds => "ms",
        MetricUnit.Currency => "currency",
        MetricUnit.CurrencyPerDay => "currency per day",
        MetricUnit.Rating => "rating 1–5",
        _ => "count",
    };

    /// <summary>
    /// What follows a figure written in the spec's own scale (a criterion's threshold, a pause rule's): " min",
    /// " ms", " per day"…; nothing for ratios (0.84, as thresholds are written) and counts.
    /// </summary>
    public static string Suffix(MetricUnit unit) => unit switch
    {
        MetricUnit.Minutes => " min",
        MetricUnit.Hours => " h",
        MetricUnit.Milliseconds => " ms",
        MetricUnit.Currency => " (currency)",
        MetricUnit.CurrencyPerDay => " per day",
        MetricUnit.Rating => " of 5",
        _ => "",
    };

    /// <summary>The number alone, scaled as shown: a ratio in percent, others as they are.</summary>
    public static string Number(MetricUnit unit, double value) => unit == MetricUnit.Ratio
        ? (value * 100).ToString("0.#", CultureInfo.InvariantCulture)
        : Plain(value);

    /// <summary>
    /// The figure with its unit: "84.2 %", "3.2 min", "1.5 h", "850 ms", "0.0125 (currency)", "0.84 per day",
    /// "4.2 of 5", "12". The currency is the one the spec's prices are in, which Pilotage does not know.
    /// </summary>
    public static string Format(MetricUnit unit, double value) => unit switch
    {
        MetricUnit.Ratio => Number(unit, value) + " %",
        MetricUnit.Milliseconds => value.ToString("0", CultureInfo.InvariantCulture) + Suffix(unit),
        _ => Plain(value) + Suffix(unit),
    };

    /// <summary>
    /// A sample count against its minimum, honestly: "72 samples, minimum 50" (never "72 of 50"), "1 test case,
    /// minimum 30", or "12 samples" when there is no minimum.
    /// </summary>
    public static string SamplesAgainstMinimum(long n, long? minimum, bool testCases = false)
    {
        var noun = testCases ? (n == 1 ? "test case" : "test cases") : (n == 1 ? "sample" : "samples");
        var count = n.ToString(CultureInfo.InvariantCulture) + " " + noun;
        return minimum is { } min and > 0 ? count + ", minimum " + min.ToString(CultureInfo.InvariantCulture) : count;
    }

    /// <summary>Up to two decimals; small figures keep two significant digits so a cost of 0.0004 does not read as 0.</summary>
    private static string Plain(double value)
    {
        var magnitude = Math.Abs(value);
        var decimals = magnitude is 0 or >= 0.01 ? 2 : Math.Min(6, 1 - (int)Math.Floor(Math.Log10(magnitude)));
        return value.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }
}
