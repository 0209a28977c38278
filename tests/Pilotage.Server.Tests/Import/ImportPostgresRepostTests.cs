using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Dashboard;
using Pilotage.Testing;

using static Pilotage.Server.Tests.Import.ImportTestSupport;

namespace Pilotage.Server.Tests.Import;

/// <summary>
/// On PostgreSQL a slice is copied without looking its rows up first while none of the import was found recorded; a
/// row already there makes the slice roll back to its savepoint and be written again with the lookup. Files partly
/// recorded already, posted again whole, or longer, must add exactly the rows not there, with their roll-ups.
/// </summary>
public sealed class ImportPostgresRepostTests
{
    private const int Rows = 25_000;

    [PostgresFact]
    public async Task On_PostgreSQL_a_file_partly_recorded_already_adds_exactly_the_rows_not_there()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString);
        await server.CreateUserWithKeyAsync("dana@example.org", "member");
        await SystemAsync(server, "partly");
        await SystemAsync(server, "whole");
        var lines = Lines(Rows + 5_000);
        var file = lines.Take(Rows).ToList();

        // Every other row of the first three fifths: the first slices hold rows already recorded among new ones.
        var some = await ImportAsync(server, "partly", file.Where((_, i) => i % 2 == 0 && i < 15_000).ToList());
        Assert.Equal((7_500, 0), Counts(some));
        Assert.Equal((Rows - 7_500, 7_500), Counts(await ImportAsync(server, "partly", file)));
        Assert.Equal((0, Rows), Counts(await ImportAsync(server, "partly", file)));
        // A longer version: its first slices are all recorded, its last one all new.
        Assert.Equal((5_000, Rows), Counts(await ImportAsync(server, "partly", lines)));

        Assert.Equal((Rows + 5_000, 0), Counts(await ImportAsync(server, "whole", lines)));
        Assert.Equal(await MetricsAsync(server, "whole"), await MetricsAsync(server, "partly"));
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.Equal(Rows + 5_000, await db.Interactions.CountAsync(i => i.System == "partly"));
        var rollups = await db.Rollups.Where(r => r.System == "partly").ToListAsync();
        Assert.Equal(Rows + 5_000, rollups.Sum(r => r.Requests));
        Assert.Equal(await db.Reviews.CountAsync(r => r.System == "partly"), rollups.Sum(r => r.Reviewed));
        Assert.Equal(await db.Feedback.CountAsync(f => f.System == "partly"), rollups.Sum(r => r.FeedbackCount));
        Assert.True((await server.Admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify")).GetProperty("ok").GetBoolean());
    }

    [PostgresFact]
    public async Task On_PostgreSQL_interactions_of_no_user_stay_out_of_the_per_person_index_and_a_person_still_sees_their_own()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString);
        var key = await server.CreateUserWithKeyAsync("dana@example.org", "member");
        await SystemAsync(server, "mine");
        // Rows of dana (a user), of someone who is not a user, and of no one.
        var lines = Lines(12);
        Assert.Equal((12, 0), Counts(await ImportAsync(server, "mine", lines)));

        await using (var connection = new NpgsqlConnection(database.ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE indexname = 'IX_interactions_user_id_id'", connection);
            Assert.EndsWith("WHERE (user_id <> 0)", (string)(await command.ExecuteScalarAsync())!, StringComparison.Ordinal);
        }
        List<string> danas, others;
        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            danas = await db.Interactions.Where(i => i.System == "mine" && i.UserId != 0).Select(i => i.Id).ToListAsync();
            others = await db.Interactions.Where(i => i.System == "mine" && i.UserId == 0).Select(i => i.Id).ToListAsync();
        }
        Assert.Equal((3, 9), (danas.Count, others.Count));

        using var session = new DashboardFixture.Session(server.Url);
        using (var signIn = await session.PostFormAsync("/dashboard/sign-in", new() { ["token"] = key })) Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        using var page = await session.GetAsync("/dashboard/me");
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.All(danas, id => Assert.Contains($"data-id=\"{id}\"", html, StringComparison.Ordinal));
        Assert.All(others, id => Assert.DoesNotContain(id, html, StringComparison.Ordinal));
    }

    /// <summary>Rows over two months (a partition each, or the DEFAULT one), a quarter of them dana's.</summary>
    private static List<string> Lines(int count)
    {
        var start = new DateTimeOffset(2026, 1, 20, 0, 0, 0, TimeSpan.Zero);
        string[] outcomes = ["accepted", "edited", "rejected", "", ""];
        string[] users = ["dana@example.org", "lee@example.org", "", "kim@example.org"];
        var lines = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var outcome = outcomes[i % outcomes.Length];
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Question {i},Answer {i},{outcome},{(outcome == "edited" ? "Edited" : "")},{(outcome == "" ? "" : i % 90)},{(i % 3 == 0 ? 1 + i % 5 : "")},{start.AddMinutes(3L * i):yyyy-MM-dd'T'HH:mm:ss'Z'},{users[i % users.Length]}"));
        }
        return lines;
    }

    private static (int Imported, int AlreadyPresent) Counts(JsonElement answer) =>
        (answer.GetProperty("imported").GetInt32(), answer.GetProperty("alreadyPresent").GetInt32());

    private static async Task<JsonElement> ImportAsync(PilotageTestServer server, string slug, List<string> lines)
    {
        var answer = await ImportTestSupport.ImportAsync(server, slug, "prompt,answer,outcome,final_text,review_seconds,rating,timestamp,user", lines);
        Assert.Equal(0, answer.GetProperty("rejected").GetInt32());
        return answer;
    }
}
