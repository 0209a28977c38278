namespace Pilotage.Core.Evidence;

/// <summary>What became of one interaction.</summary>
public enum InteractionOutcome
{
    /// <summary>The answer went to the caller.</summary>
    Served,
    /// <summary>The answer waits for a person's approval (approval mode).</summary>
    Held,
    /// <summary>Answered and recorded, but the caller got nothing (shadow mode).</summary>
    Shadowed,
    /// <summary>Pilotage refused it (access, policy, data boundary, budget…).</summary>
    Refused,
    /// <summary>The upstream or the connection failed.</summary>
    Failed,
}

/// <summary>
/// The one spelling of <see cref="InteractionOutcome"/> in the store, the API, traces and roll-ups. Rows keep the
/// outcome as text, so the constants let queries and patterns over them (<c>row.Outcome is InteractionOutcomes.Served</c>)
/// spell it from here too, as SQL literals.
/// </summary>
public static class InteractionOutcomes
{
    public const string Served = "served";
    public const string Held = "held";
    public const string Shadowed = "shadowed";
    public const string Refused = "refused";
    public const string Failed = "failed";

    /// <summary>Every outcome's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<InteractionOutcome>().Select(Name)];

    public static string Name(this InteractionOutcome outcome) => outcome switch
    {
        InteractionOutcome.Served => Served,
        InteractionOutcome.Held => Held,
        InteractionOutcome.Shadowed => Shadowed,
        InteractionOutcome.Refused => Refused,
        InteractionOutcome.Failed => Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "not an interaction outcome"),
    };

    /// <summary>The outcome <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static InteractionOutcome? Parse(string? name) => name switch
    {
        Served => InteractionOutcome.Served,
        Held => InteractionOutcome.Held,
        Shadowed => InteractionOutcome.Shadowed,
        Refused => InteractionOutcome.Refused,
        Failed => InteractionOutcome.Failed,
        _ => null,
    };

    /// <summary>The outcome <paramref name="name"/> spells; a <see cref="FormatException"/> listing the outcomes for anything else.</summary>
    public static InteractionOutcome Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("an interaction outcome", name, Names);

    /// <summary>Whether a person got (or will get) an answer whose latency counts: served and held.</summary>
    public static bool IsAnswered(string? outcome) => outcome is Served or Held;
}
