using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Pilotage.Server.Storage;

public enum StoreProvider { Sqlite, PostgreSql }

/// <summary>
/// Where the control plane keeps its state, from <c>--db</c> / <c>PILOTAGE_DB</c>: a SQLite path or
/// <c>Data Source=…</c> string (the embedded default), or a PostgreSQL <c>Host=…</c> string.
/// </summary>
public sealed record StoreLocation(StoreProvider Provider, string ConnectionString)
{
    public const string DefaultSqlitePath = "pilotage.db";

    public static StoreLocation Parse(string? value)
    {
        var text = string.IsNullOrWhiteSpace(value) ? DefaultSqlitePath : value.Trim();
        if (text.Contains("Host=", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            if (text.Contains("://", StringComparison.Ordinal))
            {
                throw new ArgumentException("PostgreSQL URLs are not supported; use a connection string such as 'Host=127.0.0.1;Port=5432;Username=pilotage;Database=pilotage'.");
            }
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(text);
                return new StoreLocation(StoreProvider.PostgreSql, builder.ConnectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"invalid PostgreSQL connection string: {e.Message}", e);
            }
        }
        SqliteConnectionStringBuilder sqlite;
        if (text.Contains('=', StringComparison.Ordinal))
        {
            try { sqlite = new SqliteConnectionStringBuilder(text); }
            catch (ArgumentException e) { throw new ArgumentException($"invalid SQLite connection string: {e.Message}", e); }
        }
        else
        {
            sqlite = new SqliteConnectionStringBuilder { DataSource = text };
        }
        // Writers wait for each other instead of failing at once with SQLITE_BUSY.
        if (sqlite.DefaultTimeout < 30) sqlite.DefaultTimeout = 30;
        sqlite.Pooling = true;
        return new StoreLocation(StoreProvider.Sqlite, sqlite.ConnectionString);
    }

    /// <summary>A description safe to print: no password.</summary>
    public string Describe()
    {
        if (Provider == StoreProvider.Sqlite)
        {
            return $"SQLite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";
        }
        var pg = new NpgsqlConnectionStringBuilder(ConnectionString);
        return $"PostgreSQL {pg.Host}:{pg.Port}/{pg.Database ?? pg.Username}";
    }
}

/// <summary>Creates contexts for the configured provider. Registered as a singleton.</summary>
public sealed class PilotageStore
{
    private readonly DbContextOptions<SqlitePilotageDbContext>? _sqlite;
    private readonly DbContextOptions<PostgresPilotageDbContext>? _postgres;

    public PilotageStore(StoreLocation location)
    {
        Location = location;
        if (location.Provider == StoreProvider.Sqlite)
        {
            _sqlite = new DbContextOptionsBuilder<SqlitePilotageDbContext>().UseSqlite(location.ConnectionString).Options;
        }
        else
        {
            _postgres = new DbContextOptionsBuilder<PostgresPilotageDbContext>().UseNpgsql(location.ConnectionString).Options;
        }
    }

    public StoreLocation Location { get; }

    public PilotageDbContext CreateDbContext() => _sqlite is not null
        ? new SqlitePilotageDbContext(_sqlite)
        : new PostgresPilotageDbContext(_postgres!);

    /// <summary>
    /// A database whose schema history names migrations this build does not have was made by another build
    /// (a newer one, or one from before the schema was squashed into its initial migration): migrating it would
    /// try to create tables that are already there, so start refuses with what to do instead.
    /// </summary>
    private void RefuseForeignHistory(IReadOnlyList<string> known, IReadOnlySet<string> applied)
    {
        var foreign = applied.Where(m => !known.Contains(m)).Order(StringComparer.Ordinal).ToList();
        if (foreign.Count == 0) return;
        throw new InvalidOperationException(
            $"the {(Location.Provider == StoreProvider.Sqlite ? "SQLite" : "PostgreSQL")} database was made by another build of Pilotage: its schema history names {foreign[0]}" +
            (foreign.Count > 1 ? $" and {foreign.Count - 1} more" : "") + $", which this build does not know (it knows {string.Join(", ", known)}). " +
            "Start this build on a new database (pilotage serve --db), or run the build that made it; nothing was changed.");
    }

    /// <summary>Applies pending migrations: an older database is upgraded in place, never recreated.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var db = CreateDbContext();
        if (Location.Provider == StoreProvider.Sqlite)
        {
            var dataSource = new SqliteConnectionStringBuilder(Location.ConnectionString).DataSource;
            var folder = Path.GetDirectoryName(Path.GetFullPath(dataSource));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        }
        // Migrate also diffs the whole model against the last migration's snapshot (EF Core's pending-model-changes
        // check), which cost 0.7–1 s of every restart on a 2-core machine; asking the history table first costs one query.
        // MigrationTests keeps the model and the migrations in step, so the check has nothing to find at run time.
        var known = db.Database.GetMigrations().ToList();
        var applied = (await db.Database.GetAppliedMigrationsAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        RefuseForeignHistory(known, applied);
        if (known.Any(m => !applied.Contains(m)))
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
        if (Location.Provider == StoreProvider.Sqlite)
        {
            // WAL lets readers go on while the single writer commits; it persists in the file.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
    }
}
