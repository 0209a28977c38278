using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Pilotage.Server.Storage;

// Used only by `dotnet ef migrations add`, one per provider (see docs/architecture.md).

public sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePilotageDbContext>
{
    public SqlitePilotageDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqlitePilotageDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

public sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresPilotageDbContext>
{
    public PostgresPilotageDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresPilotageDbContext>().UseNpgsql("Host=localhost;Database=design_time").Options);
}
