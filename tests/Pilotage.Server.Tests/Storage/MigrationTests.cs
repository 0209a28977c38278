using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Storage;

/// <summary>The schema: one initial migration per provider, in step with the model; start migrates a new database and refuses one made by another build.</summary>
public sealed class MigrationTests
{
    [Fact]
    public async Task Sqlite_new_database_gets_the_initial_migration_once()
    {
        using var folder = new TempDirectory();
        await MigrateTwiceAsync(folder.File("new.db"));
    }

    [PostgresFact]
    public async Task Postgres_new_database_gets_the_initial_migration_once()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await MigrateTwiceAsync(database.ConnectionString);
    }

    [Fact]
    public void Both_providers_have_the_same_migration_history()
    {
        using var sqlite = new PilotageStore(StoreLocation.Parse("Data Source=unused.db")).CreateDbContext();
        using var postgres = new PilotageStore(StoreLocation.Parse("Host=127.0.0.1;Database=unused")).CreateDbContext();
        static string[] Names(DbContext db) => db.Database.GetMigrations().Select(m => m[(m.IndexOf('_', StringComparison.Ordinal) + 1)..]).ToArray();
        Assert.Equal(Names(sqlite), Names(postgres));
        Assert.Equal(["Initial"], Names(sqlite)); // one initial migration per provider until a release ships
        Assert.False(sqlite.Database.HasPendingModelChanges(), "the SQLite model has changes without a migration: run dotnet ef migrations add");
        Assert.False(postgres.Database.HasPendingModelChanges(), "the PostgreSQL model has changes without a migration: run dotnet ef migrations add");
    }

    /// <summary>Start migrates a new database, and a second start finds nothing to do and keeps what is there.</summary>
    private static async Task MigrateTwiceAsync(string database)
    {
        var store = new PilotageStore(StoreLocation.Parse(database));
        await store.MigrateAsync(CancellationToken.None);
        await using (var db = store.CreateDbContext())
        {
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO users (email, display_name, role, active, created_at) VALUES ('kept@example.org', 'Kept', 'owner', TRUE, '2026-01-01T00:00:00+00:00')");
#pragma warning restore EF1002
        }
        await store.MigrateAsync(CancellationToken.None);
        await using var again = store.CreateDbContext();
        Assert.Empty(await again.Database.GetPendingMigrationsAsync());
        Assert.Equal("Kept", (await again.Users.AsNoTracking().SingleAsync(u => u.Email == "kept@example.org")).DisplayName);
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
