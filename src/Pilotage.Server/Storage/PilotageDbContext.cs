using System.Text;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;

namespace Pilotage.Server.Storage;

/// <summary>
/// The control-plane model. One subclass per provider so each keeps its own migrations
/// (SQLite and PostgreSQL differ in types and SQL); the model itself is shared.
/// </summary>
public abstract class PilotageDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<UserRow> Users => Set<UserRow>();
    public DbSet<GroupRow> Groups => Set<GroupRow>();
    public DbSet<GroupMembershipRow> Memberships => Set<GroupMembershipRow>();
    public DbSet<ApiKeyRow> ApiKeys => Set<ApiKeyRow>();
    public DbSet<DashboardSessionRow> DashboardSessions => Set<DashboardSessionRow>();
    public DbSet<AiSystemRow> Systems => Set<AiSystemRow>();
    public DbSet<ConfigVersionRow> ConfigVersions => Set<ConfigVersionRow>();
    public DbSet<AuditEntryRow> AuditEntries => Set<AuditEntryRow>();
    public DbSet<AuditHeadRow> AuditHead => Set<AuditHeadRow>();
    public DbSet<AuditTreeNodeRow> AuditTreeNodes => Set<AuditTreeNodeRow>();
    public DbSet<AuditCheckpointRow> AuditCheckpoints => Set<AuditCheckpointRow>();
    public DbSet<TrainingAcknowledgementRow> TrainingAcknowledgements => Set<TrainingAcknowledgementRow>();
    public DbSet<DecisionRow> Decisions => Set<DecisionRow>();
    public DbSet<InteractionRow> Interactions => Set<InteractionRow>();
    public DbSet<ApprovalRow> Approvals => Set<ApprovalRow>();
    public DbSet<ReviewRow> Reviews => Set<ReviewRow>();
    public DbSet<ReviewItemRow> ReviewItems => Set<ReviewItemRow>();
    public DbSet<ReviewBacklogRow> ReviewBacklog => Set<ReviewBacklogRow>();
    public DbSet<FeedbackRow> Feedback => Set<FeedbackRow>();
    public DbSet<TaskTimeRow> TaskTimes => Set<TaskTimeRow>();
    public DbSet<IncidentRow> Incidents => Set<IncidentRow>();
    public DbSet<RollupRow> Rollups => Set<RollupRow>();
    public DbSet<RollupLatencyRow> RollupLatency => Set<RollupLatencyRow>();
    public DbSet<RollupCodeRow> RollupCodes => Set<RollupCodeRow>();
    public DbSet<ActiveUserRow> ActiveUsers => Set<ActiveUserRow>();
    public DbSet<EvalRunRow> EvalRuns => Set<EvalRunRow>();
    public DbSet<EvalResultRow> EvalResults => Set<EvalResultRow>();
    public DbSet<ReadinessAnswerRow> ReadinessAnswers => Set<ReadinessAnswerRow>();
    public DbSet<WebhookDeliveryRow> WebhookDeliveries => Set<WebhookDeliveryRow>();
    public DbSet<ChangeRequestRow> ChangeRequests => Set<ChangeRequestRow>();
    /// <summary>The dashboard cookie's key ring (Dashboard/DashboardSetup.cs): secrets at rest, see docs/security.md.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public abstract StoreProvider Provider { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<UserRow>(e =>
        {
            e.ToTable("users");
            e.HasIndex(u => u.Email).IsUnique();
            e.Property(u => u.Email).HasMaxLength(320);
            e.Property(u => u.Role).HasMaxLength(16);
            e.Property(u => u.AssignedRole).HasMaxLength(16);
            e.Property(u => u.ExternalId).HasMaxLength(256);
        });
        modelBuilder.Entity<GroupRow>(e =>
        {
            e.ToTable("groups");
            e.HasIndex(g => g.Name).IsUnique();
            e.Property(g => g.Name).HasMaxLength(100);
            e.Property(g => g.DisplayName).HasMaxLength(256);
            e.Property(g => g.ExternalId).HasMaxLength(256);
        });
        modelBuilder.Entity<GroupMembershipRow>(e =>
        {
            e.ToTable("group_memberships");
            e.HasKey(m => new { m.UserId, m.GroupId });
            e.HasOne(m => m.User).WithMany(u => u.Memberships).HasForeignKey(m => m.UserId);
            e.HasOne(m => m.Group).WithMany(g => g.Memberships).HasForeignKey(m => m.GroupId);
        });
        modelBuilder.Entity<ApiKeyRow>(e =>
        {
            e.ToTable("api_keys");
            e.Property(k => k.Id).HasMaxLength(32);
            e.HasOne(k => k.User).WithMany().HasForeignKey(k => k.UserId);
            e.HasIndex(k => k.UserId);
        });
        modelBuilder.Entity<AiSystemRow>(e =>
        {
            e.ToTable("ai_systems");
            e.HasIndex(s => s.Slug).IsUnique();
            e.Property(s => s.Slug).HasMaxLength(63);
        });
        modelBuilder.Entity<ConfigVersionRow>(e =>
        {
            e.ToTable("config_versions");
            e.HasKey(v => new { v.SystemId, v.Version });
            e.HasOne<AiSystemRow>().WithMany().HasForeignKey(v => v.SystemId);
        });
        modelBuilder.Entity<AuditEntryRow>(e =>
        {
            e.ToTable("audit_entries");
            e.HasKey(a => a.Sequence);
            // Sequences are assigned under the head lock, never by the database.
            e.Property(a => a.Sequence).ValueGeneratedNever();
        });
        modelBuilder.Entity<AuditHeadRow>(e =>
        {
            e.ToTable("audit_head");
            e.Property(h => h.Id).ValueGeneratedNever();
            e.HasData(new AuditHeadRow { Id = 1, Sequence = 0, Hash = AuditHasher.Genesis, TreeSize = 0, TreeFrontier = [] });
        });
        AuditTreeRows.Configure(modelBuilder);

        modelBuilder.Entity<TrainingAcknowledgementRow>(e =>
        {
            e.ToTable("training_acknowledgements");
            e.HasKey(t => new { t.UserId, t.SystemId });
            e.HasOne<UserRow>().WithMany().HasForeignKey(t => t.UserId);
            e.HasOne<AiSystemRow>().WithMany().HasForeignKey(t => t.SystemId);
        });
        modelBuilder.Entity<DecisionRow>(e =>
        {
            e.ToTable("decisions");
            e.HasOne<AiSystemRow>().WithMany().HasForeignKey(d => d.SystemId);
            e.HasIndex(d => d.SystemId);
        });
        modelBuilder.Entity<InteractionRow>(e =>
        {
            e.ToTable("interactions");
            e.Property(i => i.Id).HasMaxLength(40);
            e.Property(i => i.Cost).HasPrecision(18, 8);
            // No foreign keys: evidence is appended in bulk and must outlive renamed or retired systems.
            e.HasIndex(i => new { i.System, i.CreatedAt });
            // A person's own page lists their most recent interactions (dashboard, "Your page"): ids start
            // with their time, so (user_id, id) reads the newest first without a sort, on both stores.
            e.HasIndex(i => new { i.UserId, i.Id });
        });
        modelBuilder.Entity<ApprovalRow>(e =>
        {
            e.ToTable("approvals");
            e.HasKey(a => a.InteractionId);
            e.HasIndex(a => new { a.System, a.State });
        });

        modelBuilder.Entity<ReviewRow>(e =>
        {
            e.ToTable("reviews");
            e.HasKey(r => r.InteractionId);
            e.HasIndex(r => r.System);
        });
        modelBuilder.Entity<ReviewItemRow>(e =>
        {
            e.ToTable("review_items");
            e.HasKey(r => r.InteractionId);
            // The queue and the metrics' oldest pending item read pending items in id (creation) order: one seek.
            e.HasIndex(r => new { r.System, r.State, r.InteractionId });
        });
        modelBuilder.Entity<ReviewBacklogRow>(e =>
        {
            e.ToTable("review_backlog");
            e.HasKey(b => b.System);
        });
        modelBuilder.Entity<FeedbackRow>(e =>
        {
            e.ToTable("feedback");
            e.HasKey(f => new { f.InteractionId, f.UserId });
        });
        modelBuilder.Entity<TaskTimeRow>(e =>
        {
            e.ToTable("task_times");
            e.HasKey(t => t.InteractionId);
        });
        modelBuilder.Entity<IncidentRow>(e =>
        {
            e.ToTable("incidents");
            e.HasIndex(i => new { i.System, i.Status });
        });
        modelBuilder.Entity<RollupRow>(e =>
        {
            e.ToTable("rollups");
            e.HasKey(r => new { r.System, r.Phase, r.Stage, r.ConfigVersion, r.Hour, r.Kind });
        });
        modelBuilder.Entity<RollupLatencyRow>(e =>
        {
            e.ToTable("rollup_latency");
            e.HasKey(r => new { r.System, r.Phase, r.Stage, r.ConfigVersion, r.Hour, r.Kind, r.Bucket });
        });
        modelBuilder.Entity<RollupCodeRow>(e =>
        {
            e.ToTable("rollup_codes");
            e.HasKey(r => new { r.System, r.Hour, r.Kind, r.Outcome, r.Code });
        });
        modelBuilder.Entity<ActiveUserRow>(e =>
        {
            e.ToTable("active_users");
            e.HasKey(a => new { a.System, a.Day, a.UserId });
        });

        modelBuilder.Entity<EvalRunRow>(e =>
        {
            e.ToTable("eval_runs");
            e.HasIndex(r => new { r.System, r.ConfigVersion });
        });
        modelBuilder.Entity<EvalResultRow>(e =>
        {
            e.ToTable("eval_results");
            e.HasKey(r => new { r.RunId, r.CaseId });
            e.HasOne<EvalRunRow>().WithMany().HasForeignKey(r => r.RunId);
        });
        modelBuilder.Entity<ReadinessAnswerRow>(e =>
        {
            e.ToTable("readiness_answers");
            e.HasKey(r => new { r.System, r.QuestionId });
        });
        modelBuilder.Entity<WebhookDeliveryRow>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasIndex(w => new { w.Status, w.NextAttemptAt });
        });

        modelBuilder.Entity<ChangeRequestRow>(e =>
        {
            e.ToTable("change_requests");
            e.Property(c => c.System).HasMaxLength(63);
            e.Property(c => c.Status).HasMaxLength(16);
            e.HasIndex(c => new { c.System, c.Status });
        });

        modelBuilder.Entity<DataProtectionKey>(e => e.ToTable("data_protection_keys"));
        modelBuilder.Entity<DashboardSessionRow>(e =>
        {
            e.ToTable("dashboard_sessions");
            e.Property(s => s.Id).HasMaxLength(64);
            e.HasIndex(s => s.KeyId);
            e.HasIndex(s => s.ExpiresAt);
        });

        // snake_case columns, so that operators (and tamper tests) can read the tables with plain SQL.
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(SnakeCase(property.Name));
            }
        }
        if (Provider == StoreProvider.PostgreSql) CompareEvidenceKeysBytewise(modelBuilder);
    }

    /// <summary>
    /// The tables written for every interaction (and their roll-ups), whose text keys are compared bytewise on
    /// PostgreSQL (<see cref="CompareEvidenceKeysBytewise"/>).
    /// </summary>
    public static readonly IReadOnlyList<Type> EvidenceRows =
    [
        typeof(InteractionRow), typeof(ApprovalRow), typeof(ReviewRow), typeof(ReviewItemRow), typeof(ReviewBacklogRow),
        typeof(FeedbackRow), typeof(TaskTimeRow), typeof(RollupRow), typeof(RollupLatencyRow), typeof(RollupCodeRow),
        typeof(ActiveUserRow),
    ];

    /// <summary>
    /// On PostgreSQL, the text columns of the evidence tables' keys and indexes use the "C" collation: compared byte by
    /// byte. Under the database's own collation (en_US.UTF-8, C.UTF-8: anything but "C") every comparison in an index
    /// goes through the C library's strcoll and PostgreSQL sorts without abbreviated keys; a bulk import spends most of
    /// the server's time on index entries, and an interaction adds one to each index of its tables. These values are
    /// ids, slugs and closed vocabularies (ASCII), and the code reads them in ordinal order — ids lead with their time —
    /// as SQLite's binary comparison and StringComparer.Ordinal order them; "C" orders them the same way on every server.
    /// </summary>
    private static void CompareEvidenceKeysBytewise(ModelBuilder modelBuilder)
    {
        foreach (var type in EvidenceRows)
        {
            var entity = modelBuilder.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not in the model");
            var keyed = entity.GetKeys().SelectMany(k => k.Properties).Concat(entity.GetIndexes().SelectMany(i => i.Properties));
            foreach (var property in keyed.Where(p => p.ClrType == typeof(string)).Distinct())
            {
                property.SetCollation(BytewiseCollation);
            }
        }
    }

    /// <summary>PostgreSQL's collation that compares text byte by byte (the evidence tables' keys).</summary>
    public const string BytewiseCollation = "C";

    private static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

public sealed class SqlitePilotageDbContext(DbContextOptions<SqlitePilotageDbContext> options) : PilotageDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.Sqlite;
}

public sealed class PostgresPilotageDbContext(DbContextOptions<PostgresPilotageDbContext> options) : PilotageDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.PostgreSql;
}
