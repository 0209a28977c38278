using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>
/// The one mapping between a system's row and its <see cref="LifecycleState"/>: the store keeps phases
/// and outcomes by their enum names, every command reads and writes them here.
/// </summary>
public static class SystemLifecycleMapping
{
    public static LifecycleState Lifecycle(this AiSystemRow row) => new(
        Enum.Parse<LifecyclePhase>(row.Phase), row.Stage,
        row.LastDecision is null ? null : Enum.Parse<PilotOutcome>(row.LastDecision),
        row.SuspendedPhase is null ? null : Enum.Parse<LifecyclePhase>(row.SuspendedPhase), row.SuspendedStage)
    { ResumeRestricted = row.ResumeRestricted };

    /// <summary>Writes <paramref name="next"/> into the row; the phase's start time moves only when the phase or stage does.</summary>
    public static void MoveTo(this AiSystemRow row, LifecycleState next, DateTimeOffset now)
    {
        if (row.Phase != next.Phase.ToString() || row.Stage != next.Stage) row.PhaseSince = now;
        row.Phase = next.Phase.ToString();
        row.Stage = next.Stage;
        row.LastDecision = next.LastDecision?.ToString();
        row.SuspendedPhase = next.SuspendedPhase?.ToString();
        row.SuspendedStage = next.SuspendedStage;
        row.ResumeRestricted = next.ResumeRestricted;
        row.UpdatedAt = now;
    }

    /// <summary>The phase as the API and the dashboard name it: "pilot", "rollout"…</summary>
    public static string Name(this LifecyclePhase phase) => phase.ToString().ToLowerInvariant();
}
