using System.Globalization;

namespace Pilotage.Core.Pilots;

/// <summary>
/// Number formatting for the sentences people read. Invariant culture, because these sentences are
/// stored with decisions and must read the same on every server.
/// </summary>
internal static class Figures
{
    /// <summary>Up to two decimals, more for tiny figures so they do not read as 0.</summary>
    public static string Num(double value) => Num(value, DecimalsFor(value));

    /// <summary>
    /// Formats <paramref name="value"/> with enough decimals that it does not print the same as
    /// <paramref name="other"/>: "0.8 is below 0.8" would make a person doubt the verdict.
    /// </summary>
    public static string NumApart(double value, double other)
    {
        var decimals = Math.Max(DecimalsFor(value), DecimalsFor(other));
        while (decimals < 6 && value != other && Num(value, decimals) == Num(other, decimals))
        {
            decimals++;
        }
        return Num(value, decimals);
    }

    public static string Percent(double rate) =>
        (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Days, truncated to a tenth so "13.96 days so far" never prints as 14 while the gate is still closed.</summary>
    public static string Days(double days) =>
        (Math.Floor(Math.Max(0, days) * 10) / 10).ToString("0.#", CultureInfo.InvariantCulture);

    public static string Plural(long count, string singular, string plural) =>
        $"{Int(count)} {(count == 1 ? singular : plural)}";

    private static int DecimalsFor(double value)
    {
        var magnitude = Math.Abs(value);
        if (magnitude == 0 || magnitude >= 0.01) return 2;
        // Show two significant digits of small figures (a cost of 0.0004 per task is not 0).
        return Math.Min(6, 1 - (int)Math.Floor(Math.Log10(magnitude)));
    }

    private static string Num(double value, int decimals) =>
        value.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
}
