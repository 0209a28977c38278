using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Storage;

/// <summary>A database left at an older migration is upgraded in place on start, keeping its data.</summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task Sqlite_database_from_the_first_migration_is_upgraded_not_recreated()
    {
        using var folder = new TempDirectory();
        await UpgradeAsync(folder.File("old.db"));
    }

    [PostgresFact]
    public async Task Postgres_database_from_the_first_migration_is_upgraded_not_recreated()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await UpgradeAsync(database.ConnectionString);
    }

    [Fact]
    public void Both_providers_have_the_same_migration_history()
    {
        using var sqlite = new PilotageStore(StoreLocation.Parse("Data Source=unused.db")).CreateDbContext();
        using var postgres = new PilotageStore(StoreLocation.Parse("Host=127.0.0.1;Database=unused")).CreateDbContext();
        static string[] Names(DbContext db) => db.Database.GetMigrations().Select(m => m[(m.IndexOf('_', StringComparison.Ordinal) + 1)..]).ToArray();
        Assert.Equal(Names(sqlite), Names(postgres));
        Assert.True(Names(sqlite).Length >= 2);
        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration: run dotnet ef migrations add");
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration: run dotnet ef migrations add");
    }

    [Fact]
    public async Task Sqlite_refusals_and_failures_recorded_before_their_roll_up_are_counted_into_it()
    {
        using var folder = new TempDirectory();
        await BackfillAsync(folder.File("old.db"));
    }

    [PostgresFact]
    public async Task Postgres_refusals_and_failures_recorded_before_their_roll_up_are_counted_into_it()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await BackfillAsync(database.ConnectionString);
    }

    /// <summary>The AttentionAndMembers migration fills <c>rollup_codes</c> from the interactions already there, hour by hour.</summary>
    private static async Task BackfillAsync(string database)
    {
        var store = new PilotageStore(StoreLocation.Parse(database));
        var at = new DateTimeOffset(2026, 11, 25, 10, 30, 0, TimeSpan.Zero);
        await using (var db = store.CreateDbContext())
        {
            var migrations = db.Database.GetMigrations().ToList();
            var before = migrations[migrations.FindIndex(m => m.EndsWith("_AttentionAndMembers", StringComparison.Ordinal)) - 1];
            await db.GetService<IMigrator>().MigrateAsync(before);
            InteractionRow Row(string outcome, string? code, DateTimeOffset when, long? evalRun = null) => new()
            {
                Id = Pilotage.Server.Evidence.InteractionId.New(), CreatedAt = when, System = "old-system", Phase = "pilot", UserEmail = "mia@example.org",
                KeyId = "k", Groups = "[]", Endpoint = "chat", Mode = "full", Outcome = outcome, RefusalCode = code, EvalRun = evalRun,
            };
            db.Interactions.AddRange(
                Row("refused", "not_in_allowed_group", at), Row("refused", "not_in_allowed_group", at.AddMinutes(10)),
                Row("refused", null, at.AddHours(1)), Row("failed", "upstream_timeout", at, evalRun: 7),
                Row("served", null, at));
            await db.SaveChangesAsync();
        }
        await using (var db = store.CreateDbContext())
        {
            await db.Database.MigrateAsync();
            var codes = await db.RollupCodes.AsNoTracking().OrderBy(c => c.Hour).ThenBy(c => c.Outcome).ThenBy(c => c.Code).ToListAsync();
            var hour = at.ToUnixTimeSeconds() / 3600;
            Assert.Equal(
                [("old-system", hour, "ai", "refused", "not_in_allowed_group", 2L), ("old-system", hour, "eval", "failed", "upstream_timeout", 1L), ("old-system", hour + 1, "ai", "refused", "unspecified", 1L)],
                codes.Select(c => (c.System, c.Hour, c.Kind, c.Outcome, c.Code, c.Count)).OrderBy(c => c.Item2).ThenBy(c => c.Item4 == "refused" ? 0 : 1).ToList());
        }
    }

    private static async Task UpgradeAsync(string database)
    {
        var store = new PilotageStore(StoreLocation.Parse(database));
        await using (var db = store.CreateDbContext())
        {
            var first = db.Database.GetMigrations().First();
            await db.GetService<IMigrator>().MigrateAsync(first);
            Assert.NotEmpty(await db.Database.GetPendingMigrationsAsync());
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO users (email, display_name, role, active, created_at) VALUES ('old@example.org', 'Kept from v1', 'owner', TRUE, '2026-01-01T00:00:00+00:00')");
#pragma warning restore EF1002
        }

        await using var server = await PilotageTestServer.StartAsync(database);
        var user = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/users/old@example.org");
        Assert.Equal("Kept from v1", user.GetProperty("displayName").GetString());
        await using var upgraded = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.Empty(await upgraded.Database.GetPendingMigrationsAsync());
        var verify = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        Assert.True(verify.GetProperty("ok").GetBoolean());
        Assert.True(verify.GetProperty("entries").GetInt64() >= 1); // the bootstrap admin after the upgrade
    }

    [Fact]
    public async Task Sqlite_database_made_by_another_build_is_refused_and_left_as_it_was()
    {
        using var folder = new TempDirectory();
        await ForeignHistoryAsync(folder.File("other.db"));
    }

    [PostgresFact]
    public async Task Postgres_database_made_by_another_build_is_refused_and_left_as_it_was()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await ForeignHistoryAsync(database.ConnectionString);
    }

    /// <summary>A schema history naming a migration this build lacks (a newer build's) stops the start with what to do.</summary>
    private static async Task ForeignHistoryAsync(string database)
    {
        var store = new PilotageStore(StoreLocation.Parse(database));
        await store.MigrateAsync(CancellationToken.None);
        await using (var db = store.CreateDbContext())
        {
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO \"__EFMigrationsHistory\" (\"MigrationId\", \"ProductVersion\") VALUES ('29991231000000_FromANewerBuild', '99.0.0')");
#pragma warning restore EF1002
        }

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.MigrateAsync(CancellationToken.None));
        Assert.Contains("made by another build of Pilotage", refused.Message, StringComparison.Ordinal);
        Assert.Contains("29991231000000_FromANewerBuild", refused.Message, StringComparison.Ordinal);
        Assert.Contains("pilotage serve --db", refused.Message, StringComparison.Ordinal);
        await using var after = store.CreateDbContext();
        Assert.Contains("29991231000000_FromANewerBuild", await after.Database.GetAppliedMigrationsAsync());
    }
}
