using System.Runtime.CompilerServices;
using System.Text;

namespace Pilotage.Core.Import;

/// <summary>One record of a CSV file: its fields and the line it starts on (1-based, counting every line of the file).</summary>
public sealed record CsvRecord(int Line, IReadOnlyList<string> Fields);

/// <summary>A malformed spot in a CSV file: the line it is on, the 0-based record and field, what is wrong.</summary>
public sealed record CsvProblem(int Line, int Record, int Field, string Message);

/// <summary>
/// A strict RFC 4180 reader: comma-separated, fields optionally quoted with <c>"</c>, a quote inside a
/// quoted field doubled, quoted fields may hold commas and line breaks; records end with CRLF, LF or CR.
/// Written here rather than taken from a CSV library because the import must report the exact
/// <em>file line</em> of every problem (a record with a quoted line break spans several lines), must
/// refuse malformed quoting instead of guessing, and must never drop or pad a short row — things a
/// tolerant general-purpose parser hides. It is small and tested field by field.
/// </summary>
public static class CsvReader
{

    public static (IReadOnlyList<CsvRecord> Records, IReadOnlyList<CsvProblem> Problems) Read(string text)
    {
        var records = new List<CsvRecord>();
        var problems = new List<CsvProblem>();
        foreach (var (record, found) in Records(text))
        {
            records.Add(record);
            if (found is not null) problems.AddRange(found);
        }
        return (records, problems);
    }

    /// <summary>
    /// The records one at a time, each with its problems (null when it has none): a large file is read as it is
    /// consumed, not held whole as records. Fields without quotes are cut from the text as they are, not copied
    /// character by character.
    /// </summary>
    public static IEnumerable<(CsvRecord Record, IReadOnlyList<CsvProblem>? Problems)> Records(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cursor = new Cursor(text);
        while (cursor.Next() is { } next) yield return next;
    }

    /// <summary>
    /// The reading of one text, one record per <see cref="Next"/> (null at the end). The work per record is here, in one method compiled optimised from its first
    /// call (<see cref="MethodImplOptions.AggressiveOptimization"/>), not in the iterator: a server's runtime compiles
    /// a new method quickly and unoptimised first, and promotes it only after no new method has been compiled for a
    /// while, which during an import's first seconds (the HTTP, database and JIT work around it) did not happen before
    /// some 400,000 rows had been read at that tier.
    /// </summary>
    public sealed class Cursor(string text)
    {
        private readonly StringBuilder _field = new();
        private int _at;
        private int _line = 1;
        private int _index;
        // Records have as many fields as the one before them, as a rule: the list is made that size at once.
        private int _width = 4;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public (CsvRecord Record, IReadOnlyList<CsvProblem>? Problems)? Next()
        {
            var n = text.Length;
            var i = _at;
            if (i >= n) return null;
            var line = _line;
            var index = _index;
            var field = _field;
            var recordLine = line;
            var fields = new List<string>(_width);
            List<CsvProblem>? problems = null;
            while (true)
            {
                string value;
                if (i < n && text[i] == '"')
                {
                    // The value is cut from the text as it stands up to the first doubled quote; only a field with one
                    // is copied into the builder, quote by quote.
                    field.Clear();
                    var copied = false;
                    var openedOn = line;
                    i++;
                    var segment = i;
                    var closed = false;
                    while (i < n)
                    {
                        var stop = text.AsSpan(i).IndexOfAny('"', '\r', '\n');
                        if (stop < 0)
                        {
                            i = n;
                            break;
                        }
                        i += stop;
                        var c = text[i];
                        if (c == '"')
                        {
                            if (i + 1 < n && text[i + 1] == '"')
                            {
                                field.Append(text, segment, i + 1 - segment);
                                copied = true;
                                i += 2;
                                segment = i;
                                continue;
                            }
                            closed = true;
                            break;
                        }
                        if (c == '\n' || (c == '\r' && (i + 1 >= n || text[i + 1] != '\n'))) line++;
                        i++;
                    }
                    // i is at the closing quote, or at the end of a field that is never closed.
                    var content = copied ? field.Append(text, segment, i - segment).ToString() : text.Substring(segment, i - segment);
                    if (closed) i++;
                    if (!closed)
                    {
                        (problems ??= []).Add(new CsvProblem(openedOn, index, fields.Count,
                            $"the quoted field that starts on line {openedOn} is never closed; a closing quote (\") is missing"));
                        fields.Add(content);
                        break;
                    }
                    if (i < n && !IsEnd(text[i]))
                    {
                        (problems ??= []).Add(new CsvProblem(line, index, fields.Count,
                            "text follows the closing quote of a quoted field; write a quote inside a quoted field as two quotes (\"\")"));
                        var trailing = i;
                        while (i < n && !IsEnd(text[i])) i++;
                        content = string.Concat(content, text.AsSpan(trailing, i - trailing));
                    }
                    value = content;
                }
                else
                {
                    var start = i;
                    // Searches for up to three characters come compiled with the runtime's library; a SearchValues
                    // searcher is a generic type compiled here at run time, unoptimised until the runtime promotes it.
                    var stop = text.AsSpan(i).IndexOfAny(',', '\r', '\n');
                    i = stop < 0 ? n : i + stop;
                    var quoteInside = text.AsSpan(start, i - start).Contains('"');
                    if (quoteInside)
                    {
                        (problems ??= []).Add(new CsvProblem(line, index, fields.Count,
                            "a quote (\") inside a field that does not start with one; quote the whole field and double the quote inside (\"say \"\"hi\"\"\")"));
                    }
                    value = i == start ? "" : text.Substring(start, i - start);
                }
                fields.Add(value);
                if (i >= n) break;
                if (text[i] == ',')
                {
                    i++;
                    continue;
                }
                // End of the record: CRLF, LF or a lone CR.
                if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') i++;
                i++;
                line++;
                break;
            }
            _at = i;
            _line = line;
            _index = index + 1;
            _width = fields.Count;
            return (new CsvRecord(recordLine, fields), problems);
        }
    }

    private static bool IsEnd(char c) => c is ',' or '\r' or '\n';
}
