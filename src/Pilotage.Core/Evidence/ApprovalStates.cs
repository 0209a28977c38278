namespace Pilotage.Core.Evidence;

/// <summary>Where a held answer stands: waiting for a person, released to the caller, or rejected.</summary>
public enum ApprovalState { Pending, Released, Rejected }

/// <summary>
/// The one spelling of <see cref="ApprovalState"/> in the store, the API and the CLI. The constants let queries over
/// the stored text (<c>a.State == ApprovalStates.Pending</c>) spell it from here, as SQL literals.
/// </summary>
public static class ApprovalStates
{
    public const string Pending = "pending";
    public const string Released = "released";
    public const string Rejected = "rejected";

    /// <summary>Every state's name, in declaration order (used in error messages and the CLI's choices).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<ApprovalState>().Select(Name)];

    public static string Name(this ApprovalState state) => state switch
    {
        ApprovalState.Pending => Pending,
        ApprovalState.Released => Released,
        ApprovalState.Rejected => Rejected,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "not an approval state"),
    };

    /// <summary>The state <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static ApprovalState? Parse(string? name) => name switch
    {
        Pending => ApprovalState.Pending,
        Released => ApprovalState.Released,
        Rejected => ApprovalState.Rejected,
        _ => null,
    };

    /// <summary>The state <paramref name="name"/> spells; a <see cref="FormatException"/> listing the states for anything else.</summary>
    public static ApprovalState Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("an approval state", name, Names);
}
