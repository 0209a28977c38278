using System.Text.RegularExpressions;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// <see cref="PhoneDetector.IsLoneDate"/> against the rule it stands for, written plainly with a regex: no '+' or '(' before
/// the first digit, three groups of digits with one repeated '-', '.' or '/', read as a year, month and day or as a day and
/// month and a year (values from a group's first four digits), and no digit after them. Generated stretches are dates,
/// near misses (a month 13, a doubled or mixed separator, a fifth digit) and runs of the characters a stretch holds.
/// </summary>
public class PhoneLoneDatePropertyTests
{
    /// <summary>Days and months (0 to 33, some written with a leading zero).</summary>
    private static readonly Gen<string> Small =
        Gen.Int[0, 33].Select(Gen.Bool, (n, zero) => (zero && n < 10 ? "0" : "") + n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Years, and any digits (none to five).</summary>
    private static readonly Gen<string> Year = Gen.OneOf(
        Gen.Int[1899, 2101].Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Char['0', '9'].Array[0, 5].Select(d => new string(d)));

    /// <summary>One separator twice, or any two.</summary>
    private static readonly Gen<(char, char)> Separators = Gen.OneOf(
        Gen.Char["-./"].Select(c => (c, c)),
        Gen.Select(Gen.Char["-./ _"], Gen.Char["-./ _"], (x, y) => (x, y)));

    /// <summary>What a date's stretch has around it: prose's space or full stop, or a '+', '(', a digit and separators.</summary>
    private static readonly Gen<string> Around = Gen.OneOf(Gen.Const(""), Gen.Const(" "), Gen.Const(". "), Gen.String[Gen.Char[" -./_+()0"], 0, 2]);

    private static readonly Gen<string> Dates =
        Gen.Select(Around, Gen.Bool, Year, Small, Small, Separators, Around,
            (before, yearFirst, year, month, day, separators, after) => before
                + (yearFirst ? year + separators.Item1 + month + separators.Item2 + day : day + separators.Item1 + month + separators.Item2 + year)
                + after);

    private static readonly Gen<string> Stretch = Gen.Frequency((3, Dates), (1, Gen.String[Gen.Char[" -./_+()0123456789"], 0, 16]));

    [Fact]
    public void A_lone_date_is_what_the_plain_rule_says() =>
        Stretch.Sample(stretch => PhoneDetector.IsLoneDate(stretch) == IsLoneDatePlainly(stretch), iter: 50000);

    [Fact]
    public void The_generated_stretches_hold_lone_dates_and_near_misses()
    {
        var dates = GeneratedTexts.CountHolding(Stretch, IsLoneDatePlainly);
        Assert.True(dates is > 50 and < 900, $"{dates} of 1000 generated stretches are lone dates");
    }

    [Theory]
    [InlineData(" 2026-11-18. ", true)]
    [InlineData("18.11.2026", true)]
    [InlineData("11/18/2026 ", true)]
    [InlineData("2026-13-18", false)]
    [InlineData("+2026-11-18", false)]
    [InlineData("2026-11-18 7", false)]
    [InlineData("2026-11.18", false)]
    [InlineData("20261-11-18", false)]
    public void Known_stretches(string stretch, bool lone)
    {
        Assert.Equal(lone, PhoneDetector.IsLoneDate(stretch));
        Assert.Equal(lone, IsLoneDatePlainly(stretch));
    }

    private static bool IsLoneDatePlainly(string stretch)
    {
        var first = stretch.TakeWhile(c => !char.IsAsciiDigit(c)).Count();
        if (first == stretch.Length || stretch[..first].Any(c => c is '+' or '('))
        {
            return false;
        }
        var date = Regex.Match(stretch[first..], "^([0-9]+)([-./])([0-9]+)\\2([0-9]+)");
        if (!date.Success || stretch[(first + date.Length)..].Any(char.IsAsciiDigit))
        {
            return false;
        }
        var (a, b, c) = (date.Groups[1].Value, date.Groups[3].Value, date.Groups[4].Value);
        static int Value(string digits) => int.Parse(digits[..Math.Min(4, digits.Length)], System.Globalization.CultureInfo.InvariantCulture);
        if (a.Length == 4 && b.Length <= 2 && c.Length <= 2)
        {
            return Value(b) is >= 1 and <= 12 && Value(c) is >= 1 and <= 31;
        }
        if (a.Length <= 2 && b.Length <= 2 && c.Length == 4)
        {
            return Value(a) is >= 1 and <= 31 && Value(b) is >= 1 and <= 31 && (Value(a) <= 12 || Value(b) <= 12);
        }
        return false;
    }
}
