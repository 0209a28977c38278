namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Check-digit rules of EU VAT numbers (as the member states publish them, and as the Commission's VIES
/// service applies them): Austria, Belgium, Germany, Denmark, Spain, Finland, France (numeric key),
/// Italy, Luxembourg, the Netherlands (both the mod-11 and the mod-97 form), Poland, Portugal, Sweden.
/// </summary>
internal static class VatNumbers
{
    public static bool IsValid(ReadOnlySpan<char> country, ReadOnlySpan<char> number) => country switch
    {
        "ATU" => Digits(number, 8) && Austria(number),
        "BE" => Digits(number, 10) && number[0] is '0' or '1' && 97 - (Value(number[..8]) % 97) == Value(number[8..]),
        "DE" => Digits(number, 9) && number[0] != '0' && Germany(number),
        "DK" => Digits(number, 8) && number[0] != '0' && Weighted(number, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 == 0,
        "ES" => number.Length == 9 && Spain(number),
        "FI" => Digits(number, 8) && Finland(number),
        "FR" => Digits(number, 11) && Value(number[..2]) == (12 + (3 * (Value(number[2..]) % 97))) % 97,
        "IT" => Digits(number, 11) && Checksums.Luhn(number),
        "LU" => Digits(number, 8) && Value(number[..6]) % 89 == Value(number[6..]),
        "NL" => number.Length == 12 && number[9] == 'B' && Digits(number[..9], 9) && Digits(number[10..], 2) && Netherlands(number),
        "PL" => Digits(number, 10) && Weighted(number[..9], [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11 is var p && p < 10 && p == number[9] - '0',
        "PT" => Digits(number, 9) && number[0] != '0' && Portugal(number),
        "SE" => Digits(number, 12) && number[10..].SequenceEqual("01") && Checksums.Luhn(number[..10]),
        _ => false,
    };

    private static bool Digits(ReadOnlySpan<char> number, int length) =>
        number.Length == length && AsciiDigits.All(number);

    private static long Value(ReadOnlySpan<char> digits)
    {
        long value = 0;
        foreach (var c in digits)
        {
            value = (value * 10) + (c - '0');
        }
        return value;
    }

    private static int Weighted(ReadOnlySpan<char> digits, ReadOnlySpan<int> weights)
    {
        var sum = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            sum += (digits[i] - '0') * weights[i];
        }
        return sum;
    }

    private static bool Austria(ReadOnlySpan<char> n)
    {
        var sum = 0;
        for (var i = 0; i < 7; i++)
        {
            var d = n[i] - '0';
            // Digits in even positions (second, fourth, sixth) count doubled, by digit sum.
            sum += i % 2 == 1 ? (d * 2 / 10) + (d * 2 % 10) : d;
        }
        return (10 - ((sum + 4) % 10)) % 10 == n[7] - '0';
    }

    /// <summary>ISO 7064 MOD 11,10.</summary>
    private static bool Germany(ReadOnlySpan<char> n)
    {
        var product = 10;
        for (var i = 0; i < 8; i++)
        {
            var sum = (n[i] - '0' + product) % 10;
            if (sum == 0)
            {
                sum = 10;
            }
            product = 2 * sum % 11;
        }
        var check = 11 - product;
        return (check == 10 ? 0 : check) == n[8] - '0';
    }

    private static bool Finland(ReadOnlySpan<char> n)
    {
        var remainder = Weighted(n, [7, 9, 10, 5, 8, 4, 2]) % 11;
        return remainder != 1 && (remainder == 0 ? 0 : 11 - remainder) == n[7] - '0';
    }

    private static bool Portugal(ReadOnlySpan<char> n)
    {
        var check = 11 - (Weighted(n, [9, 8, 7, 6, 5, 4, 3, 2]) % 11);
        return (check >= 10 ? 0 : check) == n[8] - '0';
    }

    private static bool Netherlands(ReadOnlySpan<char> n)
    {
        // Sole traders' numbers since 2020 pass mod 97 over "NL" + number; company numbers the older mod 11.
        var check = Weighted(n, [9, 8, 7, 6, 5, 4, 3, 2]) % 11;
        if (check < 10 && check == n[8] - '0')
        {
            return true;
        }
        var remainder = (23 * 100 + 21) % 97; // "N" = 23, "L" = 21
        foreach (var c in n)
        {
            remainder = char.IsAsciiDigit(c) ? ((remainder * 10) + (c - '0')) % 97 : ((remainder * 100) + (c - 'A' + 10)) % 97;
        }
        return remainder == 1;
    }

    private const string DniLetters = "TRWAGMYFPDXBNJZSQVHLCKE";

    /// <summary>NIF of a person (DNI, NIE: mod 23 letter) or of an entity (CIF: a letter or digit control).</summary>
    private static bool Spain(ReadOnlySpan<char> n)
    {
        if (!AsciiDigits.All(n[1..8]))
        {
            return false;
        }
        var first = n[0];
        if (char.IsAsciiDigit(first) || first is 'X' or 'Y' or 'Z')
        {
            var lead = first switch { 'X' => 0, 'Y' => 1, 'Z' => 2, _ => first - '0' };
            var number = (lead * 10_000_000) + (int)Value(n[1..8]);
            return DniLetters[number % 23] == n[8];
        }
        if (first is < 'A' or > 'W')
        {
            return false;
        }
        var sum = 0;
        for (var i = 1; i < 8; i++)
        {
            var d = n[i] - '0';
            sum += i % 2 == 0 ? d : (d * 2 / 10) + (d * 2 % 10);
        }
        var control = (10 - (sum % 10)) % 10;
        return n[8] == (char)('0' + control) || n[8] == "JABCDEFGHI"[control];
    }
}
