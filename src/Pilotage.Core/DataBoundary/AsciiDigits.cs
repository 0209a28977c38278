namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Digit searches for the normalisation and the detectors, in one place. The range helpers are kept over a
/// <c>SearchValues</c> set: once the JIT has optimised their callers they scan 4 KB of clean ASCII prose in about
/// 7 µs against 13–14 µs (Pilotage.Bench.Boundary, side by side, 2026-12-05), because prose calls them many times on
/// short spans. The price is a boxed bound per call while the callers are still unoptimised, in a process's
/// first seconds of traffic.
/// </summary>
internal static class AsciiDigits
{
    /// <summary>The index of the first ASCII digit, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<char> span) => span.IndexOfAnyInRange('0', '9');

    /// <summary>True when every character is an ASCII digit (and for an empty span).</summary>
    public static bool All(ReadOnlySpan<char> span) => !span.ContainsAnyExceptInRange('0', '9');
}
