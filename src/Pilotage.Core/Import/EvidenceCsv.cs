using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
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

/// <summary>The result of reading an evidence file: its rows when every one is valid, else every error.</summary>
public sealed record EvidenceFile(IReadOnlyList<EvidenceRecord> Records, IReadOnlyList<ImportError> Errors, long Bytes, string Sha256)
{
    public bool IsValid => Errors.Count == 0;
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

    /// <summary>Prefix of imported interaction ids (<c>int_imp_</c> + 32 hex characters: 40 in all).</summary>
    public const string IdPrefix = "int_imp_";

    private static readonly string[] TimestampFormats = BuildTimestampFormats();

    /// <summary>"file is 50.0 MB; split it into files of at most 25 MB".</summary>
    public static string TooLarge(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"file is {bytes / 1024.0 / 1024.0:0.0} MB; split it into files of at most {MaxFileBytes / 1024 / 1024} MB");

    /// <param name="content">The raw file: UTF-8, with or without a byte order mark.</param>
    /// <param name="now">When given, timestamps more than a day after it are errors (a swapped day and month, a wrong year).</param>
    public static EvidenceFile Read(ReadOnlySpan<byte> content, DateTimeOffset? now = null)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        if (content.Length > MaxFileBytes) return Fail(content.Length, sha, new ImportError(0, null, TooLarge(content.Length)));
        if (content.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) content = content[3..];
        if (Decode(content) is not { } text)
        {
            var valid = ValidPrefix(content);
            var line = content[..valid].Count((byte)'\n') + 1;
            var column = valid - (content[..valid].LastIndexOf((byte)'\n') + 1) + 1;
            return Fail(content.Length, sha, new ImportError(line, null,
                $"the file is not valid UTF-8 (byte {column} of line {line}); save it as UTF-8 (in a spreadsheet: 'CSV UTF-8')"));
        }
        var errors = new ErrorList();
        var records = new List<EvidenceRecord>();
        var (csv, problems) = CsvReader.Read(text);
        if (csv.Count == 0 || csv.All(r => IsBlank(r.Fields)))
        {
            errors.Add(new ImportError(1, null, $"the file is empty; the first line must name the columns, e.g. {string.Join(",", Columns)}"));
            return new EvidenceFile([], errors.ToList(), content.Length, sha);
        }

        var header = csv[0];
        var columns = ReadHeader(header, errors);
        foreach (var problem in problems)
        {
            errors.Add(new ImportError(problem.Line, NameAt(columns, problem.Field), problem.Message));
        }
        var malformed = problems.Select(p => p.Record).ToHashSet();

        var dataRows = 0;
        for (var r = 1; r < csv.Count; r++)
        {
            var record = csv[r];
            if (IsBlank(record.Fields)) continue;
            dataRows++;
            // A quoting problem is reported once, not again as the wrong number of fields it causes.
            if (malformed.Contains(r)) continue;
            if (record.Fields.Count != header.Fields.Count)
            {
                errors.Add(new ImportError(record.Line, null,
                    $"expected {header.Fields.Count} fields (as in the header), found {record.Fields.Count}; check for a missing or extra comma, or a field with a comma that is not in quotes"));
                continue;
            }
            if (ReadRow(record, columns, now, errors) is { } row) records.Add(row);
        }
        if (dataRows == 0 && errors.Count == 0)
        {
            errors.Add(new ImportError(1, null, "the file has a header but no rows"));
        }
        return new EvidenceFile(errors.Count == 0 ? records : [], errors.ToList(), content.Length, sha);
    }

    /// <summary>
    /// The id an imported row gets: <c>int_imp_</c> + the first 32 hex characters of SHA-256 over the
    /// system, timestamp, user, prompt and answer (each length-prefixed, so no two rows can collide by
    /// moving text across a field boundary). The same row imported twice gets the same id.
    /// </summary>
    public static string InteractionId(string system, EvidenceRecord record)
    {
        var canonical = new StringBuilder();
        foreach (var part in new[] { system, record.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture), record.User ?? "", record.Prompt, record.Answer })
        {
            canonical.Append(part.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(part).Append('|');
        }
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString()));
        return IdPrefix + Convert.ToHexStringLower(hash)[..32];
    }

    private static EvidenceFile Fail(long bytes, string sha, ImportError error) => new([], [error], bytes, sha);

    private static string? Decode(ReadOnlySpan<byte> content)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>How many leading bytes are valid UTF-8.</summary>
    private static int ValidPrefix(ReadOnlySpan<byte> content)
    {
        var buffer = ArrayPool<char>.Shared.Rent(4096);
        try
        {
            var read = 0;
            while (read < content.Length)
            {
                var status = Utf8.ToUtf16(content[read..], buffer, out var bytesRead, out _, replaceInvalidSequences: false, isFinalBlock: true);
                read += bytesRead;
                if (status != OperationStatus.DestinationTooSmall) break;
            }
            return read;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static bool IsBlank(IReadOnlyList<string> fields) => fields.All(string.IsNullOrWhiteSpace);

    /// <summary>Column name → field index; records every header problem.</summary>
    private static Dictionary<string, int> ReadHeader(CsvRecord header, ErrorList errors)
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

    private static string? NameAt(Dictionary<string, int> columns, int field)
    {
        foreach (var (name, index) in columns)
        {
            if (index == field) return name;
        }
        return null;
    }

    private static EvidenceRecord? ReadRow(CsvRecord record, Dictionary<string, int> columns, DateTimeOffset? now, ErrorList errors)
    {
        var before = errors.Count;
        var row = record.Line;
        string? Value(string column) => columns.TryGetValue(column, out var index) ? record.Fields[index] : null;
        void Error(string column, string message) => errors.Add(new ImportError(row, column, message));

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
        else if (user.Length > 320 || !EmailShape().IsMatch(user))
            Error(User, $"'{Value(User)!.Trim()}' is not an e-mail address; give the user's e-mail (e.g. dana@example.org) or leave it empty");

        if (errors.Count != before) return null;
        return new EvidenceRecord(row, prompt!, answer!, outcome, finalText, outcome is null ? null : seconds ?? 0, rating, category, timestamp, user);
    }

    private static bool TryParseTimestamp(string value, out DateTimeOffset timestamp) =>
        DateTimeOffset.TryParseExact(value, TimestampFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);

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

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailShape();

    /// <summary>Keeps the first <see cref="MaxErrorsListed"/> errors and counts the rest.</summary>
    private sealed class ErrorList
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
