using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Pilotage.Server.Tests.Reviews;

public sealed class ReviewTests(ReviewFixture f) : IClassFixture<ReviewFixture>
{
    private const string Answer = "Thank you for your message. We will refund the order within 5 days.";

    [Fact]
    public async Task An_app_review_counts_once_and_an_identical_resubmission_changes_nothing()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);

        var review = new { outcome = "accepted", seconds = 30, tags = new[] { "tone" } };
        var (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review", review);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("recorded", body.GetProperty("status").GetString());
        Assert.Equal("app", body.GetProperty("review").GetProperty("source").GetString());
        Assert.Equal("mia@example.org", body.GetProperty("review").GetProperty("reviewer").GetString());
        Assert.Equal(30, body.GetProperty("review").GetProperty("seconds").GetDouble());

        (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review", review);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("unchanged", body.GetProperty("status").GetString());

        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal(1, rollup.Reviewed);
        Assert.Equal(1, rollup.Accepted);
        Assert.Equal(30, rollup.ReviewSeconds);
        Assert.Equal((1.0, 1L), ReviewFixture.Metric(await f.MetricsAsync(system), "acceptance_rate"));

        // Done in the queue.
        await using var db = f.Db();
        Assert.Equal("done", (await db.ReviewItems.SingleAsync(i => i.InteractionId == id)).State);
    }

    [Fact]
    public async Task A_newer_review_replaces_the_old_one_in_the_rollups()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review", new { outcome = "accepted", seconds = 10 });
        var (status, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/api/v1/interactions/{id}/review",
            new { outcome = "rejected", reason = "promises a refund we do not give", seconds = 40, tags = new[] { "out_of_scope", "policy" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("replaced", body.GetProperty("status").GetString());
        Assert.Equal("reviewer", body.GetProperty("review").GetProperty("source").GetString());

        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((1L, 0L, 1L, 1L), (rollup.Reviewed, rollup.Accepted, rollup.Rejected, rollup.OutOfScope));
        Assert.Equal(40, rollup.ReviewSeconds);
        var metrics = await f.MetricsAsync(system);
        Assert.Equal((0.0, 1L), ReviewFixture.Metric(metrics, "acceptance_rate"));
        Assert.Equal((1.0, 1L), ReviewFixture.Metric(metrics, "rejection_rate"));
        Assert.Equal((1.0, 1L), ReviewFixture.Metric(metrics, "out_of_scope_rate"));
    }

    [Fact]
    public async Task Rework_is_the_normalised_edit_distance_from_the_answer_for_plain_and_streamed_answers()
    {
        var system = await f.NewSystemAsync();
        var plain = await f.ChatAsync(system);
        var streamed = await f.ChatAsync(system, stream: true);
        Assert.Equal(67, Answer.Length);

        // "5 days" → "3 days": one substitution over 67 characters.
        var (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{plain}/review",
            new { outcome = "edited", final_text = Answer.Replace("5 days", "3 days", StringComparison.Ordinal), seconds = 20, rework_seconds = 15 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1.0 / 67, body.GetProperty("review").GetProperty("rework").GetDouble(), 12);
        Assert.Equal(15, body.GetProperty("review").GetProperty("rework_seconds").GetDouble());

        // Appending " Best regards, Dana" (19 characters) to the streamed answer: 19 / 86.
        (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{streamed}/review",
            new { outcome = "edited", final_text = Answer + " Best regards, Dana", seconds = 20 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(19.0 / 86, body.GetProperty("review").GetProperty("rework").GetDouble(), 12);

        var metrics = await f.MetricsAsync(system);
        var (rework, n) = ReviewFixture.Metric(metrics, "rework");
        Assert.Equal(2, n);
        Assert.Equal((1.0 / 67 + 19.0 / 86) / 2, rework!.Value, 9);
        Assert.Equal((1.0, 2L), ReviewFixture.Metric(metrics, "edit_rate"));
    }

    [Theory]
    [InlineData("""{"outcome":"approved"}""", "accepted, edited, rejected, escalated")]
    [InlineData("""{}""", "'outcome' is required")]
    [InlineData("""{"outcome":"edited"}""", "final_text")]
    [InlineData("""{"outcome":"rejected","reason":"  "}""", "reason")]
    [InlineData("""{"outcome":"accepted","seconds":-1}""", "'seconds' must be at least 0")]
    [InlineData("""{"outcome":"accepted","seconds":86400}""", "less than 86400")]
    [InlineData("""{"outcome":"accepted","rework_seconds":1e9}""", "'rework_seconds'")]
    [InlineData("""{"outcome":"accepted","tags":["Factual Error"]}""", "lowercase words joined by underscores")]
    [InlineData("""{"outcome":"accepted","seconds":"ten"}""", "not the expected JSON")]
    [InlineData("""{"outcome":""", "not the expected JSON")]
    public async Task Invalid_reviews_are_refused_with_a_message_that_says_what_is_accepted(string json, string expected)
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await f.Member.PostAsync($"/v1/interactions/{id}/review", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(body);
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(expected, error.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(await f.RollupsAsync(system), r => r.Reviewed != 0);
    }

    [Fact]
    public async Task Free_form_lowercase_tags_are_kept_sorted_and_without_duplicates()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        var (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review",
            new { outcome = "escalated", escalated_to = "legal", tags = new[] { "wrong_language", "policy", "policy" } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["policy", "wrong_language"], body.GetProperty("review").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("legal", body.GetProperty("review").GetProperty("escalated_to").GetString());
    }

    [Fact]
    public async Task Only_the_asker_the_systems_reviewers_its_owner_and_admins_may_review()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        var accepted = new { outcome = "accepted" };

        // To someone who may not see the system, its interactions do not exist.
        var (status, body) = await ReviewFixture.PostAsync(f.Outsider, $"/v1/interactions/{id}/review", accepted);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("interaction_not_found", body.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain(system, body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);

        // A reviewer of other systems, on both surfaces.
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.PostAsync(f.OtherReviewer, $"/v1/interactions/{id}/review", accepted)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.PostAsync(f.OtherReviewer, $"/api/v1/interactions/{id}/review", accepted)).Status);
        // Auditors read, they do not review.
        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewFixture.PostAsync(f.Auditor, $"/api/v1/interactions/{id}/review", accepted)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewFixture.PostAsync(f.Auditor, $"/v1/interactions/{id}/review", accepted)).Status);
        // No key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await ReviewFixture.PostAsync(f.Harness.Server.Anonymous, $"/v1/interactions/{id}/review", accepted)).Status);

        Assert.Equal(HttpStatusCode.OK, (await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{id}/review", accepted)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ReviewFixture.PostAsync(f.Owner, $"/api/v1/interactions/{id}/review", accepted)).Status);
        Assert.Equal(HttpStatusCode.OK, (await ReviewFixture.PostAsync(f.Admin, $"/v1/interactions/{id}/review", accepted)).Status);
    }

    [Fact]
    public async Task Unknown_and_unanswered_interactions_cannot_be_reviewed()
    {
        var (status, body) = await ReviewFixture.PostAsync(f.Member, "/v1/interactions/int_nothing/review", new { outcome = "accepted" });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("interaction_not_found", body.GetProperty("error").GetProperty("code").GetString());

        // Refused: not in the pilot group (the outsider's request is refused, and recorded).
        var system = await f.NewSystemAsync();
        using var refused = await f.Outsider.PostAsJsonAsync("/v1/chat/completions", Gateway.GatewayHarness.ChatBody("hi", model: system));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var id = refused.Headers.GetValues("x-pilotage-interaction-id").Single();
        await f.Harness.InteractionAsync(id);
        (status, body) = await ReviewFixture.PostAsync(f.Admin, $"/v1/interactions/{id}/review", new { outcome = "accepted" });
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("no answer to review", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Feedback_is_one_per_person_and_a_repost_replaces_it()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        var (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/feedback", new { rating = 4, comment = "helpful" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("recorded", body.GetProperty("status").GetString());
        (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/feedback", new { rating = 2 });
        Assert.Equal("replaced", body.GetProperty("status").GetString());
        await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{id}/feedback", new { rating = 5 });

        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((2L, 7L), (rollup.FeedbackCount, rollup.FeedbackSum));
        var (mean, n) = ReviewFixture.Metric(await f.MetricsAsync(system), "feedback_mean");
        Assert.Equal((3.5, 2L), (mean, n));

        (status, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/feedback", new { rating = 6 });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("1 (poor) to 5", body.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.PostAsync(f.Outsider, $"/v1/interactions/{id}/feedback", new { rating = 3 })).Status);
    }

    [Fact]
    public async Task Task_time_is_one_per_interaction_and_a_repost_replaces_it()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        Assert.Equal(HttpStatusCode.OK, (await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/task", new { minutes = 5 })).Status);
        var (status, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{id}/task", new { minutes = 7.5 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("replaced", body.GetProperty("status").GetString());
        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((1L, 7.5), (rollup.TaskCount, rollup.TaskMinutes));

        Assert.Equal(HttpStatusCode.BadRequest, (await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/task", new { minutes = -1 })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/task", new { })).Status);
    }

    [Fact]
    public async Task Manual_work_is_recorded_queued_for_review_and_becomes_the_measured_baseline()
    {
        var system = await f.NewSystemAsync();
        var (status, body) = await ReviewFixture.PostAsync(f.Member, "/v1/manual-tasks",
            new { model = system, minutes = 12, prompt = "Where is my order?", answer = "It ships tomorrow." });
        Assert.Equal(HttpStatusCode.OK, status);
        var id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("int_", id, StringComparison.Ordinal);

        await using (var db = f.Db())
        {
            var row = await db.Interactions.SingleAsync(i => i.Id == id);
            Assert.Equal(("manual", "manual", "served"), (row.Endpoint, row.Mode, row.Outcome));
            Assert.Equal("manual", (await db.ReviewItems.SingleAsync(i => i.InteractionId == id)).Kind);
        }
        var manual = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal(("manual", 1L, 12.0), (manual.Kind, manual.TaskCount, manual.TaskMinutes));

        // Reviewed like a draft: an edit of manual work is measured against its answer.
        (status, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = "It ships today.", seconds = 5 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body.GetProperty("review").GetProperty("rework").GetDouble() > 0);

        var metrics = await f.MetricsAsync(system);
        Assert.Equal(12, metrics.GetProperty("manual").GetProperty("taskMinutes").GetDouble());

        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewFixture.PostAsync(f.Outsider, "/v1/manual-tasks", new { model = system, minutes = 3 })).Status);
        (status, body) = await ReviewFixture.PostAsync(f.Member, "/v1/manual-tasks", new { model = "no-such-system", minutes = 3 });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("model_not_found", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await ReviewFixture.PostAsync(f.Member, "/v1/manual-tasks", new { model = system })).Status);
    }

    [Fact]
    public async Task The_evidence_record_shows_review_feedback_and_task_time_to_staff()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system, "Can I return shoes?");
        await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review", new { outcome = "rejected", reason = "wrong policy", seconds = 12 });
        await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/feedback", new { rating = 2, comment = "not right" });
        await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/task", new { minutes = 4 });

        var (status, record) = await ReviewFixture.GetAsync(f.Reviewer, $"/api/v1/interactions/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(system, record.GetProperty("system").GetString());
        Assert.Equal("Can I return shoes?", record.GetProperty("prompt").GetString());
        Assert.Equal(Answer, record.GetProperty("answer").GetString());
        Assert.Equal("rejected", record.GetProperty("review").GetProperty("outcome").GetString());
        Assert.Equal("wrong policy", record.GetProperty("review").GetProperty("reason").GetString());
        Assert.Equal(2, record.GetProperty("feedback")[0].GetProperty("rating").GetInt32());
        Assert.Equal(4, record.GetProperty("task").GetProperty("minutes").GetDouble());
        Assert.Equal("done", record.GetProperty("queue").GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.OK, (await ReviewFixture.GetAsync(f.Auditor, $"/api/v1/interactions/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.GetAsync(f.OtherReviewer, $"/api/v1/interactions/{id}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewFixture.GetAsync(f.Member, $"/api/v1/interactions/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.GetAsync(f.Admin, "/api/v1/interactions/int_none")).Status);
    }
}
