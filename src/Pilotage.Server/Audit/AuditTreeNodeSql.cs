using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pilotage.Core.Audit.Merkle;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>
/// audit_tree_nodes in plain SQL on the context's connection and transaction: the tree's rows are written and read
/// on every append and proof, where tracking each row through EF would cost more than hashing it.
/// </summary>
internal static class AuditTreeNodeSql
{
    /// <summary>
    /// SQLite: one prepared single-row statement run per node (in process, so no round trips; a many-row statement
    /// costs more in parameter binding than it saves). PostgreSQL: every node in one statement, as two arrays.
    /// </summary>
    public static async Task InsertAsync(PilotageDbContext db, IReadOnlyList<(MerkleNode Node, byte[] Hash)> nodes, CancellationToken cancellationToken)
    {
        if (nodes.Count == 0) return;
        await using var command = Command(db);
        if (db.Provider == StoreProvider.PostgreSql)
        {
            SetText(command, "INSERT INTO audit_tree_nodes (id, hash) SELECT * FROM unnest(@ids, @hashes)");
            Add(command, "@ids", nodes.Select(n => n.Node.Key).ToArray());
            Add(command, "@hashes", nodes.Select(n => n.Hash).ToArray());
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }
        SetText(command, "INSERT INTO audit_tree_nodes (id, hash) VALUES (@id, @hash)");
        var id = Add(command, "@id", 0L);
        var hash = Add(command, "@hash", Array.Empty<byte>());
        command.Prepare();
        foreach (var (node, value) in nodes)
        {
            id.Value = node.Key;
            hash.Value = value;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The stored hashes of these nodes (by <see cref="MerkleNode.Key"/>); a node not stored is absent.</summary>
    public static async Task<Dictionary<long, byte[]>> ReadAsync(PilotageDbContext db, IReadOnlyList<long> keys, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<long, byte[]>(keys.Count);
        if (keys.Count == 0) return hashes;
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = Command(db);
            if (db.Provider == StoreProvider.PostgreSql)
            {
                SetText(command, "SELECT id, hash FROM audit_tree_nodes WHERE id = ANY(@ids)");
                Add(command, "@ids", keys.ToArray());
            }
            else
            {
                var sql = new StringBuilder("SELECT id, hash FROM audit_tree_nodes WHERE id IN (");
                for (var i = 0; i < keys.Count; i++)
                {
                    if (i > 0) sql.Append(',');
                    sql.Append(CultureInfo.InvariantCulture, $"@k{i}");
                    Add(command, $"@k{i}", keys[i]);
                }
                SetText(command, sql.Append(')').ToString());
            }
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken)) hashes[reader.GetInt64(0)] = reader.GetFieldValue<byte[]>(1);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return hashes;
    }

    private static DbCommand Command(PilotageDbContext db)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        return command;
    }

#pragma warning disable CA2100 // The statements are built from constants and parameter names only; every value is a parameter.
    private static void SetText(DbCommand command, string sql) => command.CommandText = sql;
#pragma warning restore CA2100

    private static DbParameter Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }
}
