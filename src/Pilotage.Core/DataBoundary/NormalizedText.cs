using System.Buffers;
using System.Globalization;
using System.Text;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The one spelling every detector reads: Unicode compatibility folding (NFKC's mappings for the characters
/// detectors read, see <see cref="Compatibility"/>: the server runs without ICU, so <c>string.Normalize</c>
/// cannot do it), format characters (category Cf: zero-width
/// spaces and joiners, soft hyphens, bidi marks) removed, every decimal digit of any script as its
/// ASCII value, and any run of separators (all Zs, all Pd, dots, slashes, underscores) between
/// digit groups as one character (next to a letter group, only a run of spaces folds). Each normalised character
/// keeps the span of the original it came from, so a hit maps back to exactly the characters to redact.
/// </summary>
/// <remarks>
/// Plain ASCII text with single separators is already normal: it is used as it is, with no copy and
/// no map, which keeps the common prompt at the cost of one vectorised scan.
/// </remarks>
internal sealed class NormalizedText
{
    /// <summary>Separator characters between digit groups, as they read after normalisation.</summary>
    private static readonly SearchValues<char> AsciiSeparators = SearchValues.Create(" -./_");

    private readonly int[]? starts;
    private readonly int[]? ends;

    private NormalizedText(string original, string text, int[]? starts, int[]? ends)
    {
        Original = original;
        Text = text;
        this.starts = starts;
        this.ends = ends;
    }

    /// <summary>The text as it was given.</summary>
    public string Original { get; }

    /// <summary>The text detectors read.</summary>
    public string Text { get; }

    /// <summary>True when <see cref="Text"/> is <see cref="Original"/>: spans need no mapping.</summary>
    public bool IsIdentity => starts is null;

    /// <summary>The original span a normalised span came from: the first character's start to the last one's end.</summary>
    public (int Start, int Length) ToOriginal(int start, int length)
    {
        if (starts is null || ends is null)
        {
            return (start, length);
        }
        if (length == 0)
        {
            var at = start < starts.Length ? starts[start] : Original.Length;
            return (at, 0);
        }
        var from = starts[start];
        return (from, ends[start + length - 1] - from);
    }

    /// <summary>Where normalised character <paramref name="index"/> begins in the original (the end for <c>Text.Length</c>).</summary>
    public int OriginalOffset(int index) =>
        starts is null ? index : index < starts.Length ? starts[index] : Original.Length;

    public static NormalizedText Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IsAlreadyNormal(text) ? new NormalizedText(text, text, null, null) : Build(text);
    }

    /// <summary>ASCII with no run of two separators touching a digit: nothing to fold.</summary>
    private static bool IsAlreadyNormal(string text)
    {
        var span = text.AsSpan();
        if (span.ContainsAnyExceptInRange('\0', '\u007f'))
        {
            return false;
        }
        var i = span.IndexOfAnyInRange('0', '9');
        while (i >= 0)
        {
            // A digit with two separators right after it, or right before it, starts or ends a run to fold.
            if ((i + 2 < span.Length && AsciiSeparators.Contains(span[i + 1]) && AsciiSeparators.Contains(span[i + 2]))
                || (i >= 2 && AsciiSeparators.Contains(span[i - 1]) && AsciiSeparators.Contains(span[i - 2])))
            {
                return false;
            }
            var next = span[(i + 1)..].IndexOfAnyInRange('0', '9');
            i = next < 0 ? -1 : i + 1 + next;
        }
        return true;
    }

    private static NormalizedText Build(string text)
    {
        // First pass: character by character (combining sequences together), NFKC, Cf out, digits to ASCII.
        var chars = new List<char>(text.Length);
        var from = new List<int>(text.Length);
        var to = new List<int>(text.Length);
        var i = 0;
        while (i < text.Length)
        {
            var end = SequenceEnd(text, i);
            var c = text[i];
            if (end == i + 1 && c < 0x80)
            {
                Emit(c, i, end);
            }
            else
            {
                // The sequence's characters each map to the whole sequence: a mark redacts with its base.
                for (var at = i; at < end;)
                {
                    if (Rune.DecodeFromUtf16(text.AsSpan(at, end - at), out var rune, out var used) != System.Buffers.OperationStatus.Done)
                    {
                        rune = new Rune(text[at] == '\0' ? ' ' : '\uFFFD'); // a lone surrogate: no detector reads it
                        used = 1;
                    }
                    EmitRune(rune, i, end);
                    at += used;
                }
            }
            i = end;
        }

        // Second pass: separator runs between alphanumeric groups, one side digits, become one character.
        var outChars = new char[chars.Count];
        var outStarts = new int[chars.Count];
        var outEnds = new int[chars.Count];
        var n = 0;
        for (var k = 0; k < chars.Count;)
        {
            if (!IsSeparator(chars[k]) || n == 0 || !char.IsAsciiLetterOrDigit(outChars[n - 1]))
            {
                outChars[n] = chars[k];
                outStarts[n] = from[k];
                outEnds[n] = to[k];
                n++;
                k++;
                continue;
            }
            var runEnd = k;
            while (runEnd < chars.Count && IsSeparator(chars[runEnd]))
            {
                runEnd++;
            }
            // Between two digits any run folds; next to a letter only a run of spaces does, so that the
            // dashes and underscores inside tokens and keys keep their length.
            var bounded = runEnd < chars.Count && char.IsAsciiLetterOrDigit(chars[runEnd])
                && ((char.IsAsciiDigit(outChars[n - 1]) && char.IsAsciiDigit(chars[runEnd]))
                    || ((char.IsAsciiDigit(outChars[n - 1]) || char.IsAsciiDigit(chars[runEnd])) && AllSpaces(chars, k, runEnd)));
            if (!bounded)
            {
                for (; k < runEnd; k++)
                {
                    outChars[n] = chars[k];
                    outStarts[n] = from[k];
                    outEnds[n] = to[k];
                    n++;
                }
                continue;
            }
            // The run reads as its most telling character: a dash, dot, slash or underscore over a space.
            var separator = ' ';
            for (var s = k; s < runEnd; s++)
            {
                if (chars[s] != ' ')
                {
                    separator = chars[s];
                    break;
                }
            }
            outChars[n] = separator;
            outStarts[n] = from[k];
            outEnds[n] = to[runEnd - 1];
            n++;
            k = runEnd;
        }
        return new NormalizedText(text, new string(outChars, 0, n), outStarts[..n], outEnds[..n]);

        void EmitRune(Rune rune, int start, int end)
        {
            var category = Rune.GetUnicodeCategory(rune);
            if (category == UnicodeCategory.Format)
            {
                return;
            }
            if (category is UnicodeCategory.DecimalDigitNumber or UnicodeCategory.OtherNumber
                && Rune.GetNumericValue(rune) is >= 0 and <= 9 and var value && value == Math.Floor(value)
                && (category == UnicodeCategory.DecimalDigitNumber || IsCompatibilityDigit(rune.Value)))
            {
                Emit((char)('0' + (int)value), start, end);
                return;
            }
            Span<char> folded = stackalloc char[3];
            var length = Compatibility.Fold(rune, folded);
            if (length > 0)
            {
                for (var f = 0; f < length; f++)
                {
                    Emit(folded[f], start, end);
                }
                return;
            }
            if (category == UnicodeCategory.SpaceSeparator)
            {
                Emit(' ', start, end);
                return;
            }
            if (category == UnicodeCategory.DashPunctuation)
            {
                Emit('-', start, end);
                return;
            }
            Span<char> utf16 = stackalloc char[2];
            var written = rune.EncodeToUtf16(utf16);
            for (var u = 0; u < written; u++)
            {
                Emit(utf16[u], start, end);
            }
        }

        void Emit(char c, int start, int end)
        {
            chars.Add(c);
            from.Add(start);
            to.Add(end);
        }
    }

    /// <summary>A character and the combining marks after it: NFKC may compose them, so they map back together.</summary>
    private static int SequenceEnd(string text, int start)
    {
        var end = start + (char.IsHighSurrogate(text[start]) && start + 1 < text.Length && char.IsLowSurrogate(text[start + 1]) ? 2 : 1);
        while (end < text.Length && text[end] >= 0x0300)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(text, end);
            if (category is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                break;
            }
            end += char.IsSurrogatePair(text, end) ? 2 : 1;
        }
        return end;
    }

    /// <summary>Superscript, subscript and circled digits: NFKC folds them to plain digits.</summary>
    private static bool IsCompatibilityDigit(int value) =>
        value is 0x00B2 or 0x00B3 or 0x00B9 or 0x2070 or (>= 0x2074 and <= 0x2079) or (>= 0x2080 and <= 0x2089)
            or (>= 0x2460 and <= 0x2468) or 0x24EA or (>= 0x2780 and <= 0x2788) or (>= 0x1F100 and <= 0x1F10A);

    private static bool IsSeparator(char c) => c is ' ' or '-' or '.' or '/' or '_';

    private static bool AllSpaces(List<char> chars, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (chars[i] != ' ')
            {
                return false;
            }
        }
        return true;
    }
}
