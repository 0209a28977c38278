using System.Diagnostics;

namespace Pilotage.Bench.Boundary;

/// <summary>
/// Cases timed in alternated rounds in one process (<c>--side-by-side</c>, <c>--split</c>): on a busy machine every case
/// sees the same load, and a paired difference within a round is the figure to follow.
/// </summary>
internal static class AlternatedRounds
{
    private const int PerRound = 100;

    /// <summary>
    /// Microseconds a call of each case, one sample a round (<c>[case][round]</c>), after warming every case for 3 s so that
    /// all of them are optimised (tiered compilation). Each round starts with another case, so that none always follows
    /// the same one.
    /// </summary>
    public static double[][] Measure(IReadOnlyList<(string Name, Action Run)> cases, int rounds)
    {
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(3))
        {
            foreach (var (_, run) in cases)
            {
                for (var i = 0; i < PerRound; i++)
                {
                    run();
                }
            }
        }
        var samples = cases.Select(_ => new double[rounds]).ToArray();
        for (var r = 0; r < rounds; r++)
        {
            for (var k = 0; k < cases.Count; k++)
            {
                var c = (k + r) % cases.Count;
                var clock = Stopwatch.GetTimestamp();
                for (var i = 0; i < PerRound; i++)
                {
                    cases[c].Run();
                }
                samples[c][r] = Stopwatch.GetElapsedTime(clock).TotalMicroseconds / PerRound;
            }
        }
        return samples;
    }

    /// <summary>The <paramref name="q"/> quantile of <paramref name="values"/> (the sample at that rank).</summary>
    public static double Quantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)(sorted.Length * q)];
    }
}
