using System.Buffers;
using System.Globalization;
using System.Text;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// The one spelling every detector reads (see <see cref="NormalizedText"/> for what it folds), over a span and in
/// pooled buffers: the scan of a request's text allocates nothing. Plain ASCII text with single separators is already
/// normal: <see cref="Text"/> is then the original itself, with no copy and no map. Any other text is copied once into
/// a pooled buffer, with a map back only where it is not one to one. Dispose it to return its buffers.
/// </summary>
internal ref partial struct Normalized
{
    private char[]? chars;
    private NormalEdit[]? edits;
    private readonly int editCount;
    private readonly bool mapped;
    private readonly TextProfile? profile;

    private Normalized(ReadOnlySpan<char> original, ReadOnlySpan<char> text, char[]? chars, NormalEdit[]? edits, int editCount, bool mapped, TextProfile? profile = null)
    {
        this.profile = profile;
        Original = original;
        Text = text;
        this.chars = chars;
        this.edits = edits;
        this.editCount = editCount;
        this.mapped = mapped;
    }

    /// <summary>The text as it was given.</summary>
    public ReadOnlySpan<char> Original { get; }

    /// <summary>The text detectors read.</summary>
    public ReadOnlySpan<char> Text { get; }

    /// <summary>
    /// What each detector may match in <see cref="Text"/>: learnt on the way when the normalisation's own walk from run to
    /// run of digits went over the whole text (it finds no run to fold), computed by its own walk otherwise.
    /// </summary>
    public readonly TextProfile Profile => profile ?? new TextProfile(Text);

    /// <summary>True when each character of <see cref="Text"/> comes from the character at the same index of <see cref="Original"/>: spans need no mapping.</summary>
    public readonly bool IsIdentity => !mapped;

    /// <summary>Where the normalised text does not map one to one onto the original (see <see cref="NormalEdit"/>).</summary>
    public readonly ReadOnlySpan<NormalEdit> Edits => edits.AsSpan(0, editCount);

    /// <summary>The original span a normalised span came from: the first character's start to the last one's end.</summary>
    public readonly (int Start, int Length) ToOriginal(int start, int length) =>
        mapped ? NormalEdit.ToOriginal(Edits, Text.Length, Original.Length, start, length) : (start, length);

    /// <summary>Where normalised character <paramref name="index"/> begins in the original (the end for <c>Text.Length</c>).</summary>
    public readonly int OriginalOffset(int index) =>
        mapped ? NormalEdit.OriginalOffset(Edits, Text.Length, Original.Length, index) : index;

    /// <summary>Returns the pooled buffers; the spans must not be read after.</summary>
    public void Dispose()
    {
        if (chars is not null)
        {
            ArrayPool<char>.Shared.Return(chars);
            chars = null;
        }
        if (edits is not null)
        {
            ArrayPool<NormalEdit>.Shared.Return(edits);
            edits = null;
        }
    }

    public static Normalized Of(ReadOnlySpan<char> text)
    {
        // One pass marks the digits, and finds whether the text is ASCII and holds an '@'.
        var words = AsciiDigits.WordsFor(text.Length);
        ulong[]? rented = null;
        var digits = words <= StackWords ? stackalloc ulong[words] : (rented = ArrayPool<ulong>.Shared.Rent(words)).AsSpan(0, words);
        try
        {
            var marks = AsciiDigits.Mark(text, digits, untilNonAscii: true);
            if (marks.NonAscii)
            {
                return Build(text);
            }
            // ASCII is its own first pass; with no run of two separators touching a digit, nothing is left to fold.
            return HasRunToFold(text, digits, out var runs) ? Fold(text, text, default)
                : new Normalized(text, text, null, null, 0, false, runs.ToProfile(text.Length, marks.HasAt ? text.IndexOf('@') : -1));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<ulong>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// As <see cref="Of(ReadOnlySpan{char})"/>, for plain ASCII text the request walk read with its digits marked and its
    /// first '@' found (<see cref="AsciiDigits.TryWidenAndMark"/>, -1 for none): no pass of its own over the text.
    /// </summary>
    public static Normalized Of(ReadOnlySpan<char> text, ReadOnlySpan<ulong> digits, int firstAt)
    {
        return HasRunToFold(text, digits, out var runs) ? Fold(text, text, default) : new Normalized(text, text, null, null, 0, false, runs.ToProfile(text.Length, firstAt));
    }

    /// <summary>Texts up to 64 times this many characters have their digits marked on the stack.</summary>
    private const int StackWords = 64;

    /// <summary>
    /// Normalised characters as they are written, in a pooled buffer, with the map back kept only where it is not one to
    /// one (see <see cref="NormalEdit"/>): a prompt with a few digits that end a sentence, or in a script of its own,
    /// costs a copy and a handful of entries, not a map per character.
    /// </summary>
    private ref struct Writer
    {
        public char[]? Chars;
        public int Length;
        public NormalEdit[]? Edits;
        public int EditCount;
        private int lastEnd;

        public Writer(int capacity)
        {
            Chars = ArrayPool<char>.Shared.Rent(Math.Max(capacity, 16));
        }

        public readonly ReadOnlySpan<char> Written => Chars.AsSpan(0, Length);

        public readonly ReadOnlySpan<NormalEdit> WrittenEdits => Edits.AsSpan(0, EditCount);

        public void Put(char c, int start, int end)
        {
            if (Length == Chars!.Length)
            {
                Grow(Length + 1);
            }
            // In step with the character before it: no entry (see NormalEdit).
            if (start != lastEnd || end != start + 1)
            {
                AddEdit(new NormalEdit(Length, start, end));
            }
            Chars![Length++] = c;
            lastEnd = end;
        }

        /// <summary>Characters that each map to the one original character at the same offset from <paramref name="start"/>.</summary>
        public void PutRun(ReadOnlySpan<char> run, int start)
        {
            if (run.IsEmpty)
            {
                return;
            }
            Put(run[0], start, start + 1);
            if (Length + run.Length > Chars!.Length)
            {
                Grow(Length + run.Length);
            }
            // After the first, each is in step with the one before it: no entries.
            run[1..].CopyTo(Chars.AsSpan(Length));
            Length += run.Length - 1;
            lastEnd = start + run.Length;
        }

        private void Grow(int needed)
        {
            var larger = ArrayPool<char>.Shared.Rent(Math.Max(Chars!.Length * 2, needed));
            Chars.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<char>.Shared.Return(Chars);
            Chars = larger;
        }

        private void AddEdit(NormalEdit edit)
        {
            if (Edits is null || EditCount == Edits.Length)
            {
                var larger = ArrayPool<NormalEdit>.Shared.Rent(Math.Max(16, EditCount * 2));
                if (Edits is not null)
                {
                    Edits.AsSpan(0, EditCount).CopyTo(larger);
                    ArrayPool<NormalEdit>.Shared.Return(Edits);
                }
                Edits = larger;
            }
            Edits[EditCount++] = edit;
        }

        /// <summary>Returns what was not handed over to a <see cref="Normalized"/>.</summary>
        public void Return()
        {
            if (Chars is not null)
            {
                ArrayPool<char>.Shared.Return(Chars);
                Chars = null;
            }
            if (Edits is not null)
            {
                ArrayPool<NormalEdit>.Shared.Return(Edits);
                Edits = null;
            }
        }
    }

    /// <summary>Reads the spans of a normalised character sequence in increasing order, from its entries.</summary>
    private ref struct SpanCursor(ReadOnlySpan<NormalEdit> edits)
    {
        private readonly ReadOnlySpan<NormalEdit> edits = edits;
        private int next;
        private int shift;

        /// <summary>Where the next entry at or after the last index read is: characters before it map one to one.</summary>
        public readonly int NextEntry => next < edits.Length ? edits[next].NormStart : int.MaxValue;

        public (int Start, int End) At(int index)
        {
            while (next < edits.Length && edits[next].NormStart < index)
            {
                shift = edits[next].OrigEnd - edits[next].NormEnd;
                next++;
            }
            if (next < edits.Length && edits[next].NormStart == index)
            {
                return (edits[next].OrigStart, edits[next].OrigEnd);
            }
            return (index + shift, index + shift + 1);
        }
    }

    /// <summary>
    /// The full path for any text, ASCII too, with the second pass always run: what <see cref="Of"/>'s shortcuts (ASCII
    /// is its own first pass, a text with no run to fold skips the second) must equal. Tests compare the two.
    /// </summary>
    internal static Normalized Full(ReadOnlySpan<char> text) => Build(text, alwaysFold: true);

    private static Normalized Build(ReadOnlySpan<char> text, bool alwaysFold = false)
    {
        // First pass: character by character (combining sequences together), NFKC, Cf out, digits to ASCII. ASCII and
        // the letters of any script map to themselves (see Plain), so only what changes is looked at closely.
        var first = new Writer(text.Length + 16);
        try
        {
            var i = 0;
            while (i < text.Length)
            {
                // A run of characters that map to themselves goes over in one copy.
                // One look-up per character; a character followed by a mark starts a sequence, so it stays out.
                var plain = i;
                while (plain < text.Length && Plain.Of(text[plain]) == Plain.Itself)
                {
                    plain++;
                }
                if (plain > i && plain < text.Length && Plain.Of(text[plain]) == Plain.MaybeMark)
                {
                    plain--;
                }
                if (plain > i)
                {
                    first.PutRun(text.Slice(i, plain - i), i);
                    i = plain;
                    continue;
                }
                var c = text[i];
                var end = SequenceEnd(text, i);
                if (end == i + 1 && c < 0x80)
                {
                    first.Put(c, i, end);
                }
                else
                {
                    // The sequence's characters each map to the whole sequence: a mark redacts with its base.
                    for (var at = i; at < end;)
                    {
                        if (Rune.DecodeFromUtf16(text[at..end], out var rune, out var used) != OperationStatus.Done)
                        {
                            rune = new Rune(text[at] == '\0' ? ' ' : '\uFFFD'); // a lone surrogate: no detector reads it
                            used = 1;
                        }
                        EmitRune(ref first, rune, i, end);
                        at += used;
                    }
                }
                i = end;
            }
            if (alwaysFold)
            {
                return Fold(text, first.Written, first.WrittenEdits);
            }
            var written = first.Written;
            var words = AsciiDigits.WordsFor(written.Length);
            ulong[]? rented = null;
            var digits = words <= StackWords ? stackalloc ulong[words] : (rented = ArrayPool<ulong>.Shared.Rent(words)).AsSpan(0, words);
            try
            {
                var marks = AsciiDigits.Mark(written, digits);
                return HasRunToFold(written, digits, out var runs) ? Fold(text, written, first.WrittenEdits)
                    : Done(text, ref first, runs.ToProfile(written.Length, marks.HasAt ? written.IndexOf('@') : -1));
            }
            finally
            {
                if (rented is not null)
                {
                    ArrayPool<ulong>.Shared.Return(rented);
                }
            }
        }
        finally
        {
            first.Return();
        }
    }

    /// <summary>
    /// Second pass: separator runs between alphanumeric groups, one side digits, become one character. Only a run of
    /// two or more that touches a digit can change (a single separator reads as itself), so the pass goes from digit
    /// to digit and copies the text in between in blocks: prose in any script, with a space every few characters, is
    /// not walked word by word.
    /// </summary>
    private static Normalized Fold(ReadOnlySpan<char> text, ReadOnlySpan<char> chars, ReadOnlySpan<NormalEdit> firstEdits)
    {
        var spans = new SpanCursor(firstEdits);
        var output = new Writer(chars.Length);
        try
        {
            var copied = 0; // chars[..copied] are written
            for (var digit = AsciiDigits.IndexOf(chars); digit >= 0;)
            {
                // The run of separators that ends at this digit, then the one that starts after it.
                var before = digit;
                while (before > copied && IsSeparator(chars[before - 1]))
                {
                    before--;
                }
                if (digit - before >= 2 && Bounded(chars, before, digit))
                {
                    FoldRun(ref output, ref spans, chars, copied, before, digit);
                    copied = digit;
                }
                var after = digit + 1;
                while (after < chars.Length && IsSeparator(chars[after]))
                {
                    after++;
                }
                if (after - digit > 2 && Bounded(chars, digit + 1, after))
                {
                    FoldRun(ref output, ref spans, chars, copied, digit + 1, after);
                    copied = after;
                }
                var next = after < chars.Length ? AsciiDigits.IndexOf(chars[after..]) : -1;
                digit = next < 0 ? -1 : after + next;
            }
            Copy(ref output, ref spans, chars, copied, chars.Length);
            return Done(text, ref output);
        }
        finally
        {
            output.Return();
        }
    }

    /// <summary>
    /// Whether the whole run of separators <c>chars[start..end]</c> folds: between two digits any run does; between a
    /// digit and a letter only a run of spaces does, so that the dashes and underscores inside tokens and keys keep their
    /// length. A run at either end of the text, or next to anything else, stays as it is.
    /// </summary>
    private static bool Bounded(ReadOnlySpan<char> chars, int start, int end)
    {
        if (start == 0 || end == chars.Length || !char.IsAsciiLetterOrDigit(chars[start - 1]) || !char.IsAsciiLetterOrDigit(chars[end]))
        {
            return false;
        }
        var before = chars[start - 1];
        var after = chars[end];
        return (char.IsAsciiDigit(before) && char.IsAsciiDigit(after))
            || ((char.IsAsciiDigit(before) || char.IsAsciiDigit(after)) && AllSpaces(chars[start..end]));
    }

    /// <summary>Copies <c>chars[from..start]</c>, then writes the run <c>chars[start..end]</c> as one character.</summary>
    private static void FoldRun(ref Writer output, ref SpanCursor spans, ReadOnlySpan<char> chars, int from, int start, int end)
    {
        Copy(ref output, ref spans, chars, from, start);
        // The run reads as its most telling character: a dash, dot, slash or underscore over a space.
        var separator = ' ';
        foreach (var s in chars[start..end])
        {
            if (s != ' ')
            {
                separator = s;
                break;
            }
        }
        var origin = spans.At(start).Start;
        output.Put(separator, origin, spans.At(end - 1).End);
    }

    /// <summary>Copies <c>chars[from..to]</c> as they are, each with its original span, in blocks between the first pass's entries.</summary>
    private static void Copy(ref Writer output, ref SpanCursor spans, ReadOnlySpan<char> chars, int from, int to)
    {
        while (from < to)
        {
            var (start, end) = spans.At(from);
            output.Put(chars[from], start, end);
            from++;
            var limit = Math.Min(to, spans.NextEntry);
            if (limit > from)
            {
                output.PutRun(chars[from..limit], spans.At(from).Start);
                from = limit;
            }
        }
    }

    /// <summary>The result, taking over the writer's buffers where it keeps them (the writer returns the rest).</summary>
    private static Normalized Done(ReadOnlySpan<char> text, scoped ref Writer written, TextProfile? profile = null)
    {
        // A text shorter or longer than the original, or with removed characters at its end, needs its map.
        var mapped = written.EditCount > 0 || written.Length != text.Length;
        var same = written.Written.SequenceEqual(text);
        var chars = same ? null : written.Chars;
        var edits = written.EditCount > 0 ? written.Edits : null;
        var result = new Normalized(text, same ? text : written.Written, chars, edits, written.EditCount, mapped, profile);
        if (chars is not null)
        {
            written.Chars = null;
        }
        if (edits is not null)
        {
            written.Edits = null;
        }
        return result;
    }

    private static void EmitRune(ref Writer into, Rune rune, int start, int end)
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
            into.Put((char)('0' + (int)value), start, end);
            return;
        }
        Span<char> folded = stackalloc char[3];
        var length = Compatibility.Fold(rune, folded);
        if (length > 0)
        {
            for (var f = 0; f < length; f++)
            {
                into.Put(folded[f], start, end);
            }
            return;
        }
        if (category == UnicodeCategory.SpaceSeparator)
        {
            into.Put(' ', start, end);
            return;
        }
        if (category == UnicodeCategory.DashPunctuation)
        {
            into.Put('-', start, end);
            return;
        }
        Span<char> utf16 = stackalloc char[2];
        var written = rune.EncodeToUtf16(utf16);
        for (var u = 0; u < written; u++)
        {
            into.Put(utf16[u], start, end);
        }
    }

    /// <summary>
    /// What the first pass does with a UTF-16 unit on its own, from a table of the Basic Multilingual Plane built once:
    /// most text (ASCII, and the letters and punctuation of every script) maps to itself and skips the per-character
    /// Unicode lookups.
    /// </summary>
    private static class Plain
    {
        /// <summary>Maps to itself and is not a combining mark nor part of a surrogate pair.</summary>
        public const byte Itself = 0;
        /// <summary>A combining mark or a surrogate (which may begin one): the character before it is part of a sequence.</summary>
        public const byte MaybeMark = 1;
        /// <summary>Anything else: folded, removed, a digit, a space or dash of another kind.</summary>
        public const byte Other = 2;

        private static readonly byte[] Table = Build();

        public static byte Of(char c) => Table[c];

        private static byte[] Build()
        {
            var table = new byte[char.MaxValue + 1];
            Span<char> folded = stackalloc char[3];
            for (var c = 0x80; c <= char.MaxValue; c++)
            {
                if (char.IsSurrogate((char)c))
                {
                    table[c] = MaybeMark;
                    continue;
                }
                var category = CharUnicodeInfo.GetUnicodeCategory((char)c);
                table[c] = category switch
                {
                    UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => MaybeMark,
                    UnicodeCategory.Format or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.OtherNumber
                        or UnicodeCategory.SpaceSeparator or UnicodeCategory.DashPunctuation => Other,
                    _ => Compatibility.Fold(new Rune(c), folded) > 0 ? Other : Itself,
                };
            }
            return table;
        }
    }

    /// <summary>A character and the combining marks after it: NFKC may compose them, so they map back together.</summary>
    private static int SequenceEnd(ReadOnlySpan<char> text, int start)
    {
        var end = start + (char.IsHighSurrogate(text[start]) && start + 1 < text.Length && char.IsLowSurrogate(text[start + 1]) ? 2 : 1);
        while (end < text.Length && text[end] >= 0x0300)
        {
            // A lone surrogate does not decode, and is no mark: it ends the sequence.
            if (Rune.DecodeFromUtf16(text[end..], out var mark, out var used) != OperationStatus.Done
                || Rune.GetUnicodeCategory(mark) is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                break;
            }
            end += used;
        }
        return end;
    }

    /// <summary>Superscript, subscript and circled digits: NFKC folds them to plain digits.</summary>
    private static bool IsCompatibilityDigit(int value) =>
        value is 0x00B2 or 0x00B3 or 0x00B9 or 0x2070 or (>= 0x2074 and <= 0x2079) or (>= 0x2080 and <= 0x2089)
            or (>= 0x2460 and <= 0x2468) or 0x24EA or (>= 0x2780 and <= 0x2788) or (>= 0x1F100 and <= 0x1F10A);

    private static bool IsSeparator(char c) => c is ' ' or '-' or '.' or '/' or '_';

    private static bool AllSpaces(ReadOnlySpan<char> run) => !run.ContainsAnyExcept(' ');
}
