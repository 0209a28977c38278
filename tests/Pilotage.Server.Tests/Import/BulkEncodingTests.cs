using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Import;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Import;

/// <summary>
/// The import's own encoders read back exactly what was given: PostgreSQL's binary COPY encoded by
/// <see cref="PostgresCopyWriter"/>, and SQLite parameters that keep their binding from one row to the next.
/// </summary>
public sealed class BulkEncodingTests
{
    private static readonly decimal[] Decimals =
    [
        0m, 0.0m, 1m, -1m, 0.5m, 1.10m, -12.345678m, 123456789.0001m, 10000m, 100000000m, 0.0001m, 0.00001m,
        0.0000001m, 9999.9999m, decimal.MaxValue, decimal.MinValue, 1e-28m, 0.000_015m,
    ];

    [PostgresFact]
    public async Task A_binary_COPY_encoded_here_reads_back_value_for_value()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE t (k int4, s text, v varchar(64), i int4, b int8, f bool, d float8, ts timestamptz, n numeric)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        var large = string.Concat(Enumerable.Repeat("αβγ 😀 long text ", 9000));
        Assert.True(large.Length > 64 * 1024);
        string?[] texts = ["", "plain", "é ü 中文 😀 \u0301", null, large, "tab\tand\nnewline \\ backslash"];
        double?[] doubles = [0.0, -0.0, 1.5, -1e300, double.Epsilon, null, 12.345];
        var at = new DateTimeOffset(2026, 3, 1, 9, 30, 15, TimeSpan.Zero).AddTicks(1234567);
        var rows = Decimals.Length;
        using (var copy = PostgresCopyWriter.Begin(connection, "COPY t (k, s, v, i, b, f, d, ts, n) FROM STDIN (FORMAT BINARY)"))
        {
            for (var k = 0; k < rows; k++)
            {
                copy.Row(9);
                copy.Integer(k);
                copy.Text(texts[k % texts.Length]);
                copy.Text(k % 3 == 0 ? null : "int_imp_" + k);
                copy.Integer(k % 4 == 0 ? null : int.MinValue + k);
                copy.Bigint(k % 5 == 0 ? null : long.MaxValue - k);
                copy.Boolean(k % 2 == 0);
                copy.Double(doubles[k % doubles.Length]);
                copy.TimestampTz(at.AddDays(k * 400));
                copy.Numeric(Decimals[k]);
            }
            copy.Complete();
        }

        await using var read = new NpgsqlCommand("SELECT k, s, v, i, b, f, d, ts, n::text FROM t ORDER BY k", connection);
        await using var reader = await read.ExecuteReaderAsync();
        var seen = 0;
        while (await reader.ReadAsync())
        {
            var k = reader.GetInt32(0);
            Assert.Equal(texts[k % texts.Length], reader.IsDBNull(1) ? null : reader.GetString(1));
            Assert.Equal(k % 3 == 0 ? null : "int_imp_" + k, reader.IsDBNull(2) ? null : reader.GetString(2));
            Assert.Equal<int?>(k % 4 == 0 ? null : int.MinValue + k, reader.IsDBNull(3) ? null : reader.GetInt32(3));
            Assert.Equal<long?>(k % 5 == 0 ? null : long.MaxValue - k, reader.IsDBNull(4) ? null : reader.GetInt64(4));
            Assert.Equal(k % 2 == 0, reader.GetBoolean(5));
            var d = doubles[k % doubles.Length];
            Assert.Equal<long?>(d is { } x ? BitConverter.DoubleToInt64Bits(x) : null, reader.IsDBNull(6) ? null : BitConverter.DoubleToInt64Bits(reader.GetDouble(6)));
            // Microseconds, as PostgreSQL keeps them.
            var expected = at.AddDays(k * 400);
            Assert.Equal(expected.UtcTicks / 10, reader.GetFieldValue<DateTimeOffset>(7).UtcTicks / 10);
            // The decimal with its own scale, as text: 1.10 stays 1.10.
            Assert.Equal(Decimals[k].ToString(CultureInfo.InvariantCulture), reader.GetString(8));
            seen++;
        }
        Assert.Equal(rows, seen);
    }

    [PostgresFact]
    public async Task A_COPY_left_without_completing_stores_nothing()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE t (s text)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        using (var copy = PostgresCopyWriter.Begin(connection, "COPY t (s) FROM STDIN (FORMAT BINARY)"))
        {
            copy.Row(1);
            copy.Text("never stored");
        }
        await using var count = new NpgsqlCommand("SELECT count(*) FROM t", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public void A_SQLite_parameter_that_keeps_its_binding_still_stores_each_rows_value()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE t (k INTEGER, s TEXT, n INTEGER, r REAL)";
            create.ExecuteNonQuery();
        }
        var shared = "the same string";
        var equalButOther = new string(shared.AsSpan());
        // Each row: the same instance again, an equal string that is another instance, null after a value and a value after
        // null, a span after a string and the same string after the span, numbers that repeat, change, and turn null.
        (string? Text, bool AsSpan, long? Integer, double? Real)[] given =
        [
            (shared, false, 1, 0.0),
            (shared, false, 1, 0.0),
            (equalButOther, false, 2, 0.25),
            (null, false, null, null),
            (null, false, null, null),
            (shared, true, 0, 1.5),
            (shared, false, 0, 1.5),
            ("", false, long.MaxValue, null),
            (shared, false, long.MaxValue, 2.5),
        ];
        using (var insert = new SqliteRawInsert(connection, "t", "k, s, n, r"))
        {
            for (var k = 0; k < given.Length; k++)
            {
                insert.Integer(1, k);
                if (given[k].AsSpan) insert.Chars(2, given[k].Text.AsSpan());
                else insert.Text(2, given[k].Text);
                insert.Integer(3, given[k].Integer);
                insert.Real(4, given[k].Real);
                insert.Step();
            }
        }
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT k, s, n, r FROM t ORDER BY k";
        using var reader = read.ExecuteReader();
        var seen = 0;
        while (reader.Read())
        {
            var k = reader.GetInt32(0);
            Assert.Equal(given[k].Text, reader.IsDBNull(1) ? null : reader.GetString(1));
            Assert.Equal(given[k].Integer, reader.IsDBNull(2) ? null : reader.GetInt64(2));
            Assert.Equal<long?>(given[k].Real is { } r ? BitConverter.DoubleToInt64Bits(r) : null, reader.IsDBNull(3) ? null : BitConverter.DoubleToInt64Bits(reader.GetDouble(3)));
            seen++;
        }
        Assert.Equal(given.Length, seen);
    }
}
