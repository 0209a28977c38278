using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Import;

public sealed class ImportPostgresTests
{
    [PostgresFact]
    public async Task On_PostgreSQL_an_import_is_recorded_with_its_rollups_and_a_reimport_changes_nothing()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString);
        await server.CreateUserWithKeyAsync("dana@example.org", "member");
        await ImportTestSupport.SystemAsync(server, "import-pg");
        const string header = "prompt,answer,outcome,final_text,review_seconds,rating,timestamp,user";
        string[] lines =
        [
            "q1,a1,accepted,,30,5,2026-03-02T09:00:00Z,dana@example.org",
            "q2,\"a, two\",edited,\"a, 2\",60,3,2026-03-02T11:00:00+02:00,dana@example.org",
            "q3,a3,rejected,,,,2026-03-03,",
        ];

        Task<JsonElement> ImportAsync() => ImportTestSupport.ImportAsync(server, "import-pg", header, lines);

        Assert.Equal(3, (await ImportAsync()).GetProperty("imported").GetInt32());
        var metrics = (await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/systems/import-pg/metrics")).GetProperty("metrics");
        Assert.Equal(3, metrics.GetProperty("acceptance_rate").GetProperty("n").GetInt64());
        Assert.Equal(1 / 3.0, metrics.GetProperty("acceptance_rate").GetProperty("value").GetDouble(), 10);
        Assert.Equal(4.0, metrics.GetProperty("feedback_mean").GetProperty("value").GetDouble(), 10);

        var again = await ImportAsync();
        Assert.Equal((0, 3), (again.GetProperty("imported").GetInt32(), again.GetProperty("alreadyPresent").GetInt32()));
        var after = (await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/systems/import-pg/metrics")).GetProperty("metrics");
        Assert.Equal(metrics.GetProperty("acceptance_rate").ToString(), after.GetProperty("acceptance_rate").ToString());
        Assert.Equal(metrics.GetProperty("samples").ToString(), after.GetProperty("samples").ToString());

        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.Equal(3, await db.Interactions.CountAsync(i => i.System == "import-pg"));
        Assert.Equal(1, await db.ActiveUsers.CountAsync(a => a.System == "import-pg"));
        Assert.True((await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify")).GetProperty("ok").GetBoolean());
    }
}
