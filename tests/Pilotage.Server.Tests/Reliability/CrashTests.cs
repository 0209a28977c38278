using Microsoft.Data.Sqlite;
using Npgsql;
using Pilotage.Testing;
using Xunit.Abstractions;

namespace Pilotage.Server.Tests.Reliability;

/// <summary>
/// Issue 8 item 1: SIGKILL under load, ≥ 20 times per store (<c>PILOTAGE_CRASH_ROUNDS</c>), then nothing a
/// client was told is missing, doubled or half-written. Long-running: filter them with
/// <c>Category=Reliability</c>; docs/reliability.md has the figures.
/// </summary>
[Trait("Category", "Reliability")]
[Collection(ReliabilityCollection.Name)]
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sqlite_survives_SIGKILL_under_load_without_losing_or_doubling_evidence()
    {
        using var folder = new TempDirectory("pilotage-crash");
        var database = folder.File("pilotage.db");
        var harness = new CrashHarness("sqlite", database,
            () => new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString), output);

        var report = await harness.RunAsync(CrashHarness.RoundsFromEnvironment(), CrashHarness.SeedFromEnvironment());

        Assert.True(report.Kills >= CrashHarness.RoundsFromEnvironment());
        Assert.True(report.AnswersReceived > 0 && report.ApprovalsHeld > 0, $"the load produced nothing to check: {report}");
        Assert.True(report.Clean, report.ToString());
    }

    [PostgresFact]
    public async Task Postgres_survives_SIGKILL_under_load_without_losing_or_doubling_evidence()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var harness = new CrashHarness("postgresql", database.ConnectionString,
            () => new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString), output);

        var report = await harness.RunAsync(CrashHarness.RoundsFromEnvironment(), CrashHarness.SeedFromEnvironment());

        Assert.True(report.Kills >= CrashHarness.RoundsFromEnvironment());
        Assert.True(report.AnswersReceived > 0 && report.ApprovalsHeld > 0, $"the load produced nothing to check: {report}");
        Assert.True(report.Clean, report.ToString());
    }
}

/// <summary>The process-level reliability tests load the machine; they must not run beside each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    public const string Name = "Reliability";
}
