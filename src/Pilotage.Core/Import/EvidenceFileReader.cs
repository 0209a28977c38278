using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace Pilotage.Core.Import;

/// <summary>
/// An evidence file read as it is consumed: <see cref="Open"/> decodes the file and checks its header (a file that
/// cannot be read at all is <see cref="Unreadable"/> at once); <see cref="Rows"/> then yields the valid rows one by
/// one, in file order, while every refused row's errors are gathered — so an import writes the first rows while the
/// later ones are still being read, instead of holding every row of the file before it starts. <see cref="ToFile"/>
/// sums it up once the rows have been read. Not thread-safe: one consumer, then the summary.
/// </summary>
public sealed class EvidenceFileReader
{
    private readonly string _sha256;
    private readonly long _bytes;
    private readonly DateTimeOffset? _now;
    private readonly EvidenceCsv.ErrorList _errors = new();
    private readonly List<(int Line, int Byte)> _invalid;
    private readonly CsvReader.Cursor? _records;
    private readonly Dictionary<string, int> _columns = [];
    private readonly int _headerFields;
    // The record read next (the reader looks one ahead: a record's lines end where the next one starts).
    private (CsvRecord Record, IReadOnlyList<CsvProblem>? Problems)? _first;
    private int _nextInvalid;
    private int _dataRows;
    private int _valid;
    private bool _read;

    private EvidenceFileReader(string sha256, long bytes, DateTimeOffset? now, List<(int Line, int Byte)> invalid,
        CsvReader.Cursor? records)
    {
        _sha256 = sha256;
        _bytes = bytes;
        _now = now;
        _invalid = invalid;
        _records = records;
        if (records is null) return;
        if (records.Next() is not var (header, problems))
        {
            Empty();
            return;
        }
        // The header's own lines end where the next record starts.
        _first = records.Next();
        if (EvidenceCsv.IsBlank(header.Fields) && !AnyNotBlank(_first, records))
        {
            Empty();
            return;
        }
        _headerFields = header.Fields.Count;
        _columns = EvidenceCsv.ReadHeader(header, _errors);
        if (EvidenceCsv.InvalidIn(_invalid, ref _nextInvalid, header.Line, _first is { } next ? next.Record.Line - 1 : int.MaxValue) is { } headerBytes)
        {
            _errors.Add(EvidenceCsv.NotUtf8(headerBytes));
        }
        foreach (var problem in problems ?? []) _errors.Add(new ImportError(problem.Line, null, problem.Message));
        // Without a header that names the columns, no row can be read.
        Unreadable = _errors.Count > 0;
    }

    /// <summary>
    /// The file cannot be read as a whole — too large, empty, a broken header — known from <see cref="Open"/>; or,
    /// once the rows are read, a header and no rows. Either way none of its rows is imported.
    /// </summary>
    public bool Unreadable { get; private set; }

    /// <param name="content">The raw file: UTF-8, with or without a byte order mark.</param>
    /// <param name="now">When given, timestamps more than a day after it are errors (a swapped day and month, a wrong year).</param>
    public static EvidenceFileReader Open(ReadOnlySpan<byte> content, DateTimeOffset? now = null)
    {
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        if (content.Length > EvidenceCsv.MaxFileBytes)
        {
            var tooLarge = new EvidenceFileReader(sha, content.Length, now, [], null) { Unreadable = true };
            tooLarge._errors.Add(new ImportError(0, null, EvidenceCsv.TooLarge(content.Length)));
            return tooLarge;
        }
        if (content.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) content = content[3..];
        var (text, invalid) = EvidenceCsv.Decode(content);
        return new EvidenceFileReader(sha, content.Length, now, invalid, new CsvReader.Cursor(text));
    }

    /// <summary>The valid rows, in file order, read as they are enumerated (once); the refused rows' errors are gathered meanwhile.</summary>
    public IEnumerable<EvidenceRecord> Rows()
    {
        if (_read) throw new InvalidOperationException("the rows of an evidence file are read once");
        _read = true;
        if (Unreadable || _records is null) yield break;
        while (NextRow() is { } row) yield return row;
        if (_dataRows == 0 && _errors.Count == 0)
        {
            _errors.Add(new ImportError(1, null, "the file has a header but no rows"));
            Unreadable = true;
        }
    }

    /// <summary>The file as read: <paramref name="records"/> (the rows kept of <see cref="Rows"/>), every error, the rows refused.</summary>
    public EvidenceFile ToFile(IReadOnlyList<EvidenceRecord> records) =>
        Unreadable
            ? new EvidenceFile([], _errors.ToList(), _bytes, _sha256) { Unreadable = true }
            : new EvidenceFile(records, _errors.ToList(), _bytes, _sha256) { Rejected = _dataRows - _valid };

    /// <summary>
    /// The next valid row, its refused predecessors' errors gathered; null at the end of the file. Compiled optimised
    /// at once, as the reading of a record is (<see cref="CsvReader.Cursor"/>): it runs for every row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private EvidenceRecord? NextRow()
    {
        while (_first is { } here)
        {
            var (record, problems) = here;
            var next = _records!.Next();
            if (problems is not null)
            {
                foreach (var problem in problems) _errors.Add(new ImportError(problem.Line, EvidenceCsv.NameAt(_columns, problem.Field), problem.Message));
            }
            var lastLine = next is { } following ? following.Record.Line - 1 : int.MaxValue;
            var row = Check(record, problems is not null, lastLine);
            _first = next;
            if (row is not null)
            {
                _valid++;
                return row;
            }
        }
        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private EvidenceRecord? Check(CsvRecord record, bool malformed, int lastLine)
    {
        var bytes = EvidenceCsv.InvalidIn(_invalid, ref _nextInvalid, record.Line, lastLine);
        if (bytes is null && EvidenceCsv.IsBlank(record.Fields)) return null;
        _dataRows++;
        // A quoting problem is reported once, not again as the wrong number of fields it causes.
        if (malformed) return null;
        if (bytes is { } at)
        {
            _errors.Add(EvidenceCsv.NotUtf8(at));
            return null;
        }
        if (record.Fields.Count != _headerFields)
        {
            _errors.Add(new ImportError(record.Line, null,
                $"expected {_headerFields} fields (as in the header), found {record.Fields.Count}; check for a missing or extra comma, or a field with a comma that is not in quotes"));
            return null;
        }
        return EvidenceCsv.ReadRow(record, _columns, _now, _errors);
    }

    private void Empty()
    {
        _errors.Add(new ImportError(1, null, $"the file is empty; the first line must name the columns, e.g. {string.Join(",", EvidenceCsv.Columns)}"));
        Unreadable = true;
    }

    /// <summary>
    /// Whether a record after a blank header holds anything: a file of blank lines only (spreadsheets add them) is empty,
    /// a blank header before rows is a header problem. Reads on, which only a blank header — refused either way — needs.
    /// </summary>
    private static bool AnyNotBlank((CsvRecord Record, IReadOnlyList<CsvProblem>? Problems)? first, CsvReader.Cursor records)
    {
        if (first is not { } record) return false;
        if (!EvidenceCsv.IsBlank(record.Record.Fields)) return true;
        while (records.Next() is { } next)
        {
            if (!EvidenceCsv.IsBlank(next.Record.Fields)) return true;
        }
        return false;
    }
}
