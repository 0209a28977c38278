namespace Pilotage.Core.Evidence;

/// <summary>
/// Which traffic a roll-up counts, kept apart so evaluation runs and manual work never pass for real use:
/// AI traffic, manual work recorded for comparison, or evaluation runs.
/// </summary>
public enum RollupKind { Ai, Manual, Eval }

/// <summary>
/// The one spelling of <see cref="RollupKind"/> in the roll-up tables. The constants let queries over the stored
/// text (<c>r.Kind == RollupKinds.Ai</c>) spell it from here, as SQL literals.
/// </summary>
public static class RollupKinds
{
    public const string Ai = "ai";
    public const string Manual = "manual";
    public const string Eval = "eval";

    /// <summary>Every kind's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<RollupKind>().Select(Name)];

    public static string Name(this RollupKind kind) => kind switch
    {
        RollupKind.Ai => Ai,
        RollupKind.Manual => Manual,
        RollupKind.Eval => Eval,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a roll-up kind"),
    };

    /// <summary>The kind <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static RollupKind? Parse(string? name) => name switch
    {
        Ai => RollupKind.Ai,
        Manual => RollupKind.Manual,
        Eval => RollupKind.Eval,
        _ => null,
    };

    /// <summary>The kind <paramref name="name"/> spells; a <see cref="FormatException"/> listing the kinds for anything else.</summary>
    public static RollupKind Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("a roll-up kind", name, Names);
}
