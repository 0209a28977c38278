using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

public sealed class BoundaryBudgetTests
{
    private static readonly DataBoundaryPolicy Evil = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["evil", "email"],
        Detectors = [new CustomDetectorSpec { Name = "evil", Pattern = "(a+)+$" }],
    });

    private static readonly DataBoundaryPolicy Ticket = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["ticket"],
        Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "T-[0-9]{4}" }],
    });

    [Fact]
    public void Many_texts_that_each_run_a_pattern_to_its_timeout_use_up_the_budget_and_are_refused_naming_the_detector()
    {
        var messages = new JsonArray(Enumerable.Range(0, 50).Select(_ => (JsonNode)new JsonObject { ["role"] = "user", ["content"] = new string('a', 5_000) + "!" }).ToArray());
        var request = new JsonObject { ["model"] = "m", ["messages"] = messages };

        var result = RequestScrubber.ScrubChatCompletion(request, Evil, new BoundaryBudget(TimeSpan.FromMilliseconds(250)));

        Assert.Equal("evil", result.BudgetExceededBy);
        Assert.True(result.Blocked);
        Assert.Contains("evil", result.BlockedBy);
        Assert.Contains("budget exceeded in 'evil'", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_budget_a_timed_out_pattern_still_fails_closed_per_text()
    {
        var result = RequestScrubber.ScrubEmbeddings(new JsonObject { ["input"] = new string('a', 5_000) + "!" }, Evil);

        Assert.Null(result.BudgetExceededBy);
        Assert.Equal(["evil"], result.BlockedBy);
    }

    [Fact]
    public void Within_the_budget_every_match_is_found_as_without_one()
    {
        var text = string.Join(" and ", Enumerable.Range(1000, 500).Select(n => $"T-{n}"));
        var budgeted = Ticket.Apply(text, new BoundaryBudget(TimeSpan.FromSeconds(30)));
        var unbudgeted = Ticket.Apply(text);

        Assert.Equal(500, budgeted.Counts.Single().Count);
        Assert.Equal(unbudgeted.Text, budgeted.Text);
        Assert.Equal(unbudgeted.Hits, budgeted.Hits);
    }

    [Fact]
    public void The_last_stretch_of_a_budget_runs_with_what_is_left_and_a_spent_budget_refuses_the_next_text_at_once()
    {
        var budget = new BoundaryBudget(TimeSpan.FromMilliseconds(150));
        var slow = new string('a', 5_000) + "!";
        // More than the per-match timeout (100 ms) is left: the text runs to that timeout and fails closed on its own.
        Assert.Equal(["evil"], Evil.Apply(slow, budget).BlockedBy);
        // About 50 ms are left: the next text is cut off there, as the budget, not the per-match timeout.
        Assert.Equal("evil", Assert.Throws<BoundaryBudgetExceededException>(() => Evil.Apply(slow, budget)).Detector);

        var exceeded = Assert.Throws<BoundaryBudgetExceededException>(() => Ticket.Apply("T-1234", budget));
        Assert.Equal("ticket", exceeded.Detector);
        Assert.DoesNotContain("T-1234", exceeded.Message, StringComparison.Ordinal);

        // Built-in detectors are linear and not charged: they still run on a spent budget.
        var builtIn = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["email"] });
        Assert.False(builtIn.HasCustomDetectors);
        Assert.True(Evil.HasCustomDetectors);
        Assert.Contains("[REDACTED:email]", builtIn.Apply("mail lee@example.com", budget).Text, StringComparison.Ordinal);
    }
}
