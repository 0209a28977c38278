using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;

namespace Pilotage.Core.Import;

/// <summary>
/// One problem in an import file. <see cref="Row"/> is the 1-based line of the file (the header is
/// line 1; a record with a quoted line break is reported at the line it starts on); 0 means the file
/// as a whole. <see cref="Column"/> is the column's name when the problem is in one field.
/// </summary>
public sealed record ImportError(int Row, string? Column, string Message)
{
    public override string ToString() =>
        Row == 0 ? Message : Column is null ? $"row {Row}: {Message}" : $"row {Row}, {Column}: {Message}";
}

/// <summary>One valid row of an evidence file, normalised: UTC timestamp, lower-case outcome, category and user.</summary>
public sealed record EvidenceRecord(
    int Row,
    string Prompt,
    string Answer,
    ReviewOutcome? Outcome,
    string? FinalText,
    double? ReviewSeconds,
    int? Rating,
    string? Category,
    DateTimeOffset Timestamp,
    string? User);

/// <summary>
/// The result of reading an evidence file: its valid rows and every error. <see cref="EvidenceCsv.Read"/>
/// returns rows only when every one is valid; <see cref="EvidenceCsv.ReadRows"/> returns the valid rows
/// of a file whose other rows are refused (<see cref="Rejected"/>).
/// </summary>
public sealed record EvidenceFile(IReadOnlyList<EvidenceRecord> Records, IReadOnlyList<ImportError> Errors, long Bytes, string Sha256)
{
    public bool IsValid => Errors.Count == 0;

    /// <summary>Data rows refused, each with at least one error (a row with three errors counts once).</summary>
    public int Rejected { get; init; }

    /// <summary>
    /// The file as a whole cannot be read — too large, an empty or broken header, no rows — so none of its
    /// rows can be imported, whatever their own state.
    /// </summary>
    public bool Unreadable { get; init; }
}

/// <summary>
/// Reads and validates a CSV of evidence gathered outside the gateway (docs/import.md): a header row
/// naming the columns (any order, any case), then one interaction per row. The file is validated as a
/// whole and every error is reported with its row and column, so a spreadsheet is fixed in one pass.
/// </summary>
public static partial class EvidenceCsv
{
    public const long MaxFileBytes = 25L * 1024 * 1024;

    /// <summary>At most this many errors are listed; one more entry says how many were left out.</summary>
    public const int MaxErrorsListed = 1000;

    /// <summary>
    /// The longest value a field may hold, in characters: far above a real prompt or answer (a long
    /// conversation with its documents), low enough that one runaway cell — a missing closing quote
    /// swallowing the rest of a file — is refused on its row instead of stored as one interaction.
    /// </summary>
    public const int MaxFieldChars = 1024 * 1024;

    public const string Prompt = "prompt";
    public const string Answer = "answer";
    public const string Outcome = "outcome";
    public const string FinalText = "final_text";
    public const string ReviewSeconds = "review_seconds";
    public const string Rating = "rating";
    public const string Category = "category";
    public const string Timestamp = "timestamp";
    public const string User = "user";

    public static IReadOnlyList<string> Columns { get; } = [Prompt, Answer, Outcome, FinalText, ReviewSeconds, Rating, Category, Timestamp, User];

    public static IReadOnlyList<string> RequiredColumns { get; } = [Prompt, Answer, Timestamp];

    public static IReadOnlyList<string> Outcomes => ReviewOutcomes.Names;

    public static IReadOnlyList<string> Categories => MetricCatalogue.Categories;

    /// <summary>
    /// Prefix of imported interaction ids, the gateway's own: <c>int_</c> + 12 hex characters of time + 24 of hash, 40
    /// in all (a gateway id is <c>int_</c> + a UUIDv7, 36 in all, so the two never meet).
    /// </summary>
    public const string IdPrefix = "int_";

    /// <summary>Hex characters of an imported id's time: milliseconds since 1970 in 48 bits, as a UUIDv7 starts.</summary>
    private const int IdTimeChars = 12;

    /// <summary>Hex characters of an imported id's hash: 96 bits of the SHA-256 of the row.</summary>
    private const int IdHashChars = 24;

    /// <summary>Bytes of the row's SHA-256 an imported id ends with (<see cref="IdHashChars"/> in hex).</summary>
    public const int IdHashBytes = IdHashChars / 2;

    /// <summary>The length of an imported interaction id.</summary>
    public const int IdLength = 40;

    private static readonly string[] TimestampFormats = BuildTimestampFormats();

    /// <summary>"file is 50.0 MB; split it into files of at most 25 MB".</summary>
    public static string TooLarge(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"file is {bytes / 1024.0 / 1024.0:0.0} MB; split it into files of at most {MaxFileBytes / 1024 / 1024} MB");

    /// <param name="content">The raw file: UTF-8, with or without a byte order mark.</param>
    /// <param name="now">When given, timestamps more than a day after it are errors (a swapped day and month, a wrong year).</param>
    public static EvidenceFile Read(ReadOnlySpan<byte> content, DateTimeOffset? now = null)
    {
        var file = ReadRows(content, now);
        return file.IsValid ? file : file with { Records = [] };
    }

    /// <summary>
    /// Reads an evidence file row by row: the valid rows, and every refused row's errors (invalid UTF-8 in it,
    /// broken quoting, the wrong number of fields, a bad value). Problems of the file as a whole — its size, its
    /// header, no rows at all — make it <see cref="EvidenceFile.Unreadable"/> with no rows.
    /// </summary>
    public static EvidenceFile ReadRows(ReadOnlySpan<byte> content, DateTimeOffset? now = null)
    {
        var reader = EvidenceFileReader.Open(content, now);
        return reader.Unreadable ? reader.ToFile([]) : reader.ToFile(reader.Rows().ToList());
    }

    internal static ImportError NotUtf8((int Line, int Byte) at) =>
        new(at.Line, null, $"the row is not valid UTF-8 (byte {at.Byte} of line {at.Line}); save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')");

    /// <summary>The first invalid byte on lines <paramref name="first"/>…<paramref name="last"/>; rows come in order, so the search resumes at <paramref name="next"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (int Line, int Byte)? InvalidIn(List<(int Line, int Byte)> invalid, ref int next, int first, int last)
    {
        while (next < invalid.Count && invalid[next].Line < first) next++;
        return next < invalid.Count && invalid[next].Line <= last ? invalid[next] : null;
    }

    /// <summary>
    /// The id an imported row gets: <c>int_</c>, the row's timestamp as 12 hex characters of milliseconds since 1970
    /// (0 before 1970), then the first 24 hex characters of SHA-256 over the system, timestamp, user, prompt and answer
    /// (each length-prefixed, so no two rows can collide by moving text across a field boundary). The same row imported
    /// twice gets the same id.
    /// </summary>
    /// <remarks>
    /// The time leads, as in the gateway's ids (UUIDv7): a file's rows, which come in time order, are inserted at the
    /// end of every index keyed by the id instead of at random places in it, so a large table is not read and written
    /// back page by page; and a person's interactions, read newest first by id, list imported rows at their time.
    /// The hash alone tells rows apart: two rows of the same millisecond share the time, never the id.
    /// </remarks>
    public static string InteractionId(string system, EvidenceRecord record) => InteractionId(system, record, null);

    /// <param name="sha256">
    /// A SHA-256 <see cref="IncrementalHash"/> to reuse, one per thread, for many rows: a one-shot hash sets up and frees
    /// the platform's hash state every time, which showed in an import's profile. Null: a one-shot hash.
    /// </param>
    public static string InteractionId(string system, EvidenceRecord record, IncrementalHash? sha256)
    {
        Span<byte> hash = stackalloc byte[32];
        var millis = InteractionIdParts(system, record, sha256, hash);
        Span<char> id = stackalloc char[IdLength];
        IdPrefix.CopyTo(id);
        millis.TryFormat(id[IdPrefix.Length..], out _, "x12", CultureInfo.InvariantCulture);
        Convert.TryToHexStringLower(hash[..(IdHashChars / 2)], id[(IdPrefix.Length + IdTimeChars)..], out _);
        return new string(id);
    }

    /// <summary>
    /// What <see cref="InteractionId(string, EvidenceRecord, IncrementalHash?)"/> is made of, without its text: the
    /// milliseconds it starts with (returned) and the SHA-256 whose first <see cref="IdHashBytes"/> bytes end it
    /// (written to <paramref name="hash"/>, 32 bytes). A bulk import keeps these and writes the text straight into
    /// the database's buffer, instead of a string per row that lives until its slice is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long InteractionIdParts(string system, EvidenceRecord record, IncrementalHash? sha256, Span<byte> hash)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentOutOfRangeException.ThrowIfLessThan(hash.Length, 32);
        // Built in one stack or pooled buffer, no string per part: this runs for every row of an import.
        Span<char> time = stackalloc char[32];
        // "O" of a UTC time is yyyy-MM-ddTHH:mm:ss.fffffffZ, written by a fast path instead of a custom format's parser.
        record.Timestamp.UtcDateTime.TryFormat(time, out var timeLength, "O", CultureInfo.InvariantCulture);
        var user = record.User ?? "";
        var max = 5 * 12 + Encoding.UTF8.GetMaxByteCount(system.Length + timeLength + user.Length + record.Prompt.Length + record.Answer.Length);
        var rented = max > 2048 ? ArrayPool<byte>.Shared.Rent(max) : null;
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[2048];
            var length = IdPart(buffer, 0, system);
            length = IdPart(buffer, length, time[..timeLength]);
            length = IdPart(buffer, length, user);
            length = IdPart(buffer, length, record.Prompt);
            length = IdPart(buffer, length, record.Answer);
            if (sha256 is null)
            {
                SHA256.HashData(buffer[..length], hash);
            }
            else
            {
                sha256.AppendData(buffer[..length]);
                sha256.GetHashAndReset(hash);
            }
            // Clamped to 48 bits; before 1970 (a nonsense date, but a valid one) all rows share 0 and the hash orders them.
            return Math.Clamp(record.Timestamp.ToUnixTimeMilliseconds(), 0, (1L << 48) - 1);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Appends <c>{length}:{part}|</c> (the length in UTF-16 characters, the part in UTF-8) at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int IdPart(Span<byte> buffer, int at, ReadOnlySpan<char> part)
    {
        part.Length.TryFormat(buffer[at..], out var written, default, CultureInfo.InvariantCulture);
        at += written;
        buffer[at++] = (byte)':';
        at += Encoding.UTF8.GetBytes(part, buffer[at..]);
        buffer[at++] = (byte)'|';
        return at;
    }

    internal static EvidenceFile Fail(long bytes, string sha, ImportError error) => new([], [error], bytes, sha) { Unreadable = true };

    /// <summary>
    /// The text, and where it is not UTF-8: each invalid sequence becomes U+FFFD in the text and is listed with
    /// its line and byte on that line (1-based; lines end as <see cref="CsvReader"/> ends them), so the rows
    /// holding one are refused and the others still read.
    /// </summary>
    internal static (string Text, List<(int Line, int Byte)> Invalid) Decode(ReadOnlySpan<byte> content)
    {
        var invalid = new List<(int Line, int Byte)>();
        if (Utf8.IsValid(content)) return (Encoding.UTF8.GetString(content), invalid);
        var text = new StringBuilder(content.Length);
        var line = 1;
        var lineStart = 0;
        Span<char> chars = stackalloc char[2];
        for (var i = 0; i < content.Length;)
        {
            if (Rune.DecodeFromUtf8(content[i..], out var rune, out var consumed) != OperationStatus.Done)
            {
                invalid.Add((line, i - lineStart + 1));
                text.Append('\uFFFD');
                i += Math.Max(consumed, 1);
                continue;
            }
            var b = content[i];
            if (b == (byte)'\n' || (b == (byte)'\r' && (i + 1 >= content.Length || content[i + 1] != (byte)'\n')))
            {
                line++;
                lineStart = i + 1;
            }
            text.Append(chars[..rune.EncodeToUtf16(chars)]);
            i += consumed;
        }
        return (text.ToString(), invalid);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool IsBlank(IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(fields[i])) return false;
        }
        return true;
    }

    /// <summary>Column name → field index; records every header problem.</summary>
    internal static Dictionary<string, int> ReadHeader(CsvRecord header, ErrorList errors)
    {
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        if (header.Fields.Count == 1 && header.Fields[0].Contains(';', StringComparison.Ordinal))
        {
            errors.Add(new ImportError(header.Line, null,
                "the header is a single column separated by semicolons; separate columns with commas (in a spreadsheet: save as 'CSV UTF-8 (comma delimited)')"));
            return columns;
        }
        for (var i = 0; i < header.Fields.Count; i++)
        {
            var name = header.Fields[i].Trim().ToLowerInvariant();
            if (name.Length == 0)
            {
                errors.Add(new ImportError(header.Line, null, $"column {i + 1} of the header has no name; name it or remove the empty column"));
                continue;
            }
            if (!Columns.Contains(name))
            {
                var suggestion = EditDistance.Closest(name, Columns);
                errors.Add(new ImportError(header.Line, header.Fields[i].Trim(),
                    $"unknown column '{header.Fields[i].Trim()}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} The columns are {string.Join(", ", Columns)}"));
                continue;
            }
            if (!columns.TryAdd(name, i))
            {
                errors.Add(new ImportError(header.Line, name, $"column '{name}' appears twice in the header (columns {columns[name] + 1} and {i + 1}); keep one"));
            }
        }
        foreach (var required in RequiredColumns)
        {
            if (!columns.ContainsKey(required))
            {
                errors.Add(new ImportError(header.Line, required, $"the required column '{required}' is missing; the header must name {string.Join(", ", RequiredColumns)}"));
            }
        }
        return columns;
    }

    internal static string? NameAt(Dictionary<string, int> columns, int field)
    {
        foreach (var (name, index) in columns)
        {
            if (index == field) return name;
        }
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static EvidenceRecord? ReadRow(CsvRecord record, Dictionary<string, int> columns, DateTimeOffset? now, ErrorList errors)
    {
        var before = errors.Count;
        var row = record.Line;
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        string? Value(string column) => columns.TryGetValue(column, out var index) ? record.Fields[index] : null;
        void Error(string column, string message) => errors.Add(new ImportError(row, column, message));

        foreach (var (name, index) in columns)
        {
            var length = record.Fields[index].Length;
            if (length > MaxFieldChars)
            {
                Error(name, string.Create(CultureInfo.InvariantCulture,
                    $"the value is {length:N0} characters long; a field holds at most {MaxFieldChars:N0} (check for a quote that is never closed)"));
            }
        }
        if (errors.Count != before) return null;
        foreach (var name in (ReadOnlySpan<string>)[Prompt, Answer, FinalText, User])
        {
            if (Value(name) is { } text && FormulaStart(text) is { } start)
            {
                Error(name, $"starts with {start}, which a spreadsheet runs as a formula when the evidence is opened in one (CSV injection); if it is text, start it with an apostrophe (') or a space");
            }
        }

        var prompt = Value(Prompt);
        if (columns.ContainsKey(Prompt) && string.IsNullOrWhiteSpace(prompt)) Error(Prompt, "the prompt is empty; every row needs the prompt the AI was given");
        var answer = Value(Answer);
        if (columns.ContainsKey(Answer) && string.IsNullOrWhiteSpace(answer)) Error(Answer, "the answer is empty; every row needs the AI's answer");

        DateTimeOffset timestamp = default;
        var rawTime = Value(Timestamp)?.Trim();
        if (columns.ContainsKey(Timestamp))
        {
            if (string.IsNullOrEmpty(rawTime)) Error(Timestamp, "the timestamp is empty; give the date (2026-03-01) or date and time (2026-03-01T09:30:00Z) of the interaction");
            else if (!TryParseTimestamp(rawTime, out timestamp))
                Error(Timestamp, $"'{rawTime}' is not an ISO 8601 date or date-time; write e.g. 2026-03-01, 2026-03-01T09:30:00 (UTC) or 2026-03-01T09:30:00+01:00");
            else if (now is { } n && timestamp > n.AddDays(1))
                Error(Timestamp, $"'{rawTime}' is in the future; check the year, and that day and month are not swapped (the format is year-month-day)");
        }

        ReviewOutcome? outcome = null;
        var rawOutcome = Value(Outcome)?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(rawOutcome))
        {
            outcome = ReviewOutcomes.Parse(rawOutcome);
            if (outcome is null)
            {
                var suggestion = EditDistance.Closest(rawOutcome, Outcomes);
                Error(Outcome, $"unknown outcome '{Value(Outcome)!.Trim()}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} Use {string.Join(", ", Outcomes)}, or leave it empty when the answer was not reviewed");
            }
        }

        var finalText = Value(FinalText);
        if (string.IsNullOrWhiteSpace(finalText)) finalText = null;
        if (outcome == ReviewOutcome.Edited && finalText is null)
        {
            Error(FinalText, columns.ContainsKey(FinalText)
                ? "the outcome is 'edited' but final_text is empty; give the text as the reviewer sent it (rework is measured against the answer)"
                : "the outcome is 'edited' but the file has no final_text column; add it with the text as the reviewer sent it");
        }

        double? seconds = null;
        var rawSeconds = Value(ReviewSeconds)?.Trim();
        if (!string.IsNullOrEmpty(rawSeconds))
        {
            if (!double.TryParse(rawSeconds, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var s) || !double.IsFinite(s))
                Error(ReviewSeconds, $"'{rawSeconds}' is not a number of seconds; write e.g. 45 or 12.5 (a dot for decimals, no unit)");
            else if (s < 0)
                Error(ReviewSeconds, $"review_seconds is {rawSeconds}; it cannot be negative");
            else if (rawOutcome is null or "")
                Error(ReviewSeconds, "review_seconds is given but the outcome is empty; a review time needs the review's outcome");
            else
                seconds = s;
        }

        int? rating = null;
        var rawRating = Value(Rating)?.Trim();
        if (!string.IsNullOrEmpty(rawRating))
        {
            if (!int.TryParse(rawRating, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value is < 1 or > 5)
                Error(Rating, $"rating '{rawRating}' is not a whole number from 1 to 5; leave it empty when there was no rating");
            else
                rating = value;
        }

        string? category = null;
        var rawCategory = Value(Category)?.Trim().ToLowerInvariant();
        if (!string.IsNullOrEmpty(rawCategory))
        {
            if (!Categories.Contains(rawCategory))
            {
                var suggestion = EditDistance.Closest(rawCategory, Categories);
                Error(Category, $"unknown category '{Value(Category)!.Trim()}'{(suggestion is null ? "" : $"; did you mean '{suggestion}'?")} Use {string.Join(", ", Categories)}, or leave it empty");
            }
            else
            {
                category = rawCategory;
            }
        }

        string? user = Value(User)?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(user)) user = null;
        else if (user.Length > 320 || !IsEmailShape(user))
            Error(User, $"'{Value(User)!.Trim()}' is not an e-mail address; give the user's e-mail (e.g. dana@example.org) or leave it empty");

        if (errors.Count != before) return null;
        return new EvidenceRecord(row, prompt!, answer!, outcome, finalText, outcome is null ? null : seconds ?? 0, rating, category, timestamp, user);
    }

    /// <summary>
    /// How the value starts if a spreadsheet would run it as a formula (OWASP "CSV injection"): =, +, @, a tab or a
    /// carriage return, or a minus that does not start a plain number or a dash followed by a space ("- item").
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static string? FormulaStart(string value)
    {
        if (value.Length == 0) return null;
        switch (value[0])
        {
            case '=' or '+' or '@':
                return $"'{value[0]}'";
            case '\t':
                return "a tab";
            case '\r':
                return "a carriage return";
            case '-' when value.Length > 1 && value[1] != ' '
                && !double.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _):
                return "'-'";
            default:
                return null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseTimestamp(string value, out DateTimeOffset timestamp) =>
        TryParseUtcSeconds(value, out timestamp) || DateTimeOffset.TryParseExact(value, TimestampFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);

    /// <summary>
    /// The shape spreadsheets and exports write most, <c>2026-03-01T09:30:00Z</c> (or a space for the T), read
    /// directly: the general parse tries the formats one by one for every row. Anything else goes to it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool TryParseUtcSeconds(string value, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (value.Length != 20 || value[4] != '-' || value[7] != '-' || value[10] is not ('T' or ' ') || value[13] != ':' || value[16] != ':' || value[19] != 'Z') return false;
        var year = Digits(value, 0, 4);
        var month = Digits(value, 5, 2);
        var day = Digits(value, 8, 2);
        var hour = Digits(value, 11, 2);
        var minute = Digits(value, 14, 2);
        var second = Digits(value, 17, 2);
        if (year < 1 || month is < 1 or > 12 || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59) return false;
        if (day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        timestamp = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        return true;

        static int Digits(string text, int start, int count)
        {
            var value = 0;
            for (var i = start; i < start + count; i++)
            {
                if (!char.IsAsciiDigit(text[i])) return -1;
                value = value * 10 + (text[i] - '0');
            }
            return value;
        }
    }

    private static string[] BuildTimestampFormats()
    {
        var formats = new List<string> { "yyyy-MM-dd" };
        foreach (var separator in new[] { "'T'", " " })
        {
            foreach (var time in new[] { "HH:mm", "HH:mm:ss", "HH:mm:ss.FFFFFFF" })
            {
                foreach (var zone in new[] { "", "'Z'", "zzz", " zzz" })
                {
                    formats.Add($"yyyy-MM-dd{separator}{time}{zone}");
                }
            }
        }
        return [.. formats];
    }

    /// <summary>
    /// An e-mail's shape, as <c>^[^@\s]+@[^@\s]+\.[^@\s]+$</c> reads it: text, one @, text with a dot that has text on
    /// both sides, no white space. Checked here rather than by a generated regex: it runs for every row of an import,
    /// and a regex generated into this assembly runs unoptimised through an import's first seconds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static bool IsEmailShape(string value)
    {
        var at = value.IndexOf('@');
        if (at <= 0 || at + 2 >= value.Length || value.IndexOf('@', at + 1) >= 0) return false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c)) return false;
        }
        var dot = value.IndexOf('.', at + 2);
        return dot >= 0 && dot < value.Length - 1;
    }

    /// <summary>Keeps the first <see cref="MaxErrorsListed"/> errors and counts the rest.</summary>
    internal sealed class ErrorList
    {
        private readonly List<ImportError> _errors = [];
        private int _dropped;

        public int Count => _errors.Count + _dropped;

        public void Add(ImportError error)
        {
            if (_errors.Count < MaxErrorsListed) _errors.Add(error);
            else _dropped++;
        }

        public List<ImportError> ToList()
        {
            // Header problems, quoting problems and row problems are found in separate passes: list them in file order.
            var list = _errors.OrderBy(e => e.Row).ToList();
            if (_dropped > 0) list.Add(new ImportError(0, null, $"… and {_dropped} more error(s) not listed; fix these and import again"));
            return list;
        }
    }
}
