using System.CommandLine;
using System.Globalization;

namespace Pilotage.Cli.Client;

/// <summary>Arguments and small text helpers the newer verbs share.</summary>
internal static class Args
{
    public static Argument<string> System(string description = "A system's name (metadata.name in its spec)") => new("SYSTEM")
    {
        Description = description,
    };

    /// <summary>A positive whole number option with its default and a one-line error.</summary>
    public static Option<int> Positive(string name, int defaultValue, string description, int min = 1, int max = int.MaxValue)
    {
        var option = new Option<int>(name)
        {
            Description = description,
            HelpName = "N",
            DefaultValueFactory = _ => defaultValue,
        };
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<int>();
            if (value < min || value > max)
            {
                result.AddError(max == int.MaxValue
                    ? $"{name} must be at least {min}, not {value}"
                    : $"{name} must be between {min} and {max}, not {value}");
            }
        });
        return option;
    }

    /// <summary>
    /// A date (YYYY-MM-DD, as UTC) or a date and time with an offset. A bare date as the end of a
    /// period means the whole of that day.
    /// </summary>
    public static DateTimeOffset? ParseDate(string? text, string option, bool endOfDay)
    {
        var value = Blank(text);
        if (value is null) return null;
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            var start = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            return endOfDay ? start.AddDays(1).AddTicks(-1) : start;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
        {
            return at;
        }
        throw new CliException($"{option} '{value}' is not a date; use YYYY-MM-DD (e.g. 2026-03-31) or a date and time like 2026-03-31T17:00:00Z", ExitCodes.Usage);
    }

    /// <summary>Refuses an option-looking value swallowed by an optional argument.</summary>
    public static void NotAnOption(string? value, string verb)
    {
        if (value is not null && value.StartsWith('-'))
        {
            throw new CliException($"unknown option '{value}' (see 'pilotage {verb} --help')", ExitCodes.Usage);
        }
    }

    public static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    public static string OneLine(string? text) => text is null ? "" : text.ReplaceLineEndings(" ").Trim();

    /// <summary>Cut to <paramref name="max"/> characters on one line, for table cells.</summary>
    public static string Short(string? text, int max)
    {
        var line = OneLine(text);
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    public static string Count(long n, string noun) => n == 1 ? $"1 {noun}" : $"{n.ToString(CultureInfo.InvariantCulture)} {noun}s";

    public static string Number(long n) => n.ToString(CultureInfo.InvariantCulture);

    public static string Escape(string value) => Uri.EscapeDataString(value);
}
