namespace Pilotage.Core.Evidence;

/// <summary>
/// The mode an interaction was served in: a serving mode of the spec, <see cref="None"/> when it was refused before
/// a scope applied, or <see cref="Manual"/> for manual work recorded for comparison.
/// </summary>
public enum InteractionMode { None, Full, Draft, Approval, ReadOnly, Shadow, Manual }

/// <summary>
/// The one spelling of <see cref="InteractionMode"/> in the store, the <c>x-pilotage-mode</c> header and the API. The
/// constants let queries and patterns over a row (<c>row.Mode == InteractionModes.Draft</c>) spell it from here.
/// </summary>
public static class InteractionModes
{
    public const string None = "none";
    public const string Full = "full";
    public const string Draft = "draft";
    public const string Approval = "approval";
    public const string ReadOnly = "read_only";
    public const string Shadow = "shadow";
    public const string Manual = "manual";

    /// <summary>Every mode's name, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Enum.GetValues<InteractionMode>().Select(Name)];

    public static string Name(this InteractionMode mode) => mode switch
    {
        InteractionMode.None => None,
        InteractionMode.Full => Full,
        InteractionMode.Draft => Draft,
        InteractionMode.Approval => Approval,
        InteractionMode.ReadOnly => ReadOnly,
        InteractionMode.Shadow => Shadow,
        InteractionMode.Manual => Manual,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not an interaction mode"),
    };

    /// <summary>The mode <paramref name="name"/> spells (exactly); null for anything else.</summary>
    public static InteractionMode? Parse(string? name) => name switch
    {
        None => InteractionMode.None,
        Full => InteractionMode.Full,
        Draft => InteractionMode.Draft,
        Approval => InteractionMode.Approval,
        ReadOnly => InteractionMode.ReadOnly,
        Shadow => InteractionMode.Shadow,
        Manual => InteractionMode.Manual,
        _ => null,
    };

    /// <summary>The mode <paramref name="name"/> spells; a <see cref="FormatException"/> listing the modes for anything else.</summary>
    public static InteractionMode Require(string? name) => Parse(name) ?? throw Vocabulary.Unknown("an interaction mode", name, Names);
}
