namespace Pilotage.Core.Evidence;

/// <summary>
/// The refusal codes that more than one place reads: the gateway writes them, the roll-ups and the test-set checker
/// count them. The set of codes is open (every stage names its own), so these are constants, not an enum.
/// </summary>
public static class RefusalCodes
{
    /// <summary>The request carried data the system's boundary blocks.</summary>
    public const string DataBoundaryBlocked = "data_boundary_blocked";

    /// <summary>The request could not be inspected (too large, unreadable), so the boundary blocked it.</summary>
    public const string DataBoundaryUninspectable = "data_boundary_uninspectable";

    /// <summary>The answer asked for an action (a tool call) the system may not take.</summary>
    public const string SideEffectBlocked = "side_effect_blocked";

    /// <summary>Whether the data boundary stopped the request: what the roll-ups count as blocked.</summary>
    public static bool IsBoundaryBlock(string? code) => code is DataBoundaryBlocked or DataBoundaryUninspectable;
}
