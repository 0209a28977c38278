using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Pilotage.Server.Tests.Reviews;

public sealed class ReviewQueueTests(ReviewFixture f) : IClassFixture<ReviewFixture>
{
    private const string Answer = "Thank you for your message. We will refund the order within 5 days.";

    private async Task<(string Id, JsonElement Held)> HeldAsync(string system, string prompt = "Refund me")
    {
        var id = await f.ChatAsync(system, prompt, expected: HttpStatusCode.Accepted);
        var (status, held) = await ReviewFixture.GetAsync(f.Member, $"/v1/interactions/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        return (id, held);
    }

    [Fact]
    public async Task An_accepted_review_releases_a_held_answer_and_the_asker_cannot_release_their_own()
    {
        var system = await f.NewSystemAsync("approval");
        var (id, held) = await HeldAsync(system);
        Assert.Equal("pending", held.GetProperty("status").GetString());

        // Approval mode means somebody else decides.
        var (status, _) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{id}/review", new { outcome = "accepted" });
        Assert.Equal(HttpStatusCode.Forbidden, status);

        var (reviewed, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{id}/review", new { outcome = "accepted", seconds = 8 });
        Assert.Equal(HttpStatusCode.OK, reviewed);
        Assert.Equal("released", body.GetProperty("approval").GetString());
        var (_, released) = await ReviewFixture.GetAsync(f.Member, $"/v1/interactions/{id}");
        Assert.Equal(Answer, released.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());

        // The release is audited like one from the approvals endpoint.
        await using var db = f.Db();
        Assert.True(await db.AuditEntries.AnyAsync(a => a.Action == "approval.released" && a.Subject == $"interaction:{id}" && a.Actor == "rita@example.org"));
        Assert.Equal("done", (await db.ReviewItems.SingleAsync(i => i.InteractionId == id)).State);
        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((1L, 1L, 1L), (rollup.Held, rollup.Reviewed, rollup.Accepted));
    }

    [Fact]
    public async Task An_edited_review_releases_the_edited_text_and_measures_the_rework()
    {
        var system = await f.NewSystemAsync("approval");
        var (id, _) = await HeldAsync(system);
        var edited = Answer.Replace("5 days", "3 days", StringComparison.Ordinal);
        var (status, body) = await ReviewFixture.PostAsync(f.Owner, $"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = edited });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1.0 / 67, body.GetProperty("review").GetProperty("rework").GetDouble(), 12);
        Assert.Equal("released", body.GetProperty("approval").GetString());

        using var response = await f.Member.GetAsync($"/v1/interactions/{id}");
        Assert.Equal("released", response.Headers.GetValues("x-pilotage-status").Single());
        using var completion = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(edited, completion.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("chat.completion", completion.RootElement.GetProperty("object").GetString());

        // The record keeps the AI's own answer; the review holds the edit.
        var (_, record) = await ReviewFixture.GetAsync(f.Admin, $"/api/v1/interactions/{id}");
        Assert.Equal(Answer, record.GetProperty("answer").GetString());
        Assert.Equal(edited, record.GetProperty("review").GetProperty("finalText").GetString());
    }

    [Fact]
    public async Task A_rejected_review_discards_the_held_answer_and_an_escalated_one_keeps_it_waiting()
    {
        var system = await f.NewSystemAsync("approval");
        var (rejectedId, _) = await HeldAsync(system);
        var (status, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{rejectedId}/review", new { outcome = "rejected", reason = "wrong amount" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("rejected", body.GetProperty("approval").GetString());
        var (_, fetched) = await ReviewFixture.GetAsync(f.Member, $"/v1/interactions/{rejectedId}");
        Assert.Equal("rejected", fetched.GetProperty("status").GetString());
        Assert.Equal("wrong amount", fetched.GetProperty("reason").GetString());

        var (escalatedId, _) = await HeldAsync(system);
        (status, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/v1/interactions/{escalatedId}/review", new { outcome = "escalated", escalated_to = "owner@example.org" });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pending", body.GetProperty("approval").GetString());
        var (_, queue) = await ReviewFixture.GetAsync(f.Owner, $"/api/v1/reviews?system={system}");
        var item = Assert.Single(queue.EnumerateArray());
        Assert.Equal(escalatedId, item.GetProperty("interactionId").GetString());
        Assert.True(item.GetProperty("held").GetBoolean());

        // The owner it went to decides; the escalation is replaced by the acceptance.
        (status, body) = await ReviewFixture.PostAsync(f.Owner, $"/api/v1/interactions/{escalatedId}/review", new { outcome = "accepted" });
        Assert.Equal("replaced", body.GetProperty("status").GetString());
        Assert.Equal("released", body.GetProperty("approval").GetString());
        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((2L, 1L, 1L, 0L), (rollup.Reviewed, rollup.Accepted, rollup.Rejected, rollup.Escalated));
    }

    [Fact]
    public async Task The_approvals_endpoints_still_decide_and_record_the_decision_as_a_review()
    {
        var system = await f.NewSystemAsync("approval");
        var (released, _) = await HeldAsync(system);
        var (rejected, _) = await HeldAsync(system);
        using (var response = await f.Reviewer.PostAsJsonAsync($"/api/v1/approvals/{released}/release", new { reason = "fine" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await f.Reviewer.PostAsJsonAsync($"/api/v1/approvals/{rejected}/reject", new { }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        using (var response = await f.Reviewer.PostAsJsonAsync($"/api/v1/approvals/{rejected}/reject", new { reason = "no" }))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await f.Reviewer.PostAsJsonAsync($"/api/v1/approvals/{rejected}/release", new { }))
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        }
        var (_, record) = await ReviewFixture.GetAsync(f.Admin, $"/api/v1/interactions/{released}");
        Assert.Equal("accepted", record.GetProperty("review").GetProperty("outcome").GetString());
        Assert.Equal("released", record.GetProperty("approval").GetProperty("state").GetString());
        var rollup = Assert.Single(await f.RollupsAsync(system));
        Assert.Equal((2L, 1L, 1L), (rollup.Reviewed, rollup.Accepted, rollup.Rejected));
    }

    [Fact]
    public async Task The_queue_lists_pending_items_oldest_first_for_the_systems_one_reviews()
    {
        var system = await f.NewSystemAsync();
        var first = await f.ChatAsync(system, "first question");
        var second = await f.ChatAsync(system, "second question");
        var third = await f.ChatAsync(system, "third question");
        await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{second}/review", new { outcome = "accepted" });

        var (status, queue) = await ReviewFixture.GetAsync(f.Reviewer, $"/api/v1/reviews?system={system}");
        Assert.Equal(HttpStatusCode.OK, status);
        var items = queue.EnumerateArray().ToList();
        Assert.Equal([first, third], items.Select(i => i.GetProperty("interactionId").GetString()));
        Assert.Equal("first question", items[0].GetProperty("prompt").GetString());
        Assert.Equal(Answer, items[0].GetProperty("answer").GetString());
        Assert.Equal("draft", items[0].GetProperty("kind").GetString());
        Assert.False(items[0].GetProperty("held").GetBoolean());
        Assert.True(items[0].GetProperty("ageSeconds").GetDouble() >= 0);
        Assert.Single((await ReviewFixture.GetAsync(f.Reviewer, $"/api/v1/reviews?system={system}&limit=1")).Body.EnumerateArray());

        // Without a filter a reviewer sees the systems they review; a reviewer of others sees none of these.
        var (_, mine) = await ReviewFixture.GetAsync(f.Reviewer, "/api/v1/reviews?limit=500");
        Assert.Contains(mine.EnumerateArray(), i => i.GetProperty("interactionId").GetString() == first);
        var (_, theirs) = await ReviewFixture.GetAsync(f.OtherReviewer, "/api/v1/reviews");
        Assert.DoesNotContain(theirs.EnumerateArray(), i => i.GetProperty("system").GetString() == system);
        // Naming a system one does not review: it does not exist for them.
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.GetAsync(f.OtherReviewer, $"/api/v1/reviews?system={system}")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await ReviewFixture.GetAsync(f.Auditor, "/api/v1/reviews")).Status);
    }

    [Fact]
    public async Task Opening_an_item_starts_the_clock_the_first_open_wins_and_a_review_without_seconds_is_timed()
    {
        var system = await f.NewSystemAsync();
        var id = await f.ChatAsync(system);
        var (status, opened) = await ReviewFixture.PostAsync(f.Reviewer, $"/api/v1/reviews/{id}/open", new { });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("rita@example.org", opened.GetProperty("openedBy").GetString());
        var openedAt = opened.GetProperty("openedAt").GetDateTimeOffset();

        var (_, again) = await ReviewFixture.PostAsync(f.Owner, $"/api/v1/reviews/{id}/open", new { });
        Assert.Equal("rita@example.org", again.GetProperty("openedBy").GetString());
        Assert.Equal(openedAt, again.GetProperty("openedAt").GetDateTimeOffset());
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.PostAsync(f.OtherReviewer, $"/api/v1/reviews/{id}/open", new { })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ReviewFixture.PostAsync(f.Reviewer, "/api/v1/reviews/int_none/open", new { })).Status);

        // 95 seconds pass on the server's clock between opening and reviewing.
        f.Harness.Time.Offset += TimeSpan.FromSeconds(95);
        var (_, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/api/v1/interactions/{id}/review", new { outcome = "accepted" });
        Assert.InRange(body.GetProperty("review").GetProperty("seconds").GetDouble(), 95, 125);

        // A correction without seconds keeps the time already recorded.
        var seconds = body.GetProperty("review").GetProperty("seconds").GetDouble();
        (_, body) = await ReviewFixture.PostAsync(f.Reviewer, $"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = "Sure." });
        Assert.Equal(seconds, body.GetProperty("review").GetProperty("seconds").GetDouble());

        // Never opened and no seconds given: no time is made up.
        var unopened = await f.ChatAsync(system);
        (_, body) = await ReviewFixture.PostAsync(f.Member, $"/v1/interactions/{unopened}/review", new { outcome = "accepted" });
        Assert.Equal(0, body.GetProperty("review").GetProperty("seconds").GetDouble());
    }
}
