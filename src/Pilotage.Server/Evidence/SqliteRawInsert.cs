using System.Buffers;
using System.Text;
using Microsoft.Data.Sqlite;
using Pilotage.Server.Storage;
using SQLitePCL;

namespace Pilotage.Server.Evidence;

/// <summary>
/// One INSERT prepared on a SQLite connection's own handle, its values bound by position for each row
/// (the evidence writer's sink and the bulk import). Not thread-safe: it belongs to the connection's user.
/// </summary>
/// <remarks>
/// The insert goes through SQLitePCLRaw (the library under Microsoft.Data.Sqlite) rather than through
/// <see cref="SqliteCommand"/>: the command looks up each parameter by name, creates a binder object per
/// parameter and copies every string into a new UTF-8 array for every row, which made the insert the
/// writer's largest cost (docs/benchmarks.md). Values are rendered exactly as Microsoft.Data.Sqlite renders
/// them for EF Core (a test compares both byte for byte).
/// </remarks>
internal sealed class SqliteRawInsert : IDisposable
{
    // Text is bound as UTF-8, the database's encoding. Bound as UTF-16, SQLite converts each value itself, one
    // character at a time (sqlite3VdbeMemTranslate was 1 % of the gateway's CPU in a profile, for the request and
    // answer texts); .NET's vectorised transcoder does it for a fraction of that. SQLite copies what is bound
    // (SQLITE_TRANSIENT), so one buffer serves every column. Values too long for it get a pooled array of their
    // exact size, returned at once, so a rare huge answer is not kept in this buffer.
    private const int Utf8BufferBytes = 16 * 1024;
    private readonly byte[] _utf8 = new byte[Utf8BufferBytes];
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    // What each parameter holds now. A value SQLite keeps bound across rows (sqlite3_reset leaves the bindings) is
    // not bound again: most columns of a run of rows hold the same string instance (the system, its phase, "[]",
    // nulls) or the same number, and each bind is a call into SQLite and, for text, a UTF-8 encoding. A string is
    // recognised by reference only, a span never; anything else is bound as usual.
    private readonly Held[] _held;
    private readonly string?[] _texts;
    private readonly long[] _integers;
    private readonly double[] _reals;

    private enum Held : byte { Unknown, Null, Text, Integer, Real }

    /// <param name="skipExisting">A row whose key is already there is left as it is (<c>ON CONFLICT DO NOTHING</c>); <see cref="Step"/> says whether it was added.</param>
    public SqliteRawInsert(SqliteConnection connection, string table, string columns, bool skipExisting = false)
    {
        _connection = connection;
        var count = columns.Split(", ").Length;
        var sql = $"INSERT INTO {table} ({columns}) VALUES ({string.Join(", ", Enumerable.Range(1, count).Select(i => "?" + i))}){(skipExisting ? " ON CONFLICT DO NOTHING" : "")}";
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        _held = new Held[count + 1];
        _texts = new string?[count + 1];
        _integers = new long[count + 1];
        _reals = new double[count + 1];
    }

    /// <summary>The insert of <see cref="EvidenceSink.Columns"/> into <c>interactions</c>.</summary>
    public static SqliteRawInsert Interactions(SqliteConnection connection, bool skipExisting = false) => new(connection, "interactions", EvidenceSink.Columns, skipExisting);

    /// <summary>Inserts one interaction, its values in <see cref="EvidenceSink.Columns"/> order; false when it was already there (<c>skipExisting</c>).</summary>
    public bool Interaction(InteractionRow row)
    {
        Text(1, row.Id);
        Chars(2, SqliteText.Of(EvidenceSink.Utc(row.CreatedAt), stackalloc char[SqliteText.MaxLength]));
        Text(3, row.System);
        Text(4, row.Phase);
        Integer(5, row.Stage);
        Integer(6, row.ConfigVersion);
        Integer(7, row.UserId);
        Text(8, row.UserEmail);
        Text(9, row.KeyId);
        Text(10, row.Groups);
        Text(11, row.Endpoint);
        Text(12, row.Mode);
        Text(13, row.Outcome);
        Text(14, row.RefusalCode);
        Text(15, row.RefusalReason);
        Text(16, row.DetectorHits);
        Integer(17, row.Streamed ? 1 : 0);
        Integer(18, row.TokensIn);
        Integer(19, row.TokensOut);
        Chars(20, SqliteText.Of(row.Cost, stackalloc char[SqliteText.MaxLength]));
        Real(21, row.FirstByteMs);
        Real(22, row.TotalMs);
        Integer(23, row.UpstreamStatus);
        Text(24, row.RequestHash);
        Text(25, row.ResponseHash);
        // The gateway's contents as the UTF-8 they were recorded in; read as text only when the row holds text.
        if (row.RequestContentUtf8 is { } request) Utf8(26, request);
        else Text(26, row.RequestContent);
        if (row.ResponseContentUtf8 is { } response) Utf8(27, response);
        else Text(27, row.ResponseContent);
        Text(28, row.Error);
        Text(29, row.Category);
        Integer(30, row.EvalRun);
        Text(31, row.EvalCase);
        return Step();
    }

    public void Text(int index, string? value)
    {
        if (value is null)
        {
            Null(index);
            return;
        }
        if (_held[index] == Held.Text && ReferenceEquals(_texts[index], value)) return;
        _held[index] = Held.Unknown;
        Check(Bind(index, value));
        _texts[index] = value;
        _held[index] = Held.Text;
    }

    public void Chars(int index, ReadOnlySpan<char> value)
    {
        _held[index] = Held.Unknown;
        _texts[index] = null;
        Check(Bind(index, value));
    }

    /// <summary>Text already in UTF-8.</summary>
    public void Utf8(int index, ReadOnlySpan<byte> value)
    {
        _held[index] = Held.Unknown;
        _texts[index] = null;
        // An empty span would reach SQLite as a null pointer, bound as NULL: "" stays "".
        Check(value.IsEmpty ? raw.sqlite3_bind_text(_statement, index, "") : raw.sqlite3_bind_text(_statement, index, value));
    }

    public void Real(int index, double? value)
    {
        if (value is not { } v)
        {
            Null(index);
            return;
        }
        // Compared bit for bit: 0.0 and -0.0 are different values to store, NaN the same.
        if (_held[index] == Held.Real && BitConverter.DoubleToInt64Bits(_reals[index]) == BitConverter.DoubleToInt64Bits(v)) return;
        _held[index] = Held.Unknown;
        Check(raw.sqlite3_bind_double(_statement, index, v));
        _reals[index] = v;
        _held[index] = Held.Real;
    }

    public void Integer(int index, long? value)
    {
        if (value is not { } v)
        {
            Null(index);
            return;
        }
        if (_held[index] == Held.Integer && _integers[index] == v) return;
        _held[index] = Held.Unknown;
        Check(raw.sqlite3_bind_int64(_statement, index, v));
        _integers[index] = v;
        _held[index] = Held.Integer;
    }

    private void Null(int index)
    {
        if (_held[index] == Held.Null) return;
        _held[index] = Held.Unknown;
        _texts[index] = null;
        Check(raw.sqlite3_bind_null(_statement, index));
        _held[index] = Held.Null;
    }

    /// <summary>Runs the insert with the values bound, then makes it ready for the next row; false when a conflict skipped the row.</summary>
    public bool Step()
    {
        try
        {
            var rc = raw.sqlite3_step(_statement);
            if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            return raw.sqlite3_changes(_connection.Handle) > 0;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    // An empty span reaches SQLite as a null pointer, which it binds as NULL; "" must stay "" (the string
    // overload passes a terminated, non-null buffer).
    private int Bind(int index, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return raw.sqlite3_bind_text(_statement, index, "");
        if (Encoding.UTF8.GetMaxByteCount(value.Length) <= Utf8BufferBytes)
        {
            return raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, Encoding.UTF8.GetBytes(value, _utf8)));
        }
        var length = Encoding.UTF8.GetByteCount(value);
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            return raw.sqlite3_bind_text(_statement, index, rented.AsSpan(0, Encoding.UTF8.GetBytes(value, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
    }

    /// <summary>Finalizes the statement; before the connection closes.</summary>
    public void Dispose() => _statement.Dispose();
}
