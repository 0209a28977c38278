namespace Pilotage.Core.Evidence;

/// <summary>
/// The Wilson score interval for a proportion: honest at small samples and near 0 or 1, where the
/// normal approximation claims certainty it does not have (9/10 is not the same evidence as 900/1000).
/// </summary>
public static class Wilson
{
    /// <summary>z for a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    public static (double Low, double High) Interval(long successes, long n, double z = Z95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(successes, n);
        if (n == 0) return (0, 1);
        var p = (double)successes / n;
        var z2 = z * z;
        var denominator = 1 + z2 / n;
        var centre = (p + z2 / (2 * n)) / denominator;
        var margin = z * Math.Sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denominator;
        return (Math.Max(0, centre - margin), Math.Min(1, centre + margin));
    }
}
