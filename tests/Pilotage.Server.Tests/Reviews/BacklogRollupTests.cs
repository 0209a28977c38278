using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Reviews;

/// <summary>
/// The review backlog is kept as a count per system (review_backlog, maintained by the store in the
/// transaction that enqueues, settles, reopens, moves or deletes a queue item) instead of counting the
/// queue. Random streams of queue changes through the API and through plain SQL must leave the count
/// equal to a direct scan of the queue, and the metrics' backlog figures equal to those the scan gives.
/// </summary>
public sealed class BacklogRollupTests
{
    private static readonly string[] Outcomes = ["accepted", "edited", "rejected", "escalated"];

    [Fact]
    public async Task Backlog_rollup_equals_a_scan_of_the_queue_for_random_streams()
    {
        await using var harness = await GatewayHarness.StartAsync();
        await RunAsync(harness, Enumerable.Range(1, 12), eventsPerSeed: 30);
    }

    [PostgresFact]
    public async Task Backlog_rollup_equals_a_scan_of_the_queue_on_PostgreSQL()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        await RunAsync(harness, Enumerable.Range(50, 6), eventsPerSeed: 30);
    }

    [Fact]
    public async Task Cases_an_evaluation_sends_to_a_person_count_once_in_the_backlog()
    {
        await using var harness = await GatewayHarness.StartAsync();
        await EvaluationCasesAsync(harness);
    }

    [PostgresFact]
    public async Task Cases_an_evaluation_sends_to_a_person_count_once_in_the_backlog_on_PostgreSQL()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        await EvaluationCasesAsync(harness);
    }

    // Evaluation results enqueue outside the evidence writer: the count must move with them, in their transaction,
    // and a result posted again (same case) must not count its item twice.
    private static async Task EvaluationCasesAsync(GatewayHarness harness)
    {
        using var started = await harness.Owner.PostAsJsonAsync($"/api/v1/systems/{GatewayHarness.System}/evals", new { testSet = "cases", testSetHash = "abc", cases = 2 });
        Assert.True(started.StatusCode == HttpStatusCode.Created, await started.Content.ReadAsStringAsync());
        var run = (await started.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetInt64();
        var interactions = new List<string>();
        foreach (var name in new[] { "c1", "c2" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("Where is my order?")) };
            request.Headers.Add("x-pilotage-eval", $"run={run};case={name};category=normal");
            using var response = await harness.Owner.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            interactions.Add(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        }
        foreach (var id in interactions) await harness.InteractionAsync(id);
        var results = new
        {
            results = new[]
            {
                new { caseId = "c1", category = "normal", verdict = "needs_human", interactionId = interactions[0] },
                new { caseId = "c2", category = "normal", verdict = "pass", interactionId = interactions[1] },
            },
        };
        for (var post = 0; post < 2; post++)
        {
            using var posted = await harness.Owner.PostAsJsonAsync($"/api/v1/evals/{run}/results", results);
            Assert.True(posted.StatusCode == HttpStatusCode.OK, await posted.Content.ReadAsStringAsync());
        }
        await using var db = Db(harness);
        var item = Assert.Single(await db.ReviewItems.AsNoTracking().Where(i => i.System == GatewayHarness.System).ToListAsync());
        Assert.Equal((interactions[0], "eval", "pending"), (item.InteractionId, item.Kind, item.State));
        Assert.Equal(1, (await db.ReviewBacklog.AsNoTracking().SingleAsync(b => b.System == GatewayHarness.System)).Pending);
        await AssertBacklogMatchesScanAsync(harness, seed: 0);
    }

    private static async Task RunAsync(GatewayHarness harness, IEnumerable<int> seeds, int eventsPerSeed)
    {
        var reviewer = harness.Server.ClientFor(await harness.Server.CreateKeyAsync("rita@example.org"));
        var ids = new List<string>();
        foreach (var seed in seeds)
        {
            var random = new Random(seed);
            harness.Time.Offset += TimeSpan.FromMinutes(30 + random.Next(0, 90));
            for (var e = 0; e < eventsPerSeed; e++)
            {
                var roll = random.NextDouble();
                if (ids.Count == 0 || roll < 0.35)
                {
                    ids.Add(await ChatAsync(harness));
                }
                else if (roll < 0.42)
                {
                    var (status, body) = await ReviewFixture.PostAsync(harness.Member, "/v1/manual-tasks",
                        new { model = GatewayHarness.System, minutes = 3.5, prompt = "manual question", answer = "manual answer" });
                    Assert.True(status == HttpStatusCode.OK, body.ToString());
                    ids.Add(body.GetProperty("id").GetString()!);
                }
                else if (roll < 0.72)
                {
                    var id = ids[random.Next(ids.Count)];
                    var outcome = Outcomes[random.Next(Outcomes.Length)];
                    var (status, body) = await ReviewFixture.PostAsync(reviewer, $"/v1/interactions/{id}/review",
                        new { outcome, final_text = outcome == "edited" ? "Edited." : null, reason = "r", escalated_to = outcome == "escalated" ? "legal" : null });
                    Assert.True(status == HttpStatusCode.OK, body.ToString());
                }
                else if (roll < 0.84)
                {
                    // Reopened by hand (as an operator would, or the ingest bench's backlog probe).
                    await SqlAsync(harness, $"UPDATE review_items SET state = 'pending', done_at = NULL WHERE interaction_id = '{ids[random.Next(ids.Count)]}'");
                }
                else if (roll < 0.90)
                {
                    // Moved to another system, pending or not: the count follows it.
                    await SqlAsync(harness, $"UPDATE review_items SET system = 'other-{random.Next(2)}' WHERE interaction_id = '{ids[random.Next(ids.Count)]}'");
                }
                else if (roll < 0.95)
                {
                    await SqlAsync(harness, $"UPDATE review_items SET opened_at = done_at WHERE interaction_id = '{ids[random.Next(ids.Count)]}'");
                }
                else
                {
                    var id = ids[random.Next(ids.Count)];
                    await SqlAsync(harness, $"DELETE FROM review_items WHERE interaction_id = '{id}'");
                    ids.Remove(id);
                }
            }
            await AssertBacklogMatchesScanAsync(harness, seed);
        }
    }

    private static async Task AssertBacklogMatchesScanAsync(GatewayHarness harness, int seed)
    {
        await using var db = Db(harness);
        var scanned = (await db.ReviewItems.AsNoTracking().Where(i => i.State == "pending").ToListAsync())
            .GroupBy(i => i.System).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var kept = (await db.ReviewBacklog.AsNoTracking().ToListAsync()).Where(b => b.Pending != 0).ToDictionary(b => b.System, b => b.Pending, StringComparer.Ordinal);
        Assert.True(scanned.Count > 0 || kept.Count == 0, $"seed {seed}: nothing pending but the roll-up holds {string.Join(", ", kept)}");
        Assert.Equal(scanned.OrderBy(p => p.Key, StringComparer.Ordinal), kept.OrderBy(p => p.Key, StringComparer.Ordinal));

        // The figures the metrics show, against the scan: the count, and the age of the oldest item (smallest id).
        var view = await harness.Server.App.Services.GetRequiredService<SystemMetrics>().ComputeAsync(GatewayHarness.System, new MetricFilter(), CancellationToken.None);
        var pending = await db.ReviewItems.AsNoTracking().Where(i => i.System == GatewayHarness.System && i.State == "pending").ToListAsync();
        var oldest = pending.OrderBy(i => i.InteractionId, StringComparer.Ordinal).FirstOrDefault();
        var hours = oldest is null ? 0 : Math.Max(0, (view.ComputedAt - oldest.EnqueuedAt).TotalHours);
        Assert.Equal(pending.Count, view.Metrics["review_backlog"].Value);
        Assert.Equal(hours, view.Metrics["review_backlog_hours"].Value);
        Assert.Equal(pending.Count, view.Metrics["review_backlog_hours"].N);
    }

    private static async Task<string> ChatAsync(GatewayHarness harness)
    {
        using var response = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    private static async Task SqlAsync(GatewayHarness harness, string sql)
    {
        await using var db = Db(harness);
#pragma warning disable EF1002 // ids come from the server's own answers
        await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
    }

    private static PilotageDbContext Db(GatewayHarness harness) =>
        harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
}
