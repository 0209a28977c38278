using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Core.Evidence;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Reviews;

/// <summary>
/// Roll-ups are maintained incrementally (each review, feedback and task time adds its own change,
/// replacements retract the old one); reports trust them instead of the raw rows. This checks, on a
/// real server, that random evidence streams — replacements, exact duplicates, reviews of old
/// interactions after newer ones, several hours — leave the roll-ups equal to a full recomputation
/// from the raw tables, and the metrics equal to a count kept by the test itself.
/// </summary>
public sealed class RollupPropertyTests
{
    private static readonly string[] Outcomes = ["accepted", "edited", "rejected", "escalated"];
    private static readonly string[] Tags = ["out_of_scope", "factual_error", "policy", "tone"];

    [Fact]
    public async Task Rollups_equal_a_recomputation_from_the_raw_tables_for_random_evidence_streams()
    {
        await using var harness = await GatewayHarness.StartAsync();
        await RunAsync(harness, Enumerable.Range(1, 30), eventsPerSeed: 40);
    }

    [PostgresFact]
    public async Task Rollups_equal_a_recomputation_on_PostgreSQL()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        await RunAsync(harness, Enumerable.Range(100, 8), eventsPerSeed: 40);
    }

    [Fact]
    public async Task Concurrent_reviews_of_one_interaction_leave_exactly_one_review_in_the_rollups()
    {
        await using var harness = await GatewayHarness.StartAsync();
        await ConcurrentReviewsAsync(harness);
    }

    [PostgresFact]
    public async Task Concurrent_reviews_of_one_interaction_are_serialised_on_PostgreSQL()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        await using var harness = await GatewayHarness.StartAsync(database: database.ConnectionString);
        await ConcurrentReviewsAsync(harness);
    }

    private static async Task ConcurrentReviewsAsync(GatewayHarness harness)
    {
        var reviewer = harness.Server.ClientFor(await harness.Server.CreateKeyAsync("rita@example.org"));
        var id = await ChatAsync(harness, stream: false);
        var submissions = Enumerable.Range(0, 12).Select(i => (i % 2 == 0 ? harness.Member : reviewer).PostAsJsonAsync(
            $"/v1/interactions/{id}/review", new { outcome = Outcomes[i % 4], final_text = $"text {i}", reason = "r", seconds = i }));
        foreach (var response in await Task.WhenAll(submissions))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }
        await AssertRollupsMatchAsync(harness);
        var rollup = Assert.Single(await RollupsAsync(harness));
        Assert.Equal(1, rollup.Reviewed);
        Assert.Equal(1, rollup.Accepted + rollup.Edited + rollup.Rejected + rollup.Escalated);
    }

    private sealed record Tracked(string Id, bool Manual)
    {
        public string? Outcome { get; set; }
        public object? LastReview { get; set; }
        public HttpClient? LastReviewer { get; set; }
        public string? LastPath { get; set; }
    }

    private static async Task RunAsync(GatewayHarness harness, IEnumerable<int> seeds, int eventsPerSeed)
    {
        var server = harness.Server;
        var reviewer = server.ClientFor(await server.CreateKeyAsync("rita@example.org"));
        HttpClient[] people = [harness.Member, reviewer, harness.Owner];
        var tracked = new List<Tracked>();

        foreach (var seed in seeds)
        {
            var random = new Random(seed);
            // Each seed's evidence lands in a later hour: several roll-up keys, and reviews of
            // interactions from earlier hours must still adjust those hours' rows.
            harness.Time.Offset += TimeSpan.FromMinutes(60 + random.Next(0, 30));
            for (var e = 0; e < eventsPerSeed; e++)
            {
                var roll = random.NextDouble();
                if (tracked.Count == 0 || roll < 0.22)
                {
                    tracked.Add(new Tracked(await ChatAsync(harness, stream: random.Next(3) == 0), Manual: false));
                }
                else if (roll < 0.27)
                {
                    var minutes = Math.Round(random.NextDouble() * 20, 2);
                    var (status, body) = await ReviewFixture.PostAsync(harness.Member, "/v1/manual-tasks",
                        new { model = GatewayHarness.System, minutes, prompt = "manual question", answer = "manual answer" });
                    Assert.True(status == HttpStatusCode.OK, body.ToString());
                    tracked.Add(new Tracked(body.GetProperty("id").GetString()!, Manual: true));
                }
                else if (roll < 0.65)
                {
                    await ReviewAsync(random, tracked[random.Next(tracked.Count)], people);
                }
                else if (roll < 0.85)
                {
                    var target = tracked[random.Next(tracked.Count)];
                    var (status, body) = await ReviewFixture.PostAsync(people[random.Next(people.Length)], $"/v1/interactions/{target.Id}/feedback",
                        new { rating = random.Next(1, 6), comment = random.Next(2) == 0 ? null : "c" });
                    Assert.True(status == HttpStatusCode.OK, body.ToString());
                }
                else
                {
                    var target = tracked[random.Next(tracked.Count)];
                    var (status, body) = await ReviewFixture.PostAsync(people[random.Next(people.Length)], $"/v1/interactions/{target.Id}/task",
                        new { minutes = random.Next(4) == 0 ? 5.0 : Math.Round(random.NextDouble() * 30, 3) });
                    Assert.True(status == HttpStatusCode.OK, body.ToString());
                }
            }
            await AssertRollupsMatchAsync(harness);
            await AssertMetricsMatchAsync(harness, tracked, seed);
        }
    }

    private static async Task ReviewAsync(Random random, Tracked target, HttpClient[] people)
    {
        object review;
        HttpClient client;
        string path;
        string outcome;
        if (target.LastReview is not null && random.Next(5) == 0)
        {
            // An exact duplicate (an app retrying): must change nothing.
            (review, client, path, outcome) = (target.LastReview, target.LastReviewer!, target.LastPath!, target.Outcome!);
        }
        else
        {
            outcome = Outcomes[random.Next(Outcomes.Length)];
            var index = random.Next(people.Length);
            client = people[index];
            var app = index < 2;
            path = app ? $"/v1/interactions/{target.Id}/review" : $"/api/v1/interactions/{target.Id}/review";
            double? seconds = random.Next(4) == 0 ? null : Math.Round(random.NextDouble() * 600, 3);
            double? reworkSeconds = random.Next(2) == 0 ? null : Math.Round(random.NextDouble() * 120, 3);
            var tags = Tags.Where(_ => random.Next(3) == 0).ToArray();
            var finalText = outcome == "edited" ? $"Edited answer {random.Next(1000)}." : null;
            var reason = outcome == "rejected" || random.Next(3) == 0 ? "because" : null;
            review = app
                ? new { outcome, final_text = finalText, seconds, rework_seconds = reworkSeconds, reason, tags, escalated_to = outcome == "escalated" ? "legal" : null }
                : new { outcome, finalText, seconds, reworkSeconds, reason, tags, escalatedTo = outcome == "escalated" ? "legal" : null };
        }
        var (status, body) = await ReviewFixture.PostAsync(client, path, review);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        if (ReferenceEquals(review, target.LastReview)) Assert.Equal("unchanged", body.GetProperty("status").GetString());
        (target.Outcome, target.LastReview, target.LastReviewer, target.LastPath) = (outcome, review, client, path);
    }

    private static async Task<string> ChatAsync(GatewayHarness harness, bool stream)
    {
        using var response = await harness.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my order?", stream));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        _ = await response.Content.ReadAsStringAsync();
        return response.Headers.GetValues("x-pilotage-interaction-id").Single();
    }

    private static async Task<List<RollupRow>> RollupsAsync(GatewayHarness harness)
    {
        await using var db = Db(harness);
        return await db.Rollups.AsNoTracking().ToListAsync();
    }

    private static PilotageDbContext Db(GatewayHarness harness) =>
        harness.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();

    /// <summary>Every roll-up row equals the sum of what its raw rows contribute, recomputed from scratch.</summary>
    private static async Task AssertRollupsMatchAsync(GatewayHarness harness)
    {
        await using var db = Db(harness);
        var interactions = await db.Interactions.AsNoTracking().ToDictionaryAsync(i => i.Id);
        var expected = new Dictionary<RollupKey, EvidenceTotals>();
        void Add(InteractionRow row, EvidenceTotals totals)
        {
            var key = RollupKey.Of(row);
            if (!expected.TryGetValue(key, out var sum)) expected[key] = sum = new EvidenceTotals();
            sum.Add(totals);
        }
        foreach (var row in interactions.Values)
        {
            Add(row, EvidenceTotals.ForInteraction(row.Outcome, row.RefusalCode, row.DetectorHits?.Contains("\"redact\"", StringComparison.Ordinal) == true,
                row.TokensIn, row.TokensOut, row.Cost, row.TotalMs));
        }
        foreach (var review in await db.Reviews.AsNoTracking().ToListAsync())
        {
            var outcome = Enum.Parse<ReviewOutcome>(review.Outcome, ignoreCase: true);
            var tags = review.Tags is null ? [] : JsonSerializer.Deserialize<string[]>(review.Tags)!;
            Add(interactions[review.InteractionId], EvidenceTotals.ForReview(outcome, review.Seconds, review.Rework, review.ReworkSeconds, tags.Contains("out_of_scope")));
        }
        foreach (var feedback in await db.Feedback.AsNoTracking().ToListAsync())
        {
            Add(interactions[feedback.InteractionId], EvidenceTotals.ForFeedback(feedback.Rating));
        }
        foreach (var task in await db.TaskTimes.AsNoTracking().ToListAsync())
        {
            Add(interactions[task.InteractionId], EvidenceTotals.ForTask(task.Minutes));
        }

        var actual = (await db.Rollups.AsNoTracking().ToListAsync())
            .ToDictionary(r => new RollupKey(r.System, r.Phase, r.Stage, r.ConfigVersion, r.Hour, r.Kind), RollupWriter.ToTotals);
        Assert.Equal(expected.Keys.OrderBy(k => k.ToString()), actual.Keys.OrderBy(k => k.ToString()));
        foreach (var (key, totals) in expected)
        {
            Assert.True(totals.Equals(actual[key]), $"{key}: recomputed {Describe(totals)} but the roll-up holds {Describe(actual[key])}");
        }
    }

    private static string Describe(EvidenceTotals t) => string.Create(CultureInfo.InvariantCulture,
        $"{t} review_s={t.ReviewSeconds} rework={t.ReworkSum} rework_s={t.ReworkSeconds} feedback_sum={t.FeedbackSum} task_min={t.TaskMinutes}");

    /// <summary>acceptance_rate over AI answers (manual work is a kind of its own), counted by the test from what it sent.</summary>
    private static async Task AssertMetricsMatchAsync(GatewayHarness harness, List<Tracked> tracked, int seed)
    {
        var reviewed = tracked.Where(t => !t.Manual && t.Outcome is not null).ToList();
        var accepted = reviewed.Count(t => t.Outcome == "accepted");
        var (status, metrics) = await ReviewFixture.GetAsync(harness.Server.Admin, $"/api/v1/systems/{GatewayHarness.System}/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        var (value, n) = ReviewFixture.Metric(metrics, "acceptance_rate");
        Assert.True(n == reviewed.Count, $"seed {seed}: acceptance_rate n = {n}, counted {reviewed.Count}");
        if (n > 0) Assert.Equal((double)accepted / reviewed.Count, value!.Value, 12);
        var (edit, _) = ReviewFixture.Metric(metrics, "edit_rate");
        if (n > 0) Assert.Equal((double)reviewed.Count(t => t.Outcome == "edited") / reviewed.Count, edit!.Value, 12);
    }
}
