using Pilotage.Core.Evidence;

namespace Pilotage.Core.Tests.Evidence;

/// <summary>
/// The closed vocabularies of the evidence: every value has one name and back, the names are the ones already in
/// stored rows (a rename would orphan them), and a word that is not in the vocabulary is refused, saying what would do.
/// </summary>
public sealed class VocabularyTests
{
    [Fact]
    public void Interaction_outcomes_round_trip_with_their_stored_names()
    {
        RoundTrip<InteractionOutcome>(InteractionOutcomes.Name, InteractionOutcomes.Parse);
        Assert.Equal(new[] { "served", "held", "shadowed", "refused", "failed" }, InteractionOutcomes.Names);
        Assert.Equal(InteractionOutcomes.Served, InteractionOutcome.Served.Name());
        Assert.Equal(InteractionOutcomes.Failed, InteractionOutcome.Failed.Name());
    }

    [Fact]
    public void Interaction_endpoints_round_trip_with_their_stored_names()
    {
        RoundTrip<InteractionEndpoint>(InteractionEndpointNames.Name, InteractionEndpointNames.Parse);
        Assert.Equal(new[] { "chat", "embeddings", "manual" }, InteractionEndpointNames.Names);
        Assert.Equal("'completions' is not an interaction endpoint: expected one of chat, embeddings, manual",
            Assert.Throws<FormatException>(() => InteractionEndpointNames.Require("completions")).Message);
    }

    [Fact]
    public void Interaction_modes_round_trip_with_their_stored_names()
    {
        RoundTrip<InteractionMode>(InteractionModes.Name, InteractionModes.Parse);
        // The stored and header spelling: read_only with an underscore, as the dashboard and clients read it.
        Assert.Equal(new[] { "none", "full", "draft", "approval", "read_only", "shadow", "manual" }, InteractionModes.Names);
        Assert.Null(InteractionModes.Parse("read-only"));
        Assert.Equal("'readonly' is not an interaction mode: expected one of none, full, draft, approval, read_only, shadow, manual",
            Assert.Throws<FormatException>(() => InteractionModes.Require("readonly")).Message);
    }

    [Fact]
    public void Answered_outcomes_are_served_and_held_only()
    {
        Assert.Equal(new[] { "served", "held" }, InteractionOutcomes.Names.Where(InteractionOutcomes.IsAnswered));
        Assert.False(InteractionOutcomes.IsAnswered(null));
        Assert.False(InteractionOutcomes.IsAnswered("Served"));
    }

    [Fact]
    public void Approval_states_round_trip_with_their_stored_names()
    {
        RoundTrip<ApprovalState>(ApprovalStates.Name, ApprovalStates.Parse);
        Assert.Equal(new[] { "pending", "released", "rejected" }, ApprovalStates.Names);
    }

    [Fact]
    public void Review_item_states_and_kinds_round_trip_with_their_stored_names()
    {
        RoundTrip<ReviewItemState>(ReviewItemStates.Name, ReviewItemStates.Parse);
        Assert.Equal(new[] { "pending", "done" }, ReviewItemStates.Names);
        RoundTrip<ReviewItemKind>(ReviewItemKinds.Name, ReviewItemKinds.Parse);
        Assert.Equal(new[] { "draft", "approval", "manual", "eval" }, ReviewItemKinds.Names);
    }

    [Fact]
    public void Rollup_kinds_round_trip_with_their_stored_names()
    {
        RoundTrip<RollupKind>(RollupKinds.Name, RollupKinds.Parse);
        Assert.Equal(new[] { "ai", "manual", "eval" }, RollupKinds.Names);
    }

    [Fact]
    public void Receipt_statuses_round_trip_with_their_api_names()
    {
        RoundTrip<ReceiptStatus>(ReceiptStatuses.Name, ReceiptStatuses.Parse);
        Assert.Equal(new[] { "recorded", "replaced", "unchanged" }, ReceiptStatuses.Names);
    }

    [Theory]
    [InlineData("Served")]
    [InlineData(" served")]
    [InlineData("answered")]
    [InlineData("")]
    [InlineData(null)]
    public void An_unknown_interaction_outcome_is_refused_naming_the_outcomes(string? name)
    {
        Assert.Null(InteractionOutcomes.Parse(name));
        var error = Assert.Throws<FormatException>(() => InteractionOutcomes.Require(name));
        Assert.Equal($"'{name}' is not an interaction outcome: expected one of served, held, shadowed, refused, failed", error.Message);
    }

    [Fact]
    public void Every_vocabulary_refuses_a_word_not_its_own_and_says_which_would_do()
    {
        Assert.Equal("'approved' is not an approval state: expected one of pending, released, rejected",
            Assert.Throws<FormatException>(() => ApprovalStates.Require("approved")).Message);
        Assert.Equal("'open' is not a review item state: expected one of pending, done",
            Assert.Throws<FormatException>(() => ReviewItemStates.Require("open")).Message);
        Assert.Equal("'sample' is not a review item kind: expected one of draft, approval, manual, eval",
            Assert.Throws<FormatException>(() => ReviewItemKinds.Require("sample")).Message);
        Assert.Equal("'AI' is not a roll-up kind: expected one of ai, manual, eval",
            Assert.Throws<FormatException>(() => RollupKinds.Require("AI")).Message);
        Assert.Equal("'saved' is not a receipt status: expected one of recorded, replaced, unchanged",
            Assert.Throws<FormatException>(() => ReceiptStatuses.Require("saved")).Message);
    }

    [Fact]
    public void A_value_outside_the_enum_has_no_name()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ((InteractionOutcome)99).Name());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((ApprovalState)99).Name());
        Assert.Throws<ArgumentOutOfRangeException>(() => ((RollupKind)99).Name());
    }

    [Fact]
    public void Only_the_data_boundary_codes_count_as_blocked()
    {
        Assert.True(RefusalCodes.IsBoundaryBlock(RefusalCodes.DataBoundaryBlocked));
        Assert.True(RefusalCodes.IsBoundaryBlock(RefusalCodes.DataBoundaryUninspectable));
        Assert.False(RefusalCodes.IsBoundaryBlock(RefusalCodes.SideEffectBlocked));
        Assert.False(RefusalCodes.IsBoundaryBlock("data_boundary_answer_blocked"));
        Assert.False(RefusalCodes.IsBoundaryBlock(null));
    }

    /// <summary>Every value names itself, its name parses back to it, and no two values share a name.</summary>
    private static void RoundTrip<T>(Func<T, string> name, Func<string?, T?> parse) where T : struct, Enum
    {
        var values = Enum.GetValues<T>();
        foreach (var value in values) Assert.Equal(value, parse(name(value)));
        Assert.Equal(values.Length, values.Select(name).Distinct(StringComparer.Ordinal).Count());
    }
}
