using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The request budget of timed custom patterns (those the linear engine cannot run). Every assertion holds whatever
/// the machine's speed: the catastrophic pattern is exponential in its input, so it reaches every timeout and budget
/// it is given, and nothing asserts how long anything took.
/// </summary>
public sealed class BoundaryBudgetTests
{
    /// <summary>Exponential on "aaaa…!" and, for its look-ahead, run by the backtracking engine.</summary>
    private const string Catastrophic = "(a+)+(?=b)";

    private static readonly DataBoundaryPolicy Evil = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["evil", "email"],
        Detectors = [new CustomDetectorSpec { Name = "evil", Pattern = Catastrophic }],
    });

    /// <summary>A sound pattern that still needs the backtracking engine (a look-ahead), so it is charged to the budget.</summary>
    private static readonly DataBoundaryPolicy Ticket = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["ticket"],
        Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "T-[0-9]{4}(?![0-9])" }],
    });

    /// <summary>The same without the look-ahead: linear, never charged.</summary>
    private static readonly DataBoundaryPolicy LinearTicket = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = ["ticket"],
        Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "T-[0-9]{4}" }],
    });

    private static readonly string Slow = new string('a', 5_000) + "!";

    [Fact]
    public void Many_texts_that_each_run_a_pattern_to_its_timeout_use_up_the_budget_and_are_refused_naming_the_detector()
    {
        var messages = new JsonArray(Enumerable.Range(0, 50).Select(_ => (JsonNode)new JsonObject { ["role"] = "user", ["content"] = Slow }).ToArray());
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
        var result = RequestScrubber.ScrubEmbeddings(new JsonObject { ["input"] = Slow }, Evil);

        Assert.Null(result.BudgetExceededBy);
        Assert.Equal(["evil"], result.BlockedBy);
    }

    [Fact]
    public void Within_the_budget_every_match_is_found_as_without_one()
    {
        var text = string.Join(" and ", Enumerable.Range(1000, 500).Select(n => $"T-{n}"));
        var budgeted = Ticket.Apply(text, new BoundaryBudget(TimeSpan.FromSeconds(30)));
        var unbudgeted = Ticket.Apply(text);

        Assert.True(Ticket.HasTimedPatterns);
        Assert.Equal(500, budgeted.Counts.Single().Count);
        Assert.Equal(unbudgeted.Text, budgeted.Text);
        Assert.Equal(unbudgeted.Hits, budgeted.Hits);
    }

    [Fact]
    public void Every_text_fails_closed_until_the_budget_is_spent_and_a_spent_budget_refuses_the_next_text_at_once()
    {
        var budget = new BoundaryBudget(TimeSpan.FromMilliseconds(150));
        // Each text runs the pattern to its 100 ms timeout (blocked) or to the end of the budget (refused): both fail
        // closed. Each spends at least what was left or the timeout, so the budget is spent within two texts.
        BoundaryBudgetExceededException? exceeded = null;
        for (var i = 0; i < 3 && exceeded is null; i++)
        {
            try
            {
                Assert.Equal(["evil"], Evil.Apply(Slow, budget).BlockedBy);
            }
            catch (BoundaryBudgetExceededException e)
            {
                exceeded = e;
            }
        }
        Assert.Equal("evil", exceeded?.Detector);

        var refused = Assert.Throws<BoundaryBudgetExceededException>(() => Ticket.Apply("T-1234", budget));
        Assert.Equal("ticket", refused.Detector);
        Assert.DoesNotContain("T-1234", refused.Message, StringComparison.Ordinal);

        // Built-in detectors and linear patterns are linear and not charged: they still run on a spent budget.
        var builtIn = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["email"] });
        Assert.False(builtIn.HasTimedPatterns);
        Assert.False(LinearTicket.HasTimedPatterns);
        Assert.True(Evil.HasTimedPatterns);
        Assert.Contains("[REDACTED:email]", builtIn.Apply("mail lee@example.com", budget).Text, StringComparison.Ordinal);
        Assert.Equal("see [REDACTED:ticket]", LinearTicket.Apply("see T-1234", budget).Text);
    }
}
