namespace Pilotage.Core.Evidence;

/// <summary>Why an item is in the review queue.</summary>
public enum ReviewItemKind
{
    /// <summary>A draft served to its user; reviewed afterwards to measure quality.</summary>
    Draft,
    /// <summary>A held answer waiting for release or rejection.</summary>
    Approval,
    /// <summary>Manual work, reviewed the same way for comparison.</summary>
    Manual,
    /// <summary>A test case whose expectation needs a person.</summary>
    Eval,
}

/// <summary>The one spelling of <see cref="ReviewItemKind"/> in the store and the review queue's API.</summary>
public static class ReviewItemKinds
{
    public const string Draft = "draft";
    public const string Approval = "approval";
    public const string Manual = "manual";
    public const string Eval = "eval";

    /// <summary>Every kind's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<ReviewItemKind>().Select(Name)];

    public static string Name(this ReviewItemKind kind) => kind switch
    {
        ReviewItemKind.Draft => Draft,
        ReviewItemKind.Approval => Approval,
        ReviewItemKind.Manual => Manual,
        ReviewItemKind.Eval => Eval,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a review item kind"),
    };

    /// <summary>The kind <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static ReviewItemKind? Parse(string? name) => name switch
    {
        Draft => ReviewItemKind.Draft,
        Approval => ReviewItemKind.Approval,
        Manual => ReviewItemKind.Manual,
        Eval => ReviewItemKind.Eval,
        _ => null,
    };

    /// <summary>The kind <paramref name="name"/> spells; a <see cref="FormatException"/> listing the kinds for anything else.</summary>
    public static ReviewItemKind Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("a review item kind", name, Names);
}
