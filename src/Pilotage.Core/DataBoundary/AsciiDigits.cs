using System.Buffers;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Digit searches for the normalisation and the detectors, through <see cref="SearchValues{T}"/> rather than the
/// generic range helpers (<c>IndexOfAnyInRange('0', '9')</c>). Until the JIT has optimised their callers, those
/// helpers box their bounds on every call: in a gateway process's first minutes (after a start or a deploy, and in
/// every benchmark) that was most of what the data boundary allocated, and several times its optimised cost.
/// </summary>
internal static class AsciiDigits
{
    private static readonly SearchValues<char> Values = SearchValues.Create("0123456789");

    /// <summary>The index of the first ASCII digit, or -1.</summary>
    public static int IndexOf(ReadOnlySpan<char> span) => span.IndexOfAny(Values);

    /// <summary>True when every character is an ASCII digit (and for an empty span).</summary>
    public static bool All(ReadOnlySpan<char> span) => !span.ContainsAnyExcept(Values);
}
