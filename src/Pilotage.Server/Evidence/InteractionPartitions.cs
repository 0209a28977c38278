using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>One month's partition of the interactions table (PostgreSQL): its table name and bounds.</summary>
public sealed record InteractionPartition(string Table, DateTimeOffset From, DateTimeOffset To)
{
    /// <summary>The partition of the UTC month that holds <paramref name="at"/>.</summary>
    public static InteractionPartition Of(DateTimeOffset at)
    {
        var from = new DateTimeOffset(at.UtcDateTime.Year, at.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return new InteractionPartition(string.Create(CultureInfo.InvariantCulture, $"interactions_{from:yyyy}_{from:MM}"), from, from.AddMonths(1));
    }
}

/// <summary>What dropping one month removed, for the audit entry.</summary>
public sealed record PartitionDroppedView(string Partition, DateTimeOffset From, DateTimeOffset To, long Interactions, int RetentionMonths);

/// <summary>
/// On PostgreSQL the interactions table is partitioned by month of <c>created_at</c> (Storage/RawSchema.cs).
/// This keeps partitions ready for the current month and the next <see cref="MonthsAhead"/>, moves rows that
/// landed in the DEFAULT partition (a far past or future timestamp) into partitions of their own months, and,
/// when <see cref="EvidenceOptions.InteractionRetentionMonths"/> is set, drops whole months older
/// than the retention period instead of deleting rows. It runs at start and then daily; replicas take
/// turns through an advisory lock. SQLite has one table and nothing to do.
/// </summary>
public sealed class InteractionPartitions(PilotageStore store, ControlPlane control, EvidenceOptions options, TimeProvider time, ILogger<InteractionPartitions> logger) : BackgroundService
{
    public const int MonthsAhead = 3;

    /// <summary>How many months found in the DEFAULT partition get partitions of their own per run.</summary>
    private const int MaxSplitPerRun = 24;

    /// <summary>The advisory lock replicas take turns with (distinct from <see cref="Replicas.ReplicaLock"/>'s keys).</summary>
    internal const long LockKey = 0x50_494C_4F54_0027;

    public static readonly TimeSpan Interval = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store.Location.Provider != StoreProvider.PostgreSql) return;
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await MaintainAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Interaction partition maintenance failed; trying again in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Creates the partitions due, splits the DEFAULT partition, drops expired months; returns the months dropped.</summary>
    public async Task<IReadOnlyList<PartitionDroppedView>> MaintainAsync(CancellationToken ct)
    {
        if (store.Location.Provider != StoreProvider.PostgreSql) return [];
        var now = time.GetUtcNow();
        await using var connection = new NpgsqlConnection(store.Location.ConnectionString);
        await connection.OpenAsync(ct);
        await using (var locked = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection))
        {
            if (!(bool)(await locked.ExecuteScalarAsync(ct))!) return [];
        }
        try
        {
            var due = new List<InteractionPartition>();
            for (var m = -1; m <= MonthsAhead; m++) due.Add(InteractionPartition.Of(now.AddMonths(m)));
            await using (var stray = new NpgsqlCommand(
                $"SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') AS month FROM interactions_default ORDER BY month LIMIT {MaxSplitPerRun}", connection))
            await using (var reader = await stray.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) due.Add(InteractionPartition.Of(new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc))));
            }
            var existing = await PartitionsAsync(connection, ct);
            foreach (var partition in due.DistinctBy(p => p.Table).Where(p => !existing.Contains(p.Table)))
            {
                await CreateAsync(connection, partition, ct);
            }
            return options.InteractionRetentionMonths > 0 ? await DropExpiredAsync(connection, now, options.InteractionRetentionMonths, ct) : [];
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({LockKey})", connection);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>The month partitions attached to the interactions table.</summary>
    public static async Task<HashSet<string>> PartitionsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string Sql = "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'interactions'::regclass AND c.relname <> 'interactions_default'";
        var names = new HashSet<string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(Sql, connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>
    /// A month's partition, in one transaction: the table, the month's rows moved out of the DEFAULT
    /// partition, then attached (which checks the DEFAULT partition holds none of the month any more).
    /// The DEFAULT partition is locked first, so no row of the month can land there in between.
    /// </summary>
    private async Task CreateAsync(NpgsqlConnection connection, InteractionPartition partition, CancellationToken ct)
    {
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var command = new NpgsqlCommand($"""
            LOCK TABLE interactions_default IN EXCLUSIVE MODE;
            CREATE TABLE {partition.Table} (LIKE interactions INCLUDING DEFAULTS);
            WITH moved AS (DELETE FROM interactions_default WHERE created_at >= @from AND created_at < @to RETURNING *)
                INSERT INTO {partition.Table} SELECT * FROM moved;
            ALTER TABLE interactions ATTACH PARTITION {partition.Table} FOR VALUES FROM ('{Literal(partition.From)}') TO ('{Literal(partition.To)}');
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("from", partition.From);
            command.Parameters.AddWithValue("to", partition.To);
            await command.ExecuteNonQueryAsync(ct);
        }
        await transaction.CommitAsync(ct);
        logger.LogInformation("Created interaction partition {Partition} ({From:yyyy-MM})", partition.Table, partition.From);
    }

    /// <summary>
    /// Drops each month that ended before the start of the month <paramref name="months"/> before now, one
    /// audit entry per month. A month is kept while it holds a row of a system under legal hold or a row
    /// still waiting in the review queue.
    /// </summary>
    private async Task<IReadOnlyList<PartitionDroppedView>> DropExpiredAsync(NpgsqlConnection connection, DateTimeOffset now, int months, CancellationToken ct)
    {
        var cutoff = InteractionPartition.Of(now).From.AddMonths(-months);
        var dropped = new List<PartitionDroppedView>();
        foreach (var table in (await PartitionsAsync(connection, ct)).Order(StringComparer.Ordinal))
        {
            if (!TryParse(table, out var partition) || partition.To > cutoff) continue;
            var view = await control.ExecuteAsync("pilotage (retention)", async command =>
            {
                var db = command.Db;
                var held = await db.Systems.AsNoTracking().Where(s => s.LegalHoldAt != null).Select(s => s.Slug).ToListAsync(ct);
                if (await ScalarAsync<bool>(db, $"SELECT EXISTS (SELECT 1 FROM {partition.Table} WHERE system = ANY(@held))", held, ct))
                {
                    logger.LogInformation("Interaction partition {Partition} kept: it holds evidence of a system under legal hold", partition.Table);
                    return null;
                }
                if (await ScalarAsync<bool>(db, $"SELECT EXISTS (SELECT 1 FROM review_items r JOIN {partition.Table} i ON i.id = r.interaction_id WHERE r.state = 'pending')", held, ct))
                {
                    logger.LogInformation("Interaction partition {Partition} kept: some of its interactions wait in the review queue", partition.Table);
                    return null;
                }
                var count = await ScalarAsync<long>(db, $"SELECT count(*) FROM {partition.Table}", held, ct);
                await ScalarAsync<object?>(db, $"DROP TABLE {partition.Table}", held, ct);
                var dropped = new PartitionDroppedView(partition.Table, partition.From, partition.To, count, months);
                command.Audit("evidence.partition_dropped", $"interactions:{partition.From:yyyy-MM}", null, JsonSerializer.Serialize(dropped, PartitionJsonContext.Default.PartitionDroppedView));
                return dropped;
            }, ct);
            if (view is not null) dropped.Add(view);
        }
        return dropped;
    }

    private static async Task<T> ScalarAsync<T>(PilotageDbContext db, string sql, List<string> held, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
#pragma warning disable CA2100 // the table name is one of our own partitions' (interactions_yyyy_mm), never input
        await using var command = new NpgsqlCommand(sql, connection, (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());
#pragma warning restore CA2100
        command.Parameters.AddWithValue("held", held.ToArray());
        return (T)(await command.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Reads a month partition's name back into its bounds; false for any other table.</summary>
    public static bool TryParse(string table, out InteractionPartition partition)
    {
        partition = null!;
        if (!DateTime.TryParseExact(table.Replace("interactions_", "", StringComparison.Ordinal), "yyyy_MM", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var month)) return false;
        partition = InteractionPartition.Of(new DateTimeOffset(month, TimeSpan.Zero));
        return partition.Table == table;
    }

    private static string Literal(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(PartitionDroppedView))]
internal sealed partial class PartitionJsonContext : JsonSerializerContext;
