using System.Data.Common;

namespace Pilotage.Server.Evidence;

/// <summary>
/// Commands kept for the life of one open connection, one per SQL text, with their parameters
/// created once and only their values set on each use. The evidence writer runs the same few
/// statements for every batch; built anew, SQLite parses each one every time, and the 25-column
/// roll-up upsert was the largest single cost of a small batch (docs/benchmarks.md).
/// Not thread-safe: it belongs to the connection's single user.
/// </summary>
internal sealed class SqlStatements(DbConnection connection) : IAsyncDisposable
{
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The command for <paramref name="sql"/> in <paramref name="transaction"/>; do not dispose it.</summary>
    public DbCommand For(string sql, DbTransaction? transaction)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = Create(connection, sql);
            _commands[sql] = command;
        }
        command.Transaction = transaction;
        return command;
    }

    /// <summary>A new command for one of the evidence code's fixed SQL texts.</summary>
    public static DbCommand Create(DbConnection connection, string sql)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // fixed SQL texts of the evidence code; every value is a parameter
        command.CommandText = sql;
#pragma warning restore CA2100
        return command;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var command in _commands.Values) await command.DisposeAsync();
        _commands.Clear();
    }
}

/// <summary>
/// A command to run once or many times: from <see cref="SqlStatements"/> when the caller keeps one (the
/// evidence writer), otherwise created here and disposed with the lease (control-plane commands).
/// </summary>
internal readonly struct StatementLease : IAsyncDisposable
{
    private readonly bool _owned;

    private StatementLease(DbCommand command, bool owned)
    {
        Command = command;
        _owned = owned;
    }

    public DbCommand Command { get; }

    public static StatementLease Of(SqlStatements? statements, DbConnection connection, DbTransaction? transaction, string sql)
    {
        if (statements is not null) return new StatementLease(statements.For(sql, transaction), owned: false);
        var command = SqlStatements.Create(connection, sql);
        command.Transaction = transaction;
        return new StatementLease(command, owned: true);
    }

    /// <summary>Sets the <paramref name="index"/>-th parameter: created on first use, its value replaced afterwards.</summary>
    public void Set(int index, string name, object? value)
    {
        var parameters = Command.Parameters;
        if (index < parameters.Count)
        {
            parameters[index].Value = value ?? DBNull.Value;
            return;
        }
        var parameter = Command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        parameters.Add(parameter);
    }

    public Task<int> ExecuteAsync(CancellationToken ct) => Command.ExecuteNonQueryAsync(ct);

    public ValueTask DisposeAsync() => _owned ? Command.DisposeAsync() : ValueTask.CompletedTask;
}
