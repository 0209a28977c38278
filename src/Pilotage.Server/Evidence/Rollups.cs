using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;
using Pilotage.Core.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>Where an interaction's evidence is counted: its system, lifecycle position, config version, UTC hour and kind.</summary>
public readonly record struct RollupKey(string System, string Phase, int Stage, int ConfigVersion, long Hour, string Kind)
{
    public static long HourOf(DateTimeOffset at) => at.ToUnixTimeSeconds() / 3600;

    public static int DayOf(DateTimeOffset at) => (int)(at.ToUnixTimeSeconds() / 86400);

    /// <summary>Kinds keep evaluation traffic and manual work apart from real AI traffic.</summary>
    public static RollupKey Of(InteractionRow row) =>
        new(row.System, row.Phase, row.Stage, row.ConfigVersion, HourOf(row.CreatedAt), KindOf(row));

    public static string KindOf(InteractionRow row) => row.Endpoint == InteractionEndpointNames.Manual ? RollupKinds.Manual : row.EvalRun is not null ? RollupKinds.Eval : RollupKinds.Ai;
}

/// <summary>Changes to the roll-ups that belong to one transaction: counters, latency buckets, active users.</summary>
public sealed class RollupDelta
{
    private readonly Dictionary<RollupKey, EvidenceTotals> _totals = [];
    private readonly Dictionary<(RollupKey Key, int Bucket), long> _latency = [];
    private readonly HashSet<(string System, int Day, long User)> _active = [];
    private readonly Dictionary<(string System, long Hour, string Kind, string Outcome, string Code), long> _codes = [];

    public bool IsEmpty => _totals.Count == 0 && _latency.Count == 0 && _active.Count == 0 && _codes.Count == 0;

    public void Add(RollupKey key, EvidenceTotals totals, int sign = 1)
    {
        if (!_totals.TryGetValue(key, out var sum)) _totals[key] = sum = new EvidenceTotals();
        sum.Add(totals, sign);
    }

    /// <summary>Everything one newly recorded interaction contributes.</summary>
    public void AddInteraction(InteractionRow row)
    {
        var key = RollupKey.Of(row);
        if (!_totals.TryGetValue(key, out var sum)) _totals[key] = sum = new EvidenceTotals();
        sum.AddInteraction(row.Outcome, row.RefusalCode, row.DetectorHits?.Contains("\"redact\"", StringComparison.Ordinal) == true,
            row.TokensIn, row.TokensOut, row.Cost, row.TotalMs);
        if (InteractionOutcomes.IsAnswered(row.Outcome))
        {
            var bucket = (key, LatencyHistogram.BucketOf(row.TotalMs));
            _latency[bucket] = _latency.GetValueOrDefault(bucket) + 1;
        }
        if (row.Outcome is InteractionOutcomes.Refused or InteractionOutcomes.Failed)
        {
            var code = (row.System, key.Hour, key.Kind, row.Outcome, CodeOf(row.RefusalCode));
            _codes[code] = _codes.GetValueOrDefault(code) + 1;
        }
        // Adoption counts people using the AI: not manual work, not test runs, not refused attempts.
        if (row.UserId != 0 && row.Outcome is not InteractionOutcomes.Refused && key.Kind == RollupKinds.Ai) _active.Add((row.System, RollupKey.DayOf(row.CreatedAt), row.UserId));
    }

    /// <summary>A person who used the system on a day (adoption), for evidence recorded without <see cref="AddInteraction"/>.</summary>
    public void AddActiveUser(string system, int day, long user) => _active.Add((system, day, user));

    public IReadOnlyDictionary<RollupKey, EvidenceTotals> Totals => _totals;
    public IReadOnlyDictionary<(RollupKey Key, int Bucket), long> Latency => _latency;
    public IReadOnlyCollection<(string System, int Day, long User)> ActiveUsers => _active;
    public IReadOnlyDictionary<(string System, long Hour, string Kind, string Outcome, string Code), long> Codes => _codes;

    /// <summary>The code a refusal or failure is counted under: as recorded, or <c>unspecified</c>.</summary>
    public static string CodeOf(string? code) => string.IsNullOrEmpty(code) ? "unspecified" : code;
}

/// <summary>
/// Writes roll-up changes with <c>INSERT … ON CONFLICT DO UPDATE</c> (the same SQL on SQLite and
/// PostgreSQL), inside the caller's transaction, so a roll-up never counts evidence that was not
/// committed and never misses evidence that was.
/// </summary>
public static class RollupWriter
{
    private static readonly string[] Counters =
    [
        "requests", "served", "refused", "failed", "held", "shadowed", "blocked", "redacted", "tokens_in", "tokens_out",
        "cost_nanos", "latency_ms_sum", "reviewed", "accepted", "edited", "rejected", "escalated", "out_of_scope",
        "review_seconds", "rework_sum", "rework_seconds", "feedback_count", "feedback_sum", "task_count", "task_minutes",
    ];

    private static readonly string[] CounterParameters = Counters.Select((_, i) => $"@c{i}").ToArray();

    private static readonly string RollupSql = BuildRollupSql();

    private const string LatencySql =
        "INSERT INTO rollup_latency (system, phase, stage, config_version, hour, kind, bucket, count) VALUES (@system, @phase, @stage, @version, @hour, @kind, @bucket, @count) "
        + "ON CONFLICT (system, phase, stage, config_version, hour, kind, bucket) DO UPDATE SET count = rollup_latency.count + excluded.count";

    private const string CodeSql =
        "INSERT INTO rollup_codes (system, hour, kind, outcome, code, count) VALUES (@system, @hour, @kind, @outcome, @code, @count) "
        + "ON CONFLICT (system, hour, kind, outcome, code) DO UPDATE SET count = rollup_codes.count + excluded.count";

    private const string ActiveUserSql =
        "INSERT INTO active_users (system, day, user_id) VALUES (@system, @day, @user) ON CONFLICT (system, day, user_id) DO NOTHING";

    public static Task ApplyAsync(DbConnection connection, DbTransaction? transaction, RollupDelta delta, CancellationToken ct) =>
        ApplyAsync(connection, transaction, delta, null, ct);

    /// <param name="statements">The connection's kept statements (the evidence writer's), so each SQL text is parsed once per connection.</param>
    internal static async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, RollupDelta delta, SqlStatements? statements, CancellationToken ct)
    {
        if (delta.IsEmpty) return;
        foreach (var (key, totals) in delta.Totals)
        {
            await using var command = StatementLease.Of(statements, connection, transaction, RollupSql);
            var i = SetKey(command, key);
            object[] values =
            [
                totals.Requests, totals.Served, totals.Refused, totals.Failed, totals.Held, totals.Shadowed, totals.Blocked, totals.Redacted,
                totals.TokensIn, totals.TokensOut, CostNanos(totals.Cost), totals.LatencyMsSum, totals.Reviewed, totals.Accepted, totals.Edited,
                totals.Rejected, totals.Escalated, totals.OutOfScope, totals.ReviewSeconds, totals.ReworkSum, totals.ReworkSeconds,
                totals.FeedbackCount, totals.FeedbackSum, totals.TaskCount, totals.TaskMinutes,
            ];
            for (var c = 0; c < values.Length; c++) command.Set(i + c, CounterParameters[c], values[c]);
            await command.ExecuteAsync(ct);
        }
        foreach (var ((key, bucket), count) in delta.Latency)
        {
            await using var command = StatementLease.Of(statements, connection, transaction, LatencySql);
            var i = SetKey(command, key);
            command.Set(i, "@bucket", bucket);
            command.Set(i + 1, "@count", count);
            await command.ExecuteAsync(ct);
        }
        foreach (var ((system, hour, kind, outcome, code), count) in delta.Codes)
        {
            await using var command = StatementLease.Of(statements, connection, transaction, CodeSql);
            command.Set(0, "@system", system);
            command.Set(1, "@hour", hour);
            command.Set(2, "@kind", kind);
            command.Set(3, "@outcome", outcome);
            command.Set(4, "@code", code);
            command.Set(5, "@count", count);
            await command.ExecuteAsync(ct);
        }
        foreach (var (system, day, user) in delta.ActiveUsers)
        {
            await using var command = StatementLease.Of(statements, connection, transaction, ActiveUserSql);
            command.Set(0, "@system", system);
            command.Set(1, "@day", day);
            command.Set(2, "@user", user);
            await command.ExecuteAsync(ct);
        }
    }

    /// <summary>Roll-up rows summed back into totals.</summary>
    public static EvidenceTotals ToTotals(RollupRow row) => new()
    {
        Requests = row.Requests, Served = row.Served, Refused = row.Refused, Failed = row.Failed, Held = row.Held, Shadowed = row.Shadowed,
        Blocked = row.Blocked, Redacted = row.Redacted, TokensIn = row.TokensIn, TokensOut = row.TokensOut, Cost = row.CostNanos / 1_000_000_000m,
        LatencyMsSum = row.LatencyMsSum, Reviewed = row.Reviewed, Accepted = row.Accepted, Edited = row.Edited, Rejected = row.Rejected,
        Escalated = row.Escalated, OutOfScope = row.OutOfScope, ReviewSeconds = row.ReviewSeconds, ReworkSum = row.ReworkSum,
        ReworkSeconds = row.ReworkSeconds, FeedbackCount = row.FeedbackCount, FeedbackSum = row.FeedbackSum, TaskCount = row.TaskCount,
        TaskMinutes = row.TaskMinutes,
    };

    private static long CostNanos(decimal cost) => (long)decimal.Round(cost * 1_000_000_000m, MidpointRounding.AwayFromZero);

    private static string BuildRollupSql()
    {
        var sql = new StringBuilder("INSERT INTO rollups (system, phase, stage, config_version, hour, kind, ");
        sql.Append(string.Join(", ", Counters)).Append(") VALUES (@system, @phase, @stage, @version, @hour, @kind, ");
        sql.Append(string.Join(", ", CounterParameters)).Append(") ON CONFLICT (system, phase, stage, config_version, hour, kind) DO UPDATE SET ");
        sql.Append(string.Join(", ", Counters.Select(c => $"{c} = rollups.{c} + excluded.{c}")));
        return sql.ToString();
    }

    /// <summary>Sets the key's six parameters first; returns the index of the next one.</summary>
    private static int SetKey(StatementLease command, RollupKey key)
    {
        command.Set(0, "@system", key.System);
        command.Set(1, "@phase", key.Phase);
        command.Set(2, "@stage", key.Stage);
        command.Set(3, "@version", key.ConfigVersion);
        command.Set(4, "@hour", key.Hour);
        command.Set(5, "@kind", key.Kind);
        return 6;
    }

    internal static string Describe(RollupKey key) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.System}/{key.Phase}:{key.Stage}/v{key.ConfigVersion}/{key.Hour}/{key.Kind}");
}

/// <summary>What a batch of new interactions adds besides their rows: roll-ups and review queue items.</summary>
internal static class BatchFollowUps
{
    private const string ApprovalSql =
        "INSERT INTO approvals (interaction_id, system, state, held_response, held_at) VALUES (@id, @system, 'pending', @response, @at)";

    private const string ReviewItemSql =
        "INSERT INTO review_items (interaction_id, system, kind, state, enqueued_at) VALUES (@id, @system, @kind, 'pending', @at) ON CONFLICT (interaction_id) DO NOTHING";

    public static async Task ApplyAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<InteractionRow> rows, SqlStatements? statements, CancellationToken ct, IReadOnlyDictionary<string, EvidenceHold>? holds = null)
    {
        if (holds is not null)
        {
            foreach (var row in rows)
            {
                if (!holds.TryGetValue(row.Id, out var hold)) continue;
                await using var insert = StatementLease.Of(statements, connection, transaction, ApprovalSql);
                insert.Set(0, "@id", row.Id);
                insert.Set(1, "@system", hold.System);
                insert.Set(2, "@response", hold.Response);
                insert.Set(3, "@at", EvidenceSink.Utc(hold.At));
                await insert.ExecuteAsync(ct);
            }
        }
        var delta = new RollupDelta();
        foreach (var row in rows) delta.AddInteraction(row);
        await RollupWriter.ApplyAsync(connection, transaction, delta, statements, ct);
        if (connection is NpgsqlConnection)
        {
            await EnqueueOnPostgresAsync(connection, transaction, rows, statements, ct);
            return;
        }
        // The pending count moves with the items this batch really enqueued (a conflict skips one), once per system.
        var enqueued = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (ReviewKind(row) is not { } kind) continue;
            await using var command = StatementLease.Of(statements, connection, transaction, ReviewItemSql);
            command.Set(0, "@id", row.Id);
            command.Set(1, "@system", row.System);
            command.Set(2, "@kind", kind);
            command.Set(3, "@at", EvidenceSink.Utc(row.CreatedAt));
            if (await command.ExecuteAsync(ct) > 0) enqueued[row.System] = enqueued.GetValueOrDefault(row.System) + 1;
        }
        foreach (var (system, count) in enqueued)
        {
            await using var command = StatementLease.Of(statements, connection, transaction, BacklogSql);
            command.Set(0, "@system", system);
            command.Set(1, "@count", count);
            await command.ExecuteAsync(ct);
        }
    }

    /// <summary>
    /// Adds <c>@count</c> pending items to a system's <c>review_backlog</c> row. Items are counted where they are
    /// enqueued, per batch, in its transaction; settling, reopening, moving and deleting them is counted by the
    /// triggers on <c>review_items</c> (Storage/RawSchema.cs).
    /// </summary>
    internal const string BacklogSql =
        "INSERT INTO review_backlog (system, pending) VALUES (@system, @count) ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + excluded.pending";

    /// <summary>
    /// Adds <paramref name="count"/> pending items to <paramref name="system"/>'s backlog in <paramref name="db"/>'s
    /// current transaction: for items enqueued outside the evidence writer (cases an evaluation needs a person for).
    /// </summary>
    public static async Task AddBacklogAsync(DbContext db, string system, long count, CancellationToken ct)
    {
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = BacklogSql;
        Parameter(command, "@system", system);
        Parameter(command, "@count", count);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    // The batch's items in one statement (it may be deferred into the batch's single round trip, where no row
    // count comes back), and the backlog moved by what it really inserted.
    private const string EnqueuePostgresSql = """
        WITH added AS (
            INSERT INTO review_items (interaction_id, system, kind, state, enqueued_at)
            SELECT t.id, t.system, t.kind, 'pending', t.at FROM unnest(@ids, @systems, @kinds, @ats) AS t(id, system, kind, at)
            ON CONFLICT (interaction_id) DO NOTHING
            RETURNING system)
        INSERT INTO review_backlog (system, pending) SELECT system, count(*) FROM added GROUP BY system
        ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + excluded.pending
        """;

    private static async Task EnqueueOnPostgresAsync(DbConnection connection, DbTransaction? transaction, IReadOnlyList<InteractionRow> rows, SqlStatements? statements, CancellationToken ct)
    {
        var ids = new List<string>();
        var systems = new List<string>();
        var kinds = new List<string>();
        var ats = new List<DateTimeOffset>();
        foreach (var row in rows)
        {
            if (ReviewKind(row) is not { } kind) continue;
            ids.Add(row.Id);
            systems.Add(row.System);
            kinds.Add(kind);
            ats.Add(EvidenceSink.Utc(row.CreatedAt));
        }
        if (ids.Count == 0) return;
        DbCommand? own = null;
        var parameters = statements is { Deferring: true }
            ? statements.AddDeferred(EnqueuePostgresSql).Parameters
            : (own = SqlStatements.Create(connection, EnqueuePostgresSql)).Parameters;
        parameters.Add(new NpgsqlParameter("ids", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ids.ToArray() });
        parameters.Add(new NpgsqlParameter("systems", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = systems.ToArray() });
        parameters.Add(new NpgsqlParameter("kinds", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = kinds.ToArray() });
        parameters.Add(new NpgsqlParameter("ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = ats.ToArray() });
        if (own is null) return;
        await using (own)
        {
            own.Transaction = transaction;
            await own.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Drafts and held answers wait for a person; so does manual work, reviewed the same way for comparison.</summary>
    public static string? ReviewKind(InteractionRow row) => row switch
    {
        // Test cases reach the queue only when their expectation needs a person (posted with the run's results).
        { EvalRun: not null } => null,
        { Endpoint: InteractionEndpointNames.Manual } => ReviewItemKinds.Manual,
        { Outcome: InteractionOutcomes.Held } => ReviewItemKinds.Approval,
        { Outcome: InteractionOutcomes.Served, Mode: InteractionModes.Draft, Endpoint: InteractionEndpointNames.Chat } => ReviewItemKinds.Draft,
        _ => null,
    };
}
