using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Evidence;

/// <summary>
/// On PostgreSQL the interactions table is partitioned by month: a period query reads only its months,
/// a row of any date is stored (far ones land in the DEFAULT partition, then move to their own month),
/// and retention drops whole months, except those holding evidence under legal hold or still in the queue.
/// </summary>
public sealed class InteractionPartitionTests
{
    [PostgresFact]
    public async Task A_period_query_reads_only_the_partitions_of_its_months()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        var now = harness.Time.GetUtcNow();
        await MaintainAsync(harness, 0);
        var month = InteractionPartition.Of(now);
        var partitions = await PartitionsAsync(harness);
        for (var m = -1; m <= InteractionPartitions.MonthsAhead; m++) Assert.Contains(InteractionPartition.Of(now.AddMonths(m)).Table, partitions);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        var plan = await PlanAsync(connection, $"SELECT count(*) FROM interactions WHERE system = 'support-drafts' AND created_at >= '{Literal(month.From)}' AND created_at < '{Literal(month.To)}'");
        Assert.Contains(month.Table, plan, StringComparison.Ordinal);
        foreach (var other in partitions.Where(p => p != month.Table).Append("interactions_default"))
        {
            Assert.DoesNotContain(other, plan, StringComparison.Ordinal);
        }
        // Without a period every month is read: the check above is pruning, not an empty plan.
        var all = await PlanAsync(connection, "SELECT count(*) FROM interactions WHERE system = 'support-drafts'");
        Assert.Contains("interactions_default", all, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Rows_far_in_the_past_or_future_are_stored_and_move_to_partitions_of_their_own()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        await MaintainAsync(harness, 0);
        var past = new DateTimeOffset(1999, 7, 1, 12, 0, 0, TimeSpan.Zero);
        var future = new DateTimeOffset(2100, 3, 5, 8, 30, 0, TimeSpan.Zero);
        await InsertAsync(harness, ("int_far_past", "support-drafts", past), ("int_far_future", "support-drafts", future));
        Assert.Equal(2, await CountAsync(database, "SELECT count(*) FROM interactions_default"));

        await MaintainAsync(harness, 0);
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM interactions_default"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM interactions_1999_07"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM interactions_2100_03"));
        Assert.Equal(future, (await harness.InteractionAsync("int_far_future")).CreatedAt);
        Assert.Equal(past, (await harness.InteractionAsync("int_far_past")).CreatedAt);
    }

    [PostgresFact]
    public async Task Retention_drops_whole_months_except_those_under_legal_hold_or_in_the_queue()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        var now = harness.Time.GetUtcNow();
        var expired = InteractionPartition.Of(now.AddMonths(-6));
        var held = InteractionPartition.Of(now.AddMonths(-7));
        var queued = InteractionPartition.Of(now.AddMonths(-8));
        var kept = InteractionPartition.Of(now.AddMonths(-2));
        await InsertAsync(harness,
            ("int_expired_1", "other-system", expired.From.AddDays(3)), ("int_expired_2", "other-system", expired.To.AddSeconds(-1)),
            ("int_held", "support-drafts", held.From.AddDays(1)),
            ("int_queued", "other-system", queued.From.AddDays(2)),
            ("int_kept", "other-system", kept.From.AddDays(1)));
        // Enqueued by hand, so counted by hand too (the evidence writer counts what it enqueues per batch).
        await SqlAsync(harness, "INSERT INTO review_items (interaction_id, system, kind, state, enqueued_at) VALUES ('int_queued', 'other-system', 'draft', 'pending', now()); "
            + "INSERT INTO review_backlog (system, pending) VALUES ('other-system', 1) ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + 1");
        await SqlAsync(harness, "UPDATE ai_systems SET legal_hold_at = now(), legal_hold_by = 'auditor@example.org', legal_hold_reason = 'matter 7' WHERE slug = 'support-drafts'");
        await MaintainAsync(harness, 0); // the months of these rows get their partitions

        var dropped = await MaintainAsync(harness, 3);

        var view = Assert.Single(dropped);
        Assert.Equal(expired.Table, view.Partition);
        Assert.Equal(2, view.Interactions);
        var partitions = await PartitionsAsync(harness);
        Assert.DoesNotContain(expired.Table, partitions);
        Assert.Contains(held.Table, partitions);
        Assert.Contains(queued.Table, partitions);
        Assert.Contains(kept.Table, partitions);
        Assert.Equal(0, await CountAsync(database, "SELECT count(*) FROM interactions WHERE id LIKE 'int_expired_%'"));
        Assert.Equal(3, await CountAsync(database, "SELECT count(*) FROM interactions WHERE id IN ('int_held', 'int_queued', 'int_kept')"));
        await using var db = Db(harness);
        var audit = await db.AuditEntries.AsNoTracking().Where(a => a.Action == "evidence.partition_dropped").ToListAsync();
        Assert.Equal($"interactions:{expired.From.ToString("yyyy-MM", CultureInfo.InvariantCulture)}", Assert.Single(audit).Subject);

        // Once the hold is released and the item reviewed, those months go too.
        await SqlAsync(harness, "UPDATE ai_systems SET legal_hold_at = NULL, legal_hold_by = NULL, legal_hold_reason = NULL");
        await SqlAsync(harness, "UPDATE review_items SET state = 'done'");
        Assert.Equal(new[] { queued.Table, held.Table }, (await MaintainAsync(harness, 3)).Select(d => d.Partition));
    }

    private static async Task<IReadOnlyList<PartitionDroppedView>> MaintainAsync(GatewayHarness harness, int retentionMonths)
    {
        var services = harness.Server.App.Services;
        var partitions = new InteractionPartitions(services.GetRequiredService<PilotageStore>(), services.GetRequiredService<ControlPlane>(),
            new EvidenceOptions { InteractionRetentionMonths = retentionMonths }, harness.Time, NullLogger<InteractionPartitions>.Instance);
        // The server's own run at start may hold the maintenance lock for a moment.
        for (var attempt = 0; ; attempt++)
        {
            await using (var connection = new NpgsqlConnection(harness.Server.Database))
            {
                await connection.OpenAsync();
                await using var busy = new NpgsqlCommand($"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {InteractionPartitions.LockKey & 0xFFFF_FFFF}", connection);
                if ((long)(await busy.ExecuteScalarAsync())! == 0 || attempt > 100) return await partitions.MaintainAsync(CancellationToken.None);
            }
            await Task.Delay(50);
        }
    }

    private static async Task<HashSet<string>> PartitionsAsync(GatewayHarness harness)
    {
        await using var connection = new NpgsqlConnection(harness.Server.Database);
        await connection.OpenAsync();
        return await InteractionPartitions.PartitionsAsync(connection, CancellationToken.None);
    }

    private static async Task<string> PlanAsync(NpgsqlConnection connection, string query)
    {
        await using var command = new NpgsqlCommand("EXPLAIN " + query, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        return string.Join('\n', lines);
    }

    private static async Task<long> CountAsync(PostgresDatabase database, string sql)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task InsertAsync(GatewayHarness harness, params (string Id, string System, DateTimeOffset At)[] rows)
    {
        await using var db = Db(harness);
        foreach (var (id, system, at) in rows)
        {
            db.Interactions.Add(new InteractionRow
            {
                Id = id, CreatedAt = at, System = system, Phase = "pilot", UserEmail = "", KeyId = "", Groups = "[]", Endpoint = "chat", Mode = "draft", Outcome = "served",
            });
        }
        await db.SaveChangesAsync();
    }

    private static async Task SqlAsync(GatewayHarness harness, string sql)
    {
        await using var db = Db(harness);
#pragma warning disable EF1002 // fixed test SQL
        await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
    }

    private static PilotageDbContext Db(GatewayHarness harness) =>
        harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();

    private static string Literal(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture);
}
