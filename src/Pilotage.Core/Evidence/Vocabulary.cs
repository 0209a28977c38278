namespace Pilotage.Core.Evidence;

/// <summary>
/// What the closed vocabularies of the evidence share: one error for a word that is not theirs
/// (<see cref="InteractionOutcomes"/>, <see cref="InteractionEndpointNames"/>, <see cref="ApprovalStates"/>,
/// <see cref="ReviewItemStates"/>, <see cref="ReviewItemKinds"/>, <see cref="RollupKinds"/>, <see cref="ReceiptStatuses"/>).
/// </summary>
public static class Vocabulary
{
    /// <summary>"'x' is not an interaction outcome: expected one of served, held, …" — says what was wrong and what would do.</summary>
    public static FormatException Unknown(string what, string? name, IReadOnlyList<string> names) =>
        new($"'{name}' is not {what}: expected one of {string.Join(", ", names)}");
}
