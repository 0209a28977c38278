using System.Runtime.InteropServices;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Digit searches for the normalisation and the detectors, in one place. The range helpers are kept over a
/// <c>SearchValues</c> set: once the JIT has optimised their callers they scan 4 KB of clean ASCII prose in about
/// 7 µs against 13–14 µs (Pilotage.Bench.Boundary, side by side, 2026-12-05), because prose calls them many times on
/// short spans. They run over the text as <c>ushort</c>: the runtime ships that instantiation precompiled, while the
/// <c>char</c> one starts unoptimised and boxes its bounds (about 200 bytes a call, 22 KB per request of the gateway's
/// realistic prompt) until the JIT gets to it, which in a busy server took thousands of requests.
/// </summary>
internal static class AsciiDigits
{
    /// <summary>The index of the first ASCII digit, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<char> span) => MemoryMarshal.Cast<char, ushort>(span).IndexOfAnyInRange((ushort)'0', (ushort)'9');

    /// <summary>True when every character is an ASCII digit (and for an empty span).</summary>
    public static bool All(ReadOnlySpan<char> span) => !MemoryMarshal.Cast<char, ushort>(span).ContainsAnyExceptInRange((ushort)'0', (ushort)'9');
}
