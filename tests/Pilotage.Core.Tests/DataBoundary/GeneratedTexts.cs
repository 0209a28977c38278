using CsCheck;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>Checks on the generators of the boundary's property tests.</summary>
internal static class GeneratedTexts
{
    /// <summary>
    /// How many of <paramref name="iterations"/> generated texts satisfy <paramref name="holds"/>: a property that compares
    /// two empty results proves nothing, so a generator must give texts with something to find often enough.
    /// </summary>
    public static int CountHolding(Gen<string> texts, Func<string, bool> holds, int iterations = 1000)
    {
        var count = 0;
        texts.Sample(text =>
        {
            if (holds(text))
            {
                count++;
            }
        }, iter: iterations);
        return count;
    }
}
