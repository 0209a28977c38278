using System.Text;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The NFKC compatibility mappings of the characters that spell what detectors look for: fullwidth ASCII,
/// small form variants, mathematical alphanumerics, enclosed letters, Latin ligatures, and the other spaces,
/// dots and slashes people put between digit groups. Digits of every script and Unicode spaces and dashes are
/// folded by category in <see cref="NormalizedText"/>; this is the rest. Built into the binary because the
/// server runs with invariant globalization, where <c>string.Normalize</c> leaves non-ASCII text as it is.
/// </summary>
internal static class Compatibility
{
    /// <summary>Writes what <paramref name="rune"/> folds to into <paramref name="into"/>; 0 when it stays as it is.</summary>
    public static int Fold(Rune rune, Span<char> into)
    {
        var c = rune.Value;
        switch (c)
        {
            case >= 0xFF01 and <= 0xFF5E: // fullwidth ASCII
                into[0] = (char)(c - 0xFEE0);
                return 1;
            case >= 0x1D400 and <= 0x1D6A3: // mathematical letters: 13 alphabets of 52, A–Z then a–z
                var letter = (c - 0x1D400) % 52;
                into[0] = (char)(letter < 26 ? 'A' + letter : 'a' + letter - 26);
                return 1;
            case >= 0x24B6 and <= 0x24CF: // circled capital letters
                into[0] = (char)('A' + c - 0x24B6);
                return 1;
            case >= 0x24D0 and <= 0x24E9: // circled small letters
                into[0] = (char)('a' + c - 0x24D0);
                return 1;
            case >= 0x1F130 and <= 0x1F149: // squared capital letters
                into[0] = (char)('A' + c - 0x1F130);
                return 1;
            default:
                break;
        }
        var single = c switch
        {
            0xFE52 or 0x2024 or 0xFF61 => '.', // small full stop, one dot leader, halfwidth ideographic full stop
            0x00B7 or 0x2022 or 0x2027 or 0x30FB or 0x2219 or 0x22C5 => '.', // middle dots and bullets between groups
            0x2044 or 0x2215 or 0x29F8 or 0xFF3C => '/', // fraction, division and big solidus
            0xFE6B => '@', // small commercial at
            0xFE62 => '+',
            0xFE63 => '-',
            0xFE59 => '(',
            0xFE5A => ')',
            0xFE50 => ',',
            0xFE55 => ':',
            0x2212 => '-', // minus sign
            0x2103 => 'C',
            0x212A => 'K', // Kelvin sign
            0x212B => 'A', // Angstrom sign (NFKC: A with ring; the letter is what matters)
            _ => '\0',
        };
        if (single != '\0')
        {
            into[0] = single;
            return 1;
        }
        var ligature = c switch
        {
            0xFB00 => "ff",
            0xFB01 => "fi",
            0xFB02 => "fl",
            0xFB03 => "ffi",
            0xFB04 => "ffl",
            0xFB05 or 0xFB06 => "st",
            0x2116 => "No",
            0x2121 => "TEL",
            0x2122 => "TM",
            _ => null,
        };
        if (ligature is null)
        {
            return 0;
        }
        ligature.AsSpan().CopyTo(into);
        return ligature.Length;
    }
}
