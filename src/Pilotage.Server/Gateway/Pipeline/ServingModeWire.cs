using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>Each serving mode as evidence records and headers spell it (<see cref="InteractionModes"/>).</summary>
internal static class ServingModeWire
{
    public static InteractionMode ToInteractionMode(this ServingMode mode) => mode switch
    {
        ServingMode.Full => InteractionMode.Full,
        ServingMode.Draft => InteractionMode.Draft,
        ServingMode.Approval => InteractionMode.Approval,
        ServingMode.ReadOnly => InteractionMode.ReadOnly,
        ServingMode.Shadow => InteractionMode.Shadow,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a serving mode"),
    };

    public static string ToWire(this ServingMode mode) => mode.ToInteractionMode().Name();
}
