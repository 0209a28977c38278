namespace Pilotage.Core.Evidence;

/// <summary>What posting a review, a rating or a task time did: recorded a first one, replaced the earlier one, or changed nothing (an identical re-submission).</summary>
public enum ReceiptStatus { Recorded, Replaced, Unchanged }

/// <summary>The one spelling of <see cref="ReceiptStatus"/> in the API's receipts, the CLI and the pause-rule feed.</summary>
public static class ReceiptStatuses
{
    public const string Recorded = "recorded";
    public const string Replaced = "replaced";
    public const string Unchanged = "unchanged";

    /// <summary>Every status's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<ReceiptStatus>().Select(Name)];

    public static string Name(this ReceiptStatus status) => status switch
    {
        ReceiptStatus.Recorded => Recorded,
        ReceiptStatus.Replaced => Replaced,
        ReceiptStatus.Unchanged => Unchanged,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a receipt status"),
    };

    /// <summary>The status <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static ReceiptStatus? Parse(string? name) => name switch
    {
        Recorded => ReceiptStatus.Recorded,
        Replaced => ReceiptStatus.Replaced,
        Unchanged => ReceiptStatus.Unchanged,
        _ => null,
    };

    /// <summary>The status <paramref name="name"/> spells; a <see cref="FormatException"/> listing the statuses for anything else.</summary>
    public static ReceiptStatus Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("a receipt status", name, Names);
}
