namespace Pilotage.Server.Policy;

/// <summary>How the gateway serves a system whose owner is deactivated (docs/change-control.md, "Ownership").</summary>
public enum OrphanedSystems
{
    /// <summary>Hold every answer for approval until a new owner accepts the system.</summary>
    RestrictToApproval,
    /// <summary>Serve as before; the system still shows as orphaned.</summary>
    Serve,
}

public static class OrphanedSystemsSetting
{
    /// <summary>Reads <c>PILOTAGE_ORPHANED_SYSTEMS</c>: <c>restrict</c> (default) or <c>serve</c>.</summary>
    public static OrphanedSystems Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "restrict" or "approval" => OrphanedSystems.RestrictToApproval,
        "serve" => OrphanedSystems.Serve,
        _ => throw new ArgumentException($"PILOTAGE_ORPHANED_SYSTEMS must be 'restrict' or 'serve', not '{value}'"),
    };
}

/// <summary>Reads <c>PILOTAGE_GC_LATENCY</c>.</summary>
public static class GcLatencySetting
{
    public static System.Runtime.GCLatencyMode Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sustained" => System.Runtime.GCLatencyMode.SustainedLowLatency,
        "interactive" => System.Runtime.GCLatencyMode.Interactive,
        _ => throw new ArgumentException($"PILOTAGE_GC_LATENCY must be 'sustained' (the default) or 'interactive', not '{value}'"),
    };
}
