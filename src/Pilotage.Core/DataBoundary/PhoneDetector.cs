using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Pilotage.Core.DataBoundary;

/// <summary>
/// Telephone numbers: international (<c>+CC …</c>) and common national forms, digit groups separated by
/// a normalised separator (space, '.', '-', '/', '_') or parentheses, with at least 7 digits. A number after
/// '#', after a reference word ("ISBN", "order", "ref"…), inside an identifier ("INV-2026-0001",
/// "A/2026/0042") or inside an IBAN-shaped run ("DE17 3704 …") is a reference, not a phone. The regex finds digit-group runs; the
/// code rejects what only looks like a phone (dates, years, decimals, grouped amounts), so that
/// redacting phones does not eat the rest of the numbers in a text.
/// </summary>
internal sealed partial class PhoneDetector() : Detector(Phone)
{
    private const int MinDigits = TextProfile.LongRunDigits;
    private const int MaxNationalDigits = 12;
    /// <summary>E.164: at most 15 digits including the country code.</summary>
    private const int MaxInternationalDigits = 15;
    /// <summary>Groups a candidate of ordinary length is split into on the stack; a longer one rents its array.</summary>
    private const int StackGroups = 32;

    private enum Kind : byte { Plain, Paren, Country }

    /// <param name="Start">Offset in the match, '+' or '(' included.</param>
    /// <param name="End">Offset after the last digit or ')'.</param>
    /// <param name="Separator">Character before the group, '\0' when none.</param>
    private readonly record struct Group(int Start, int End, int Digits, int Value, char Separator, Kind Kind);

    // The third look-behind (a group of an IBAN-shaped run) reaches back at most over the seven groups of four an IBAN
    // can have before its last one: unbounded, it made each group of a long run rescan the run before it.
    [GeneratedRegex(
        @"(?<![0-9A-Za-z+#])(?<![0-9A-Za-z][_/-])(?<![A-Za-z]{2}[0-9]{2}[ ./_-](?:[A-Za-z0-9]{4}[ ./_-]){0,7})(?:\+[0-9]{1,3}[ ./_-]?(?:\(0\)[ ./_-]?)?)?(?:\([0-9]{1,5}\)[ ./_-]?)?[0-9]{1,12}(?:[ ./_-][0-9]{1,12})*",
        RegexOptions.CultureInvariant)]
    private static partial Regex Candidate();

    public override bool Weak => true;

    /// <summary>15 digits, a country code, "(0)", parentheses and separators.</summary>
    public override int LongestMatch => 48;

    public override bool MayMatch(in TextProfile profile) => profile.LongestDigitRun >= MinDigits;

    /// <summary>
    /// Runs the pattern only over stretches that can hold a phone, with the same hits as over the whole text
    /// (<see cref="FindWithoutShortcuts"/>, which the tests hold this to). A candidate consumes nothing but
    /// <see cref="IsCandidateCharacter"/>, so none crosses another character: the text's candidates are those of each
    /// maximal stretch of such characters, each stretch searched from its start. A stretch with fewer than
    /// <see cref="MinDigits"/> digits has no candidate that is a phone, and is skipped. The pattern still reads the whole
    /// text behind a stretch (its look-behinds, the reference word) and the character after it.
    /// </summary>
    /// <remarks>
    /// The stretch's bounds are found one character at a time: in prose a stretch is a number and a space or two, shorter
    /// than what a vectorised search costs to start. Each character is read at most twice (stretches do not overlap).
    /// </remarks>
    public override void Find(ReadOnlySpan<char> text, int index, ref List<Finding>? sink) =>
        FindInStretches(text, index, ref sink, 0, text.Length);

    /// <summary>
    /// As <see cref="Find"/>, over the stretches that hold a long run of digit groups only: a candidate's digits are one
    /// run of groups (its separators, "(0)" and country code included, put at most three characters between two of its
    /// digits), and a phone has <see cref="MinDigits"/> of them, so the stretches before the profile's first long run and
    /// after its last hold none. The stretch of the first run is still found back from its first digit: its '+' or '('.
    /// </summary>
    public override void FindInProfiledText(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, in TextProfile profile)
    {
        if (profile.LongestDigitRun >= MinDigits && profile.Length == text.Length)
        {
            FindInStretches(text, index, ref sink, profile.LongRunsStart, profile.LongRunsEnd);
        }
        else if (profile.Length != text.Length)
        {
            Find(text, index, ref sink); // not this text's profile
        }
    }

    /// <summary>The stretches that hold a digit of <c>text[first..end]</c>, <paramref name="first"/> a digit or the text's start.</summary>
    private static void FindInStretches(ReadOnlySpan<char> text, int index, ref List<Finding>? sink, int first, int end)
    {
        var from = first;
        var floor = 0; // where the walk back to a stretch's start stops: the end of the stretch before it
        while (from < end)
        {
            var digit = text[from..end].IndexOfAnyInRange('0', '9');
            if (digit < 0)
            {
                return;
            }
            digit += from;
            // The stretch from the digit on; no digit stands before it in the stretch but those before 'first', which
            // the stretch's long run does not need, so its digits are counted here.
            var stretchEnd = digit;
            var digits = 0;
            for (; stretchEnd < text.Length && IsCandidateCharacter(text[stretchEnd]); stretchEnd++)
            {
                digits += char.IsAsciiDigit(text[stretchEnd]) ? 1 : 0;
            }
            if (digits >= MinDigits)
            {
                // Where the stretch begins: the one before it ended at a character outside the set, at or after 'floor'.
                var start = digit;
                while (start > floor && IsCandidateCharacter(text[start - 1]))
                {
                    start--;
                }
                // Sliced at the stretch's end: the pattern has no look-ahead, and could not consume the character there.
                if (digits > MaxDateDigits || !IsLoneDate(text[start..stretchEnd]))
                {
                    FindInStretch(text, text[..stretchEnd], start, index, ref sink);
                }
            }
            from = floor = stretchEnd;
        }
    }

    /// <summary>The most digits a date has (<see cref="IsDate"/>): "2026-11-18".</summary>
    private const int MaxDateDigits = 8;

    /// <summary>
    /// True when a stretch's only digits are one date as <see cref="IsDate"/> reads it ("2026-11-18", "18.11.2026"), with
    /// no '+' or '(' before it: the pattern's candidates there are the date itself, whose three groups
    /// <see cref="FindInCandidate"/> sets aside, or, where a look-behind refuses the date's first digit, a part of it
    /// that starts after a separator, two groups of at most six digits, too few for any phone. So the stretch holds no
    /// phone, and the pattern need not run on it: in prose, a date is most often the only long run of digit groups.
    /// A '+' or '(' could open a country or area code ("+2026-11-18" reads as one), and any other digit in the stretch
    /// could make a phone with the date's: either sends the stretch to the pattern.
    /// </summary>
    internal static bool IsLoneDate(ReadOnlySpan<char> stretch)
    {
        var i = 0;
        for (; i < stretch.Length && !char.IsAsciiDigit(stretch[i]); i++)
        {
            if (stretch[i] is '+' or '(')
            {
                return false;
            }
        }
        var a = DateGroup(stretch, ref i);
        var separator = i < stretch.Length ? stretch[i] : '\0';
        if (separator is not ('-' or '.' or '/'))
        {
            return false;
        }
        i++;
        var b = DateGroup(stretch, ref i);
        if (b.Digits == 0 || i >= stretch.Length || stretch[i] != separator)
        {
            return false;
        }
        i++;
        var c = DateGroup(stretch, ref i);
        // After the date, no digit: what is left of the stretch is separators, '+' and parentheses, which end no group.
        return c.Digits != 0 && IsDate(a, b, c) && AsciiDigits.IndexOf(stretch[i..]) < 0;
    }

    /// <summary>
    /// A plain group's digits and value, as <see cref="Parse"/> reads them: what <see cref="IsDate(DatePart, DatePart, DatePart)"/>
    /// reads. <see cref="IsLoneDate"/> runs on every stretch a date is alone in, and a <see cref="Group"/> (six fields)
    /// passed and returned by value cost it most of its time (about 10–18 ns a date against 4, in a loop, 2026-12-05).
    /// </summary>
    private readonly record struct DatePart(int Digits, int Value);

    /// <summary>The plain group of digits at <paramref name="i"/>, read as <see cref="Parse"/> reads it; moves past it.</summary>
    private static DatePart DateGroup(ReadOnlySpan<char> stretch, ref int i)
    {
        var start = i;
        var value = 0;
        for (; i < stretch.Length && char.IsAsciiDigit(stretch[i]); i++)
        {
            value = i - start < 4 ? (value * 10) + (stretch[i] - '0') : value;
        }
        return new DatePart(i - start, value);
    }

    /// <summary>Every character the candidate pattern can consume: digits, '+', parentheses and the separators.</summary>
    /// <remarks>One bit a character from ' ' to '_' (64 of them): a test the JIT inlines, where the pattern's list of
    /// characters compiled to a call.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsCandidateCharacter(char c) => (uint)(c - ' ') < 64 && ((CandidateCharacters >> (c - ' ')) & 1) != 0;

    private const ulong CandidateCharacters =
        (1UL << (' ' - ' ')) | (1UL << ('.' - ' ')) | (1UL << ('-' - ' ')) | (1UL << ('/' - ' ')) | (1UL << ('_' - ' '))
        | (1UL << ('(' - ' ')) | (1UL << (')' - ' ')) | (1UL << ('+' - ' ')) | (0x3FFUL << ('0' - ' '));

    /// <summary>The pattern over the whole text: what <see cref="Find"/> must equal.</summary>
    public override void FindWithoutShortcuts(ReadOnlySpan<char> text, int index, ref List<Finding>? sink) =>
        FindInStretch(text, text, 0, index, ref sink);

    /// <param name="text">The whole text, for what the checks read around a candidate.</param>
    /// <param name="searched">The text up to where candidates may end.</param>
    private static void FindInStretch(ReadOnlySpan<char> text, ReadOnlySpan<char> searched, int start, int index, ref List<Finding>? sink)
    {
        foreach (var match in Candidate().EnumerateMatches(searched, start))
        {
            var end = match.Index + match.Length;
            // The regex caps a group at 12 digits: a longer run is some other number.
            if (match.Length < MinDigits || (end < text.Length && char.IsAsciiDigit(text[end])) || AfterReferenceWord(text, match.Index))
            {
                continue;
            }
            FindInCandidate(text.Slice(match.Index, match.Length), match.Index, index, ref sink);
        }
    }

    private static void FindInCandidate(ReadOnlySpan<char> m, int offset, int index, ref List<Finding>? sink)
    {
        // Every group holds at least one character, so a candidate has at most m.Length groups. No candidate is too long
        // to read: a phone after a long run of small numbers ("1/2/3/…/30 020 7946 0958") is still a phone.
        Group[]? rentedGroups = null;
        bool[]? rentedDates = null;
        var groups = m.Length <= StackGroups ? stackalloc Group[StackGroups] : (rentedGroups = ArrayPool<Group>.Shared.Rent(m.Length));
        try
        {
            var count = Parse(m, groups);
            groups = groups[..count];

            // Dates written with '-' or '.' split the candidate: "2026-11-25 020 7946 0958" still holds a phone.
            var inDate = count <= StackGroups ? stackalloc bool[StackGroups] : (rentedDates = ArrayPool<bool>.Shared.Rent(count));
            inDate = inDate[..count];
            inDate.Clear();
            for (var k = 0; k + 2 < count; k++)
            {
                if (IsDate(groups[k], groups[k + 1], groups[k + 2]))
                {
                    inDate[k] = inDate[k + 1] = inDate[k + 2] = true;
                }
            }
            var first = 0;
            while (first < count)
            {
                if (inDate[first])
                {
                    first++;
                    continue;
                }
                var last = first;
                while (last + 1 < count && !inDate[last + 1])
                {
                    last++;
                }
                FindInPiece(groups[first..(last + 1)], offset, index, ref sink);
                first = last + 1;
            }
        }
        finally
        {
            if (rentedGroups is not null)
            {
                ArrayPool<Group>.Shared.Return(rentedGroups);
            }
            if (rentedDates is not null)
            {
                ArrayPool<bool>.Shared.Return(rentedDates);
            }
        }
    }

    /// <summary>
    /// Redacts every group of the piece that some phone-shaped reading of it holds, so that no digit of a phone is left
    /// visible: "2025 020 7946 0958" reads as "2025 020 7946" and as "020 7946 0958", and the four groups go together.
    /// Readings are cut only where a space separates two groups: "978-3-16-148410-0" is one identifier, and no phone is
    /// carved out of its middle. The hits are the longest phone-shaped prefix, then the next one after it (numbers
    /// separated only by a space, "020 7946 0958 020 7946 0959", stay two hits); a group no such prefix takes but another
    /// reading holds joins the hit before it, and so does a prefix that is only the tail of a reading from that hit
    /// ("2025 2026 020 7946 0958" is one hit, not "2025 2026 020" and "7946 0958").
    /// </summary>
    /// <remarks>
    /// No reading holds more than 15 digits: each place a reading can start is tried with the ends within 15 digits of
    /// it (15 groups at most), which keeps a long run of numbers linear.
    /// </remarks>
    private static void FindInPiece(ReadOnlySpan<Group> piece, int offset, int index, ref List<Finding>? sink)
    {
        if (IsPrintedLikeACard(piece))
        {
            return; // a card number that failed the card check: no phone is carved out of it
        }
        // The open hit runs from 'hit' to at least 'hitLast' (its longest prefix), and on to 'reach', the last group
        // of any reading that starts inside it or inside the groups it took since.
        int hit = -1, hitLast = -1, reach = -1;
        for (var first = 0; first < piece.Length; first = NextCut(piece, first))
        {
            if (hit >= 0 && first > reach)
            {
                Add(ref sink, index, piece, offset, hit, reach);
                hit = -1;
            }
            var last = LongestPhoneFrom(piece, first);
            if (last < 0)
            {
                continue;
            }
            if (first > hitLast)
            {
                // A prefix that starts after the hit's own and ends beyond every reading before it is a phone of its
                // own; one that a reading from the hit already reaches is that reading's tail, and the hit takes it.
                if (last > reach)
                {
                    if (hit >= 0)
                    {
                        Add(ref sink, index, piece, offset, hit, first - 1); // the groups between join the hit before
                    }
                    hit = first;
                }
                hitLast = last;
            }
            reach = Math.Max(reach, last);
        }
        if (hit >= 0)
        {
            Add(ref sink, index, piece, offset, hit, reach);
        }
    }

    private static void Add(ref List<Finding>? sink, int index, ReadOnlySpan<Group> piece, int offset, int first, int last) =>
        Add(ref sink, index, offset + piece[first].Start, piece[last].End - piece[first].Start);

    /// <summary>The next group after <paramref name="first"/> that a space separates from the one before it.</summary>
    private static int NextCut(ReadOnlySpan<Group> piece, int first)
    {
        do
        {
            first++;
        }
        while (first < piece.Length && piece[first].Separator != ' ');
        return first;
    }

    /// <summary>The last group of the longest phone that starts at <paramref name="first"/> and ends where a space cuts the piece, or -1.</summary>
    private static int LongestPhoneFrom(ReadOnlySpan<Group> piece, int first)
    {
        // No phone has more than 15 digits: the longest reading tried stops there (at 15 groups at most, since every
        // group has a digit), so a run of numbers costs a few checks a group.
        var last = first;
        for (var digits = piece[first].Digits; last + 1 < piece.Length && digits + piece[last + 1].Digits <= MaxInternationalDigits; last++)
        {
            digits += piece[last + 1].Digits;
        }
        for (; last >= first; last--)
        {
            if ((last == piece.Length - 1 || piece[last + 1].Separator == ' ') && IsPhone(piece[first..(last + 1)]))
            {
                return last;
            }
        }
        return -1;
    }

    /// <summary>Splits a candidate into digit groups; <paramref name="groups"/> holds at least as many as the candidate has characters.</summary>
    private static int Parse(ReadOnlySpan<char> m, Span<Group> groups)
    {
        var count = 0;
        var separator = '\0';
        var i = 0;
        while (i < m.Length)
        {
            var c = m[i];
            if (c is ' ' or '.' or '-' or '/' or '_')
            {
                separator = c;
                i++;
                continue;
            }
            var start = i;
            var kind = c switch { '+' => Kind.Country, '(' => Kind.Paren, _ => Kind.Plain };
            if (kind != Kind.Plain)
            {
                i++;
            }
            var value = 0;
            var digitsStart = i;
            while (i < m.Length && char.IsAsciiDigit(m[i]))
            {
                // Only small groups are read as numbers (dates, years); the cap keeps this from overflowing.
                value = i - digitsStart < 4 ? (value * 10) + (m[i] - '0') : value;
                i++;
            }
            var digits = i - digitsStart;
            if (kind == Kind.Paren)
            {
                i++; // the regex guarantees the ')'
            }
            groups[count++] = new Group(start, i, digits, value, separator, kind);
            separator = '\0';
        }
        return count;
    }

    /// <summary>yyyy-mm-dd, dd-mm-yyyy, mm.dd.yyyy, dd/mm/yyyy…: three plain groups with one repeated '-', '.' or '/'.</summary>
    private static bool IsDate(Group a, Group b, Group c) =>
        a.Kind == Kind.Plain && b.Kind == Kind.Plain && c.Kind == Kind.Plain && b.Separator is ('-' or '.' or '/') && c.Separator == b.Separator
        && IsDate(new DatePart(a.Digits, a.Value), new DatePart(b.Digits, b.Value), new DatePart(c.Digits, c.Value));

    /// <summary>Three plain groups, one separator between them: a year and then a month and a day, or a day and a month in either order and then a year.</summary>
    private static bool IsDate(DatePart a, DatePart b, DatePart c)
    {
        if (a.Digits == 4 && b.Digits <= 2 && c.Digits <= 2)
        {
            return b.Value is >= 1 and <= 12 && c.Value is >= 1 and <= 31;
        }
        if (a.Digits <= 2 && b.Digits <= 2 && c.Digits == 4)
        {
            // Day and month in either order.
            return a.Value is >= 1 and <= 31 && b.Value is >= 1 and <= 31 && (a.Value <= 12 || b.Value <= 12);
        }
        return false;
    }

    private static bool IsPhone(ReadOnlySpan<Group> piece)
    {
        var digits = 0;
        var longest = 0;
        var paren = false;
        var years = true;
        foreach (var group in piece)
        {
            digits += group.Digits;
            longest = Math.Max(longest, group.Digits);
            paren |= group.Kind == Kind.Paren;
            years &= group.Digits == 4 && group.Value is >= 1900 and <= 2099;
        }
        if (piece[0].Kind == Kind.Country)
        {
            return digits is >= MinDigits + 1 and <= MaxInternationalDigits; // country code included
        }
        if (digits is < MinDigits or > MaxNationalDigits)
        {
            return false;
        }
        if (piece.Length == 1)
        {
            // An unseparated national number is a phone only at the usual 10 or 11 digits.
            return digits is 10 or 11;
        }
        if (years || longest <= 1)
        {
            return false; // "2020 2021 2022", "1-2-3-4-5-6-7"
        }
        if (IsAddress(piece))
        {
            return false; // "192.168.10.20"
        }
        if (piece.Length == 3 && piece[0].Digits == 3 && piece[1].Digits == 2 && piece[2].Digits == 4 && piece[2].Separator == piece[1].Separator)
        {
            return false; // "000-12-3456": written like a Social Security number, which phones are not
        }
        if (!paren)
        {
            if (piece.Length == 2 && piece[1].Separator == '.' && !LeadingZero(piece[0]))
            {
                return false; // a decimal number ("0171.2345678" is not one: no decimal starts with "01")
            }
            if (IsGroupedAmount(piece))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Words that say the number after them is a reference, not a phone (the context words of Presidio's recognisers, used the other way).</summary>
    private static readonly string[] ReferenceWords = ["isbn", "issn", "doi", "ip", "ipv4", "order", "invoice", "ticket", "case", "ref", "version"];

    private static bool AfterReferenceWord(ReadOnlySpan<char> text, int start)
    {
        var before = text[..start].TrimEnd(" :#.");
        foreach (var word in ReferenceWords)
        {
            if (before.EndsWith(word, StringComparison.OrdinalIgnoreCase)
                && (before.Length == word.Length || !char.IsLetterOrDigit(before[^(word.Length + 1)])))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// 13–19 digits printed the way cards are: a group of four, then groups of four (or the six of Amex and Diners), and
    /// a last group of three to five. Other card-length runs are read for phones: "2025 020 7946 0958" is not a card.
    /// </summary>
    private static bool IsPrintedLikeACard(ReadOnlySpan<Group> piece)
    {
        if (piece.Length < 3 || piece[0].Digits != 4 || piece[^1].Digits is < 3 or > 5)
        {
            return false;
        }
        var digits = 0;
        for (var i = 0; i < piece.Length; i++)
        {
            if (piece[i].Kind != Kind.Plain || (i > 0 && i < piece.Length - 1 && piece[i].Digits is not (4 or 6)))
            {
                return false;
            }
            digits += piece[i].Digits;
        }
        return digits is >= 13 and <= 19;
    }

    private static bool LeadingZero(Group group) =>
        group.Digits > 1 && group.Value < (Math.Min(group.Digits, 4) switch { 2 => 10, 3 => 100, _ => 1000 });

    /// <summary>An IPv4 address: four dot-separated groups of at most three digits.</summary>
    private static bool IsAddress(ReadOnlySpan<Group> piece)
    {
        if (piece.Length != 4)
        {
            return false;
        }
        for (var i = 0; i < 4; i++)
        {
            if (piece[i].Digits > 3 || piece[i].Kind != Kind.Plain || (i > 0 && piece[i].Separator != '.'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>"1 000 000", "12.345.678": a short head and then only groups of exactly three digits.</summary>
    private static bool IsGroupedAmount(ReadOnlySpan<Group> piece)
    {
        if (piece[0].Digits > 3)
        {
            return false;
        }
        for (var i = 1; i < piece.Length; i++)
        {
            if (piece[i].Digits != 3 || piece[i].Separator != piece[1].Separator)
            {
                return false;
            }
        }
        return true;
    }
}
