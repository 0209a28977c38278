namespace Pilotage.Core.DataBoundary;

/// <summary>Check-digit algorithms that turn "looks like a number" into "is a card / an IBAN".</summary>
internal static class Checksums
{
    /// <summary>The separators normalised text has between digit groups (see <see cref="NormalizedText"/>).</summary>
    public static readonly System.Buffers.SearchValues<char> Separators = System.Buffers.SearchValues.Create(" -./_");

    public static int CountSeparators(ReadOnlySpan<char> text)
    {
        var count = 0;
        foreach (var c in text)
        {
            if (Separators.Contains(c))
            {
                count++;
            }
        }
        return count;
    }

    /// <summary>Luhn over a span that holds only ASCII digits and separators; false when it holds anything else.</summary>
    public static bool LuhnDigits(ReadOnlySpan<char> digits) => !digits.ContainsAnyExcept(DigitsAndSeparators) && Luhn(digits);

    private static readonly System.Buffers.SearchValues<char> DigitsAndSeparators = System.Buffers.SearchValues.Create("0123456789 -./_");

    /// <summary>Luhn (ISO/IEC 7812) over the digits of <paramref name="text"/>, ignoring every other character.</summary>
    public static bool Luhn(ReadOnlySpan<char> text)
    {
        var sum = 0;
        var doubled = false;
        for (var i = text.Length - 1; i >= 0; i--)
        {
            var c = text[i];
            if (!char.IsAsciiDigit(c))
            {
                continue;
            }
            var digit = c - '0';
            if (doubled)
            {
                digit *= 2;
                if (digit > 9)
                {
                    digit -= 9;
                }
            }
            sum += digit;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    /// <summary>
    /// ISO 13616 / ISO 7064 mod 97-10 over the alphanumerics of <paramref name="text"/> (separators skipped):
    /// the first four characters move to the end, letters count as 10..35, and the number must be 1 mod 97.
    /// </summary>
    public static bool IbanMod97(ReadOnlySpan<char> text)
    {
        var compact = 0;
        var remainder = 0;
        // Two passes over the span instead of building the rearranged string: no allocation.
        for (var pass = 0; pass < 2; pass++)
        {
            var position = 0;
            foreach (var c in text)
            {
                if (Separators.Contains(c))
                {
                    continue;
                }
                var inHead = position++ < 4;
                if (inHead != (pass == 1))
                {
                    continue;
                }
                int value;
                if (char.IsAsciiDigit(c))
                {
                    value = c - '0';
                    remainder = ((remainder * 10) + value) % 97;
                }
                else if (char.IsAsciiLetter(c))
                {
                    value = char.ToUpperInvariant(c) - 'A' + 10;
                    remainder = ((remainder * 100) + value) % 97;
                }
                else
                {
                    return false;
                }
                compact++;
            }
        }
        return compact >= 5 && remainder == 1;
    }
}
