using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Testing;

using static Pilotage.Server.Tests.Import.ImportTestSupport;

namespace Pilotage.Server.Tests.Import;

/// <summary>
/// An import larger than one slice (written as the file is read, slices side by side on PostgreSQL): refused rows at
/// slice boundaries are still named by their line, the roll-ups are exactly a recount of the rows stored, the metrics
/// are those of the same rows imported in small files, and posting the file again adds nothing.
/// </summary>
public sealed class ImportSlicesTests
{
    private const int Rows = 25_000;

    // Data rows 10,001 and 20,002 (lines 10,002 and 20,003): the first rows after the first two slices of valid rows.
    private const int FirstBad = 10_000;
    private const int SecondBad = 20_001;

    [Fact]
    public async Task On_SQLite_a_file_of_several_slices_lands_whole_and_its_rollups_match_the_rows()
    {
        await using var server = await PilotageTestServer.StartAsync();
        await RunAsync(server);

        // The slices commit without waiting for the disk; the audit entry's commit, in the default FULL mode, makes
        // them durable. That mode is what every other connection has, the import's included once it is done.
        await using var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        await db.Database.OpenConnectionAsync();
        await using var pragma = db.Database.GetDbConnection().CreateCommand();
        pragma.CommandText = "PRAGMA synchronous";
        Assert.Equal(2L, await pragma.ExecuteScalarAsync());
        pragma.CommandText = "PRAGMA cache_size";
        Assert.Equal(-2000L, await pragma.ExecuteScalarAsync());
    }

    [PostgresFact]
    public async Task On_PostgreSQL_a_file_of_several_slices_written_side_by_side_lands_whole_and_its_rollups_match_the_rows()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var server = await PilotageTestServer.StartAsync(database.ConnectionString);
        await RunAsync(server);
    }

    private static async Task RunAsync(PilotageTestServer server)
    {
        await server.CreateUserWithKeyAsync("dana@example.org", "member");
        await server.CreateUserWithKeyAsync("sam@example.org", "member");
        await SystemAsync(server, "sliced");
        await SystemAsync(server, "small-files");
        var (header, lines) = File();

        var first = await ImportAsync(server, "sliced", header, lines);
        Assert.Equal(Rows, first.GetProperty("rows").GetInt32());
        // Two rows refused, one row repeated (the last row is the first one again).
        Assert.Equal((Rows - 3, 1, 2), (first.GetProperty("imported").GetInt32(), first.GetProperty("alreadyPresent").GetInt32(), first.GetProperty("rejected").GetInt32()));
        var errors = first.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("row").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(FirstBad + 2, "timestamp"), (SecondBad + 2, "rating")], errors);

        await using (var db = server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext())
        {
            Assert.Equal(Rows - 3, await db.Interactions.CountAsync(i => i.System == "sliced"));
            var rollups = await db.Rollups.Where(r => r.System == "sliced").ToListAsync();
            var reviews = await db.Reviews.Where(r => r.System == "sliced").Select(r => new { r.Outcome, r.Seconds }).ToListAsync();
            var ratings = await db.Feedback.Where(f => f.System == "sliced").Select(f => f.Rating).ToListAsync();
            Assert.Equal(Rows - 3, rollups.Sum(r => r.Requests));
            Assert.Equal(reviews.Count, rollups.Sum(r => r.Reviewed));
            Assert.Equal(reviews.Count(r => r.Outcome == "accepted"), rollups.Sum(r => r.Accepted));
            Assert.Equal(reviews.Count(r => r.Outcome == "edited"), rollups.Sum(r => r.Edited));
            Assert.Equal(reviews.Sum(r => r.Seconds), rollups.Sum(r => r.ReviewSeconds), 6);
            Assert.Equal(ratings.Count, rollups.Sum(r => r.FeedbackCount));
            Assert.Equal(ratings.Sum(), rollups.Sum(r => r.FeedbackSum));
            var people = await db.Interactions.Where(i => i.System == "sliced" && i.UserId != 0).Select(i => new { i.CreatedAt, i.UserId }).ToListAsync();
            var active = await db.ActiveUsers.CountAsync(a => a.System == "sliced");
            Assert.Equal(people.Select(p => (p.CreatedAt.ToUnixTimeSeconds() / 86400, p.UserId)).Distinct().Count(), active);
        }

        // The same rows in files smaller than a slice: the same figures.
        for (var start = 0; start < lines.Count; start += 997)
        {
            await ImportAsync(server, "small-files", header, lines.Skip(start).Take(997).ToList());
        }
        var sliced = await MetricsAsync(server, "sliced");
        Assert.Equal(await MetricsAsync(server, "small-files"), sliced);

        var again = await ImportAsync(server, "sliced", header, lines);
        Assert.Equal((0, Rows - 2, 2), (again.GetProperty("imported").GetInt32(), again.GetProperty("alreadyPresent").GetInt32(), again.GetProperty("rejected").GetInt32()));
        Assert.Equal(sliced, await MetricsAsync(server, "sliced"));
    }

    /// <summary>Rows over 40 days in an order that visits every hour again in each slice, so concurrent slices share roll-up rows.</summary>
    private static (string Header, List<string> Lines) File()
    {
        var start = new DateTimeOffset(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
        string[] outcomes = ["accepted", "accepted", "edited", "rejected", "escalated", "", ""];
        string[] users = ["dana@example.org", "sam@example.org", "lee@example.org", ""];
        var lines = new List<string>(Rows);
        for (var i = 0; i < Rows - 1; i++)
        {
            var at = start.AddHours(i * 7919L % (40 * 24)).AddSeconds(i % 3600);
            var outcome = outcomes[i % outcomes.Length];
            var time = i == FirstBad ? "05/01/2026" : at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var rating = i == SecondBad ? "7" : i % 3 == 0 ? (1 + i % 5).ToString(CultureInfo.InvariantCulture) : "";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Question {i},\"Answer {i}, with a comma\",{outcome},{(outcome == "edited" ? "Edited answer" : "")},{(outcome == "" ? "" : i % 90)},{rating},{time},{users[i % users.Length]}"));
        }
        lines.Add(lines[0]);
        return ("prompt,answer,outcome,final_text,review_seconds,rating,timestamp,user", lines);
    }
}
