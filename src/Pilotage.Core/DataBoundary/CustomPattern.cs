using System.Globalization;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>Which engine a custom data-boundary pattern runs on.</summary>
public enum PatternEngine
{
    /// <summary>
    /// The non-backtracking engine (<see cref="RegexOptions.NonBacktracking"/>): time linear in the text, whatever the
    /// pattern, so the pattern runs with no timeout and is not charged to the request's <see cref="BoundaryBudget"/>.
    /// </summary>
    Linear,

    /// <summary>
    /// The backtracking engine, for patterns the linear one cannot run (lookarounds, backreferences, atomic groups,
    /// <c>\G</c>, very large counted repetitions). Such a pattern can take exponential time, so each match runs with
    /// the per-match timeout and the request's budget; running out refuses the request (fail closed).
    /// </summary>
    Timed,
}

/// <summary>
/// A custom pattern of a spec (<c>dataBoundary.detectors[].pattern</c>) and the engine it runs on, decided once: linear
/// when the non-backtracking engine accepts it, timed otherwise. Immutable.
/// </summary>
public sealed class CustomPattern
{
    private const RegexOptions Options = RegexOptions.CultureInvariant;

    private readonly Regex? linear;

    private CustomPattern(string pattern, Regex? linear, string? reason)
    {
        Pattern = pattern;
        this.linear = linear;
        Reason = reason;
    }

    public string Pattern { get; }

    public PatternEngine Engine => linear is null ? PatternEngine.Timed : PatternEngine.Linear;

    /// <summary>Why the pattern needs the backtracking engine, as the engine says it ("backreference (\ number)"); null when linear.</summary>
    public string? Reason { get; }

    /// <summary>Classifies <paramref name="pattern"/>.</summary>
    /// <exception cref="ArgumentException">the pattern does not compile.</exception>
    public static CustomPattern Of(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        try
        {
            // No timeout: the engine's time is linear in the text (a fixed cost per character for a given pattern).
            return new CustomPattern(pattern, new Regex(pattern, Options | RegexOptions.NonBacktracking), null);
        }
        catch (NotSupportedException unsupported)
        {
            // Compiling it the ordinary way reports a pattern that is simply invalid.
            _ = new Regex(pattern, Options);
            return new CustomPattern(pattern, null, ReasonOf(unsupported.Message));
        }
    }

    /// <summary>The regex to scan with: the linear one, or a compiled backtracking one bounded by <paramref name="timeout"/>.</summary>
    internal Regex Build(TimeSpan timeout) => linear ?? new Regex(Pattern, Options | RegexOptions.Compiled, timeout);

    /// <summary>An interpreted backtracking regex for one last match in a budget's last stretch (never for a linear pattern).</summary>
    internal Regex Interpreted(TimeSpan timeout) => new(Pattern, Options, timeout);

    private static string ReasonOf(string message)
    {
        // "RegexOptions.NonBacktracking is not supported in conjunction with expressions containing: 'lookarounds'."
        const string Containing = "containing: ";
        var at = message.IndexOf(Containing, StringComparison.Ordinal);
        return at >= 0
            ? "it uses " + message[(at + Containing.Length)..].TrimEnd('.', ' ')
            : "it is too large for the linear-time engine";
    }

    /// <summary>The owner-facing note for a timed pattern (shown by <c>pilotage apply</c>); null when linear.</summary>
    public string? Note(string detector) => Engine == PatternEngine.Linear
        ? null
        : string.Create(CultureInfo.InvariantCulture,
            $"data boundary detector '{detector}' runs on the backtracking engine because {Reason}: each match is bounded by a {Specs.SpecDocumentReader.DetectorTimeout.TotalMilliseconds:0} ms timeout and the request's budget, and running out refuses the request. Without that construct it would run in linear time, with no timeout.");
}
