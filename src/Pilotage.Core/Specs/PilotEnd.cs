using System.Globalization;
using System.Text.RegularExpressions;

namespace Pilotage.Core.Specs;

/// <summary>
/// What a read knows beyond the text: the day relative end dates are resolved against, and, when
/// applying, the pilots already stored. Reading without options (the CLI's local check, tests) resolves
/// against today's UTC date and checks no date against the calendar.
/// </summary>
public sealed record SpecReadOptions
{
    public static SpecReadOptions Default { get; } = new();

    /// <summary>The day <c>ends: +90d</c> counts from; null: today's UTC date.</summary>
    public DateOnly? Today { get; init; }

    /// <summary>Refuse a pilot whose end date has already passed (apply without <c>--allow-past</c>).</summary>
    public bool RefusePastEnds { get; init; }

    /// <summary>
    /// The pilot of each stored system, by name: an unchanged relative end keeps its stored date, and an
    /// end date already stored is not refused for having passed since.
    /// </summary>
    public IReadOnlyDictionary<string, PilotSpec> StoredPilots { get; init; } = new Dictionary<string, PilotSpec>(StringComparer.Ordinal);

    public DateOnly TodayOrNow => Today ?? DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
}

/// <summary>
/// A pilot's end date written relative to the day it is applied (<c>ends: +90d</c>): a whole number
/// followed by <c>d</c> (days), <c>w</c> (weeks), <c>m</c> (calendar months) or <c>y</c> (years). Apply
/// stores the date it resolves to; re-applying the same offset keeps the stored date (docs/spec.md).
/// </summary>
public static partial class PilotEnd
{
    [GeneratedRegex("^\\+([1-9][0-9]{0,3})([dwmy])$", RegexOptions.CultureInvariant)]
    private static partial Regex Offset();

    /// <summary>True when <paramref name="text"/> is written as an offset (<c>+…</c>), valid or not.</summary>
    public static bool LooksRelative(string text) => text.StartsWith('+');

    /// <summary>The date <paramref name="offset"/> resolves to from <paramref name="today"/>; null when it is not a valid offset or leaves the calendar.</summary>
    public static DateOnly? Resolve(string offset, DateOnly today)
    {
        var match = Offset().Match(offset);
        if (!match.Success) return null;
        var amount = int.Parse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        try
        {
            return match.Groups[2].Value switch
            {
                "d" => today.AddDays(amount),
                "w" => today.AddDays(amount * 7),
                "m" => today.AddMonths(amount),
                _ => today.AddYears(amount),
            };
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The refusal of an end date in the past, naming the field, the date and the way out.</summary>
    public static string PastMessage(DateOnly ends, DateOnly today) =>
        $"the pilot ends on {Day(ends)}, which has already passed (today is {Day(today)} UTC): a pilot applied now would never serve. "
        + "Give a later date or one relative to today such as +90d; to import the record of a pilot that already ended, apply with --allow-past";

    public static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
