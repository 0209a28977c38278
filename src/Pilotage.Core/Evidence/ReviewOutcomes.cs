namespace Pilotage.Core.Evidence;

/// <summary>The one spelling of <see cref="ReviewOutcome"/> in the API, the store, imports and the audit trail.</summary>
public static class ReviewOutcomes
{
    /// <summary>The one review tag with a metric of its own (<c>out_of_scope_rate</c>); tags are otherwise an open set.</summary>
    public const string OutOfScopeTag = "out_of_scope";

    /// <summary>Every outcome's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<ReviewOutcome>().Select(Name)];

    public static string Name(this ReviewOutcome outcome) => outcome switch
    {
        ReviewOutcome.Accepted => "accepted",
        ReviewOutcome.Edited => "edited",
        ReviewOutcome.Rejected => "rejected",
        _ => "escalated",
    };

    /// <summary>The outcome <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static ReviewOutcome? Parse(string? name) => name switch
    {
        "accepted" => ReviewOutcome.Accepted,
        "edited" => ReviewOutcome.Edited,
        "rejected" => ReviewOutcome.Rejected,
        "escalated" => ReviewOutcome.Escalated,
        _ => null,
    };
}
