using System.Text.Json.Serialization;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Lifecycle;

/// <summary>Where an AI system stands: design.md, "The lifecycle it enforces".</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LifecyclePhase>))]
public enum LifecyclePhase { Proposed, Pilot, Decided, Rollout, Production, Paused, Restricted, Retired }

/// <summary>
/// The lifecycle position of one system. Immutable; a command yields a new state or a refusal
/// (see <see cref="LifecycleMachine"/>).
/// </summary>
/// <param name="Phase">The current phase.</param>
/// <param name="Stage">In <see cref="LifecyclePhase.Rollout"/>: the 0-based index of the current rollout stage; otherwise 0.</param>
/// <param name="LastDecision">The outcome of the last pilot decision, if any.</param>
/// <param name="SuspendedPhase">While paused or restricted: the phase to return to on resume.</param>
/// <param name="SuspendedStage">While paused or restricted: the stage to return to on resume.</param>
public sealed record LifecycleState(
    LifecyclePhase Phase,
    int Stage = 0,
    PilotOutcome? LastDecision = null,
    LifecyclePhase? SuspendedPhase = null,
    int SuspendedStage = 0)
{
    public static LifecycleState Proposed { get; } = new(LifecyclePhase.Proposed);

    /// <summary>
    /// While paused: the system was restricted when it was paused, so resuming restores the
    /// restriction (with <see cref="SuspendedPhase"/> still pointing at where it served before that)
    /// rather than silently lifting it.
    /// </summary>
    public bool ResumeRestricted { get; init; }
}
