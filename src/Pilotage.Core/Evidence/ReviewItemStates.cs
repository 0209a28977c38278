namespace Pilotage.Core.Evidence;

/// <summary>Where an item of the review queue stands: waiting for a review, or reviewed.</summary>
public enum ReviewItemState { Pending, Done }

/// <summary>
/// The one spelling of <see cref="ReviewItemState"/> in the store (the database triggers that keep the backlog count,
/// in the server's Storage/RawSchema.cs, compare with <see cref="Pending"/> in SQL).
/// </summary>
public static class ReviewItemStates
{
    public const string Pending = "pending";
    public const string Done = "done";

    /// <summary>Every state's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<ReviewItemState>().Select(Name)];

    public static string Name(this ReviewItemState state) => state switch
    {
        ReviewItemState.Pending => Pending,
        ReviewItemState.Done => Done,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not a review item state"),
    };

    /// <summary>The state <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static ReviewItemState? Parse(string? name) => name switch
    {
        Pending => ReviewItemState.Pending,
        Done => ReviewItemState.Done,
        _ => null,
    };

    /// <summary>The state <paramref name="name"/> spells; a <see cref="FormatException"/> listing the states for anything else.</summary>
    public static ReviewItemState Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("a review item state", name, Names);
}
