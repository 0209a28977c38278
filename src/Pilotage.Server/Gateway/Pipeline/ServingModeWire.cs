using Pilotage.Core.Specs;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>Each serving mode as evidence records and headers spell it.</summary>
internal static class ServingModeWire
{
    public static string ToWire(this ServingMode mode) => mode switch
    {
        ServingMode.Full => "full",
        ServingMode.Draft => "draft",
        ServingMode.Approval => "approval",
        ServingMode.ReadOnly => "read_only",
        _ => "shadow",
    };
}
