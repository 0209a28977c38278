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
    private DbBatch? _deferred;

    /// <summary>True between <see cref="Defer"/> and <see cref="RunDeferredAsync"/>: statements are collected, not run.</summary>
    public bool Deferring => _deferred is not null;

    /// <summary>
    /// From now on, statements run through this cache are collected (with their values at that moment) and
    /// sent together by <see cref="RunDeferredAsync"/>, in one round trip. For PostgreSQL, where each statement
    /// otherwise costs the batch a round trip before its commit; only for statements whose result nobody reads.
    /// </summary>
    public void Defer()
    {
        if (_deferred is not null) throw new InvalidOperationException("statements are already being deferred");
        _deferred = connection.CreateBatch();
    }

    /// <summary>Collects <paramref name="command"/> as it is now: its text and a copy of its parameters.</summary>
    public void Add(DbCommand command)
    {
        var item = AddDeferred(command.CommandText);
        foreach (DbParameter parameter in command.Parameters)
        {
            var copy = item.CreateParameter();
            copy.ParameterName = parameter.ParameterName;
            copy.Value = parameter.Value;
            item.Parameters.Add(copy);
        }
    }

    /// <summary>Collects a statement of <paramref name="sql"/> with no parameters yet: the caller adds them, typed.</summary>
    public DbBatchCommand AddDeferred(string sql)
    {
        var batch = _deferred ?? throw new InvalidOperationException("statements are not being deferred");
        var item = batch.CreateBatchCommand();
#pragma warning disable CA2100 // fixed SQL texts of the evidence code; every value is a parameter
        item.CommandText = sql;
#pragma warning restore CA2100
        batch.BatchCommands.Add(item);
        return item;
    }

    /// <summary>Runs the collected statements in <paramref name="transaction"/> (nothing if there are none) and stops deferring.</summary>
    public async Task RunDeferredAsync(DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var batch = _deferred ?? throw new InvalidOperationException("statements are not being deferred");
        _deferred = null;
        await using (batch)
        {
            if (batch.BatchCommands.Count == 0) return;
            batch.Transaction = transaction;
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }
    }

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

    /// <summary>Drops whatever was collected and stops deferring.</summary>
    public async ValueTask DiscardDeferredAsync()
    {
        if (_deferred is not null) await _deferred.DisposeAsync();
        _deferred = null;
    }

    public async ValueTask DisposeAsync()
    {
        await DiscardDeferredAsync();
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
    private readonly SqlStatements? _statements;

    private StatementLease(DbCommand command, bool owned, SqlStatements? statements = null)
    {
        Command = command;
        _owned = owned;
        _statements = statements;
    }

    public DbCommand Command { get; }

    public static StatementLease Of(SqlStatements? statements, DbConnection connection, DbTransaction? transaction, string sql)
    {
        if (statements is not null) return new StatementLease(statements.For(sql, transaction), owned: false, statements);
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

    /// <summary>Runs the statement, or, while its <see cref="SqlStatements"/> defers, collects it (and returns 0).</summary>
    public Task<int> ExecuteAsync(CancellationToken ct)
    {
        if (_statements is not { Deferring: true }) return Command.ExecuteNonQueryAsync(ct);
        _statements.Add(Command);
        return Task.FromResult(0);
    }

    public ValueTask DisposeAsync() => _owned ? Command.DisposeAsync() : ValueTask.CompletedTask;
}
