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
/// A string copy of <see cref="Normalized"/>, which does the work over a span in pooled buffers (the scan of a request
/// uses that one directly). Plain ASCII text with single separators is already normal: it is used as it is.
/// </remarks>
internal sealed class NormalizedText
{
    private readonly NormalEdit[]? edits;

    private NormalizedText(string original, string text, NormalEdit[]? edits)
    {
        Original = original;
        Text = text;
        this.edits = edits;
    }

    /// <summary>The text as it was given.</summary>
    public string Original { get; }

    /// <summary>The text detectors read.</summary>
    public string Text { get; }

    /// <summary>True when each character of <see cref="Text"/> comes from the character at the same index of <see cref="Original"/>: spans need no mapping.</summary>
    public bool IsIdentity => edits is null;

    /// <summary>The original span a normalised span came from: the first character's start to the last one's end.</summary>
    public (int Start, int Length) ToOriginal(int start, int length) =>
        edits is null ? (start, length) : NormalEdit.ToOriginal(edits, Text.Length, Original.Length, start, length);

    /// <summary>Where normalised character <paramref name="index"/> begins in the original (the end for <c>Text.Length</c>).</summary>
    public int OriginalOffset(int index) =>
        edits is null ? index : NormalEdit.OriginalOffset(edits, Text.Length, Original.Length, index);

    public static NormalizedText Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var normal = Normalized.Of(text);
        var read = normal.Text.SequenceEqual(text) ? text : new string(normal.Text);
        return new NormalizedText(text, read, normal.IsIdentity ? null : normal.Edits.ToArray());
    }
}

/// <summary>
/// One normalised character (<c>NormStart</c>) and the original span it came from, where the normalised text does not
/// map one to one onto the original. Entries are kept in normalised order; every other character maps to one original
/// character, in step with its neighbours (after an entry, normalised <c>n</c> is original <c>n + OrigEnd - NormEnd</c>
/// of that entry).
/// </summary>
internal readonly record struct NormalEdit(int NormStart, int OrigStart, int OrigEnd)
{
    public int NormEnd => NormStart + 1;

    /// <summary>The original span of a normalised span: the first character's start to the last one's end.</summary>
    public static (int Start, int Length) ToOriginal(ReadOnlySpan<NormalEdit> edits, int textLength, int originalLength, int start, int length)
    {
        if (length == 0)
        {
            return (OriginalOffset(edits, textLength, originalLength, start), 0);
        }
        var from = Span(edits, start).Start;
        return (from, Span(edits, start + length - 1).End - from);
    }

    /// <summary>Where normalised character <paramref name="index"/> begins in the original (the end for the text's length).</summary>
    public static int OriginalOffset(ReadOnlySpan<NormalEdit> edits, int textLength, int originalLength, int index) =>
        index < textLength ? Span(edits, index).Start : originalLength;

    /// <summary>The original span of normalised character <paramref name="index"/>.</summary>
    private static (int Start, int End) Span(ReadOnlySpan<NormalEdit> edits, int index)
    {
        // The last entry at or before the index.
        int low = 0, high = edits.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (edits[mid].NormStart <= index)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        if (low == 0)
        {
            return (index, index + 1);
        }
        var edit = edits[low - 1];
        if (edit.NormStart == index)
        {
            return (edit.OrigStart, edit.OrigEnd);
        }
        var at = edit.OrigEnd + (index - edit.NormEnd);
        return (at, at + 1);
    }
}
