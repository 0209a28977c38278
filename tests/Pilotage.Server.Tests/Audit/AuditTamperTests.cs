using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Audit;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

/// <summary>
/// Someone with write access to the database alters, deletes or reorders audit rows directly;
/// verification must fail and name the first bad entry, on SQLite and on PostgreSQL.
/// </summary>
public sealed class AuditTamperTests
{
    public static TheoryData<string, string, long?> Tampering() => new()
    {
        { "none", "", null },
        { "altered actor", "UPDATE audit_entries SET actor = 'mallory@example.org' WHERE sequence = 3", 3 },
        { "altered payload", "UPDATE audit_entries SET after = 'role: admin' WHERE sequence = 4", 4 },
        { "altered timestamp hash", "UPDATE audit_entries SET hash = previous_hash WHERE sequence = 5", 5 },
        { "deleted middle", "DELETE FROM audit_entries WHERE sequence = 3", 3 },
        { "deleted tail", "DELETE FROM audit_entries WHERE sequence = (SELECT MAX(sequence) FROM audit_entries)", -1 },
        { "reordered", "UPDATE audit_entries SET sequence = -1 WHERE sequence = 3; UPDATE audit_entries SET sequence = 3 WHERE sequence = 4; UPDATE audit_entries SET sequence = 4 WHERE sequence = -1", 3 },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Sqlite_tampering_is_detected_and_the_first_bad_entry_named(string name, string sql, long? firstBad)
    {
        await using var server = await PilotageTestServer.StartAsync();
        await RunAsync(server, name, sql, firstBad);
    }

    [PostgresTheory]
    [MemberData(nameof(Tampering))]
    public async Task Postgres_tampering_is_detected_and_the_first_bad_entry_named(string name, string sql, long? firstBad)
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString);
        await RunAsync(server, name, sql, firstBad);
    }

    private static async Task RunAsync(PilotageTestServer server, string name, string sql, long? firstBad)
    {
        // A little history: users, a group, keys, a system.
        await server.CreateUserWithKeyAsync("dana@example.org", "owner", "support-pilot");
        await server.CreateUserWithKeyAsync("sam@example.org", "reviewer", "support-leads");
        await server.ApplyAsync(AccessMatrixSpec("audited", "dana@example.org"));
        var before = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        Assert.True(before.GetProperty("ok").GetBoolean(), before.ToString());
        var entries = before.GetProperty("entries").GetInt64();
        Assert.True(entries >= 8, $"expected a history of at least 8 entries, got {entries}");

        if (sql.Length > 0)
        {
            var store = server.App.Services.GetRequiredService<PilotageStore>();
            await using var db = store.CreateDbContext();
            foreach (var statement in sql.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
#pragma warning disable EF1002 // test-only statements written above, no input
                await db.Database.ExecuteSqlRawAsync(statement);
#pragma warning restore EF1002
            }
        }

        var after = await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        var direct = await server.App.Services.GetRequiredService<AuditTrail>().VerifyAsync(CancellationToken.None);
        if (firstBad is null)
        {
            Assert.True(after.GetProperty("ok").GetBoolean(), after.ToString());
            Assert.True(direct.Ok);
            return;
        }
        var expected = firstBad == -1 ? entries : firstBad.Value;
        Assert.False(after.GetProperty("ok").GetBoolean(), $"{name}: tampering went unnoticed: {after}");
        Assert.Equal(expected, after.GetProperty("firstBad").GetProperty("sequence").GetInt64());
        Assert.False(string.IsNullOrWhiteSpace(after.GetProperty("firstBad").GetProperty("reason").GetString()));
        Assert.False(direct.Ok);
        Assert.Equal(expected, direct.FirstBad!.Sequence);
    }

    internal static string AccessMatrixSpec(string name, string owner) => Pilotage.Server.Tests.Access.AccessMatrixTests.Spec(name, owner);
}
