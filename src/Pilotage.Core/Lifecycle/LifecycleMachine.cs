using Pilotage.Core.Specs;

namespace Pilotage.Core.Lifecycle;

/// <summary>What a person (or a pause rule) asks the lifecycle to do.</summary>
public enum LifecycleCommandKind
{
    /// <summary>proposed → pilot, or decided (narrow/repilot) → pilot again.</summary>
    StartPilot,
    /// <summary>pilot → decided, recording the outcome.</summary>
    Decide,
    /// <summary>decided (redesign) → proposed: the spec is to be reworked before a new pilot.</summary>
    Redesign,
    /// <summary>decided (proceed) → first stage; stage k → k+1; last stage → production.</summary>
    Expand,
    /// <summary>rollout/production → restricted (e.g. approval mode), remembering where to return.</summary>
    Restrict,
    /// <summary>pilot/rollout/production/restricted → paused, remembering where to return.</summary>
    Pause,
    /// <summary>paused/restricted → where the system was.</summary>
    Resume,
    /// <summary>any phase but retired → retired, for good.</summary>
    Retire,
}

/// <summary>
/// One lifecycle command. Build it with the factory methods.
/// </summary>
/// <param name="Kind">What is asked.</param>
/// <param name="Outcome">For <see cref="LifecycleCommandKind.Decide"/>: the outcome decided.</param>
/// <param name="TargetStage">For <see cref="LifecycleCommandKind.Expand"/>, optional: the 0-based stage index the
/// person means to move into (equal to the number of stages for production). Stating it guards against
/// two people expanding at once, and against skipping a stage.</param>
public sealed record LifecycleCommand(LifecycleCommandKind Kind, PilotOutcome? Outcome = null, int? TargetStage = null)
{
    public static LifecycleCommand StartPilot() => new(LifecycleCommandKind.StartPilot);
    public static LifecycleCommand Decide(PilotOutcome outcome) => new(LifecycleCommandKind.Decide, outcome);
    public static LifecycleCommand Redesign() => new(LifecycleCommandKind.Redesign);
    public static LifecycleCommand Expand(int? targetStage = null) => new(LifecycleCommandKind.Expand, TargetStage: targetStage);
    public static LifecycleCommand Restrict() => new(LifecycleCommandKind.Restrict);
    public static LifecycleCommand Pause() => new(LifecycleCommandKind.Pause);
    public static LifecycleCommand Resume() => new(LifecycleCommandKind.Resume);
    public static LifecycleCommand Retire() => new(LifecycleCommandKind.Retire);

    /// <summary>The verb as people say it, for messages: "start pilot", "decide 'narrow'", "expand"…</summary>
    public string Verb => Kind switch
    {
        LifecycleCommandKind.StartPilot => "start pilot",
        LifecycleCommandKind.Decide when Outcome is { } o => $"decide '{SpecEnum.ToName(o)}'",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// Facts from the current spec that the lifecycle rules need.
/// </summary>
/// <param name="RolloutStages">Number of stages in <c>spec.rollout</c>.</param>
/// <param name="HasPilot">Whether the spec has a <c>pilot</c> section.</param>
/// <param name="HasOwner">Whether an accountable owner is set.</param>
/// <param name="HasPauseRules">Whether the spec has pause rules: no expansion without them (design.md, "Rules
/// that are code"). Defaults to true so callers that only know the first three facts keep working;
/// <see cref="From"/> always sets it.</param>
public sealed record LifecycleContext(int RolloutStages, bool HasPilot, bool HasOwner, bool HasPauseRules = true)
{
    public static LifecycleContext From(SystemSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new(spec.Rollout.Count, spec.Pilot is not null, !string.IsNullOrWhiteSpace(spec.Owner), spec.PauseRules.Count > 0);
    }
}

/// <summary>The result of applying a command: the new state, or a refusal with a reason a person can act on.</summary>
/// <param name="Allowed">Whether the command was accepted.</param>
/// <param name="State">The new state when allowed; the unchanged state when refused.</param>
/// <param name="Reason">Why it was refused; null when allowed.</param>
public sealed record LifecycleTransition(bool Allowed, LifecycleState State, string? Reason)
{
    public static LifecycleTransition To(LifecycleState state) => new(true, state, null);
    public static LifecycleTransition Refused(LifecycleState state, string reason) => new(false, state, reason);
}

/// <summary>
/// The lifecycle rules of design.md as a pure function: no clock, no store, no side effects. The caller
/// records the decision and its evidence; this only says whether the move is allowed and where it leads.
/// Stages are 0-based in states and commands; messages count them from 1, as people do.
/// </summary>
public static class LifecycleMachine
{
    public static LifecycleTransition Apply(LifecycleState state, LifecycleCommand command, LifecycleContext context)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(context);

        if (state.Phase == LifecyclePhase.Retired)
        {
            return Refuse(state, $"retired is final: cannot {command.Verb}; propose a new system instead");
        }
        if (command.Kind == LifecycleCommandKind.Retire)
        {
            return LifecycleTransition.To(new LifecycleState(LifecyclePhase.Retired, 0, state.LastDecision));
        }
        if (command.Kind == LifecycleCommandKind.Decide && command.Outcome is null)
        {
            return Refuse(state, "cannot decide: name the outcome (proceed, narrow, repilot, redesign or stop)");
        }
        // A 'stop' decision leaves one way out, whatever is asked.
        if (state is { Phase: LifecyclePhase.Decided, LastDecision: PilotOutcome.Stop })
        {
            return Refuse(state, $"cannot {command.Verb}: the last decision was 'stop'; the only move left is retire");
        }

        return command.Kind switch
        {
            LifecycleCommandKind.StartPilot => StartPilot(state, context),
            LifecycleCommandKind.Decide => Decide(state, command.Outcome!.Value),
            LifecycleCommandKind.Redesign => Redesign(state),
            LifecycleCommandKind.Expand => Expand(state, command.TargetStage, context),
            LifecycleCommandKind.Restrict => Restrict(state),
            LifecycleCommandKind.Pause => Pause(state),
            LifecycleCommandKind.Resume => Resume(state),
            _ => Refuse(state, $"unknown command '{command.Kind}'"),
        };
    }

    private static LifecycleTransition StartPilot(LifecycleState state, LifecycleContext context)
    {
        var allowedFrom = state.Phase == LifecyclePhase.Proposed
                          || state is { Phase: LifecyclePhase.Decided, LastDecision: PilotOutcome.Narrow or PilotOutcome.Repilot };
        if (!allowedFrom)
        {
            return Refuse(state, state switch
            {
                { Phase: LifecyclePhase.Pilot } => "cannot start pilot: a pilot is already running; record a decision first",
                { Phase: LifecyclePhase.Decided, LastDecision: PilotOutcome.Redesign } =>
                    "cannot start pilot: the last decision was 'redesign'; redesign the system first (back to proposed), then pilot it again",
                { Phase: LifecyclePhase.Decided, LastDecision: { } d } =>
                    $"cannot start pilot: the last decision was '{SpecEnum.ToName(d)}'; a new pilot follows only 'narrow' or 'repilot'",
                _ => $"cannot start pilot: the system is {Name(state)}; a pilot starts from proposed, or after a 'narrow' or 'repilot' decision",
            });
        }
        if (!context.HasPilot)
        {
            return Refuse(state, "cannot start pilot: the spec has no pilot section; add spec.pilot (group, mode, ends, criteria) and apply it");
        }
        if (!context.HasOwner)
        {
            return Refuse(state, "cannot start pilot: the system has no owner; set spec.owner to the accountable person");
        }
        return LifecycleTransition.To(new LifecycleState(LifecyclePhase.Pilot, 0, state.LastDecision));
    }

    private static LifecycleTransition Decide(LifecycleState state, PilotOutcome outcome)
    {
        if (state.Phase != LifecyclePhase.Pilot)
        {
            return Refuse(state, state.Phase == LifecyclePhase.Decided
                ? $"cannot decide: a decision is already recorded ({Last(state)}); act on it, or start a new pilot after 'narrow' or 'repilot'"
                : $"cannot decide: no pilot is running (the system is {Name(state)}); decisions are taken at the end of a pilot");
        }
        return LifecycleTransition.To(new LifecycleState(LifecyclePhase.Decided, 0, outcome));
    }

    private static LifecycleTransition Redesign(LifecycleState state)
    {
        if (state is { Phase: LifecyclePhase.Decided, LastDecision: PilotOutcome.Redesign })
        {
            return LifecycleTransition.To(new LifecycleState(LifecyclePhase.Proposed, 0, state.LastDecision));
        }
        return Refuse(state, state.Phase == LifecyclePhase.Decided
            ? $"cannot redesign: the last decision was {Last(state)}, not 'redesign'"
            : $"cannot redesign: the system is {Name(state)}; a redesign follows a 'redesign' decision");
    }

    private static LifecycleTransition Expand(LifecycleState state, int? target, LifecycleContext context)
    {
        int next;
        switch (state.Phase)
        {
            case LifecyclePhase.Pilot:
                return Refuse(state, "cannot leave pilot: no decision recorded; decide 'proceed' first");
            case LifecyclePhase.Decided when state.LastDecision != PilotOutcome.Proceed:
                return Refuse(state,
                    $"cannot expand: the last decision was {Last(state)}, not 'proceed'");
            case LifecyclePhase.Decided:
                next = 0;
                break;
            case LifecyclePhase.Rollout:
                next = state.Stage + 1;
                break;
            case LifecyclePhase.Production:
                return Refuse(state, "cannot expand: the system is already in production; there is no further stage");
            case LifecyclePhase.Paused or LifecyclePhase.Restricted:
                return Refuse(state, $"cannot expand: the system is {Name(state)}; resume it first");
            default:
                return Refuse(state, $"cannot expand: the system is {Name(state)}; run a pilot and decide 'proceed' first");
        }
        if (!context.HasOwner)
        {
            return Refuse(state, "cannot expand: the system has no owner; set spec.owner to the accountable person");
        }
        if (!context.HasPauseRules)
        {
            return Refuse(state, "cannot expand: the spec has no pause rules; add spec.pauseRules so a failing system stops itself");
        }
        var stages = Math.Max(0, context.RolloutStages);
        // A spec may have lost stages since; past the last stage only production remains.
        next = Math.Min(next, stages);
        if (target is { } t && t != next)
        {
            if (t > stages)
            {
                return Refuse(state, $"cannot expand to stage {t + 1}: the spec has {stages} rollout stage(s)");
            }
            if (t > next)
            {
                return Refuse(state, $"cannot skip stage {next + 1}: expand one stage at a time (next is {StageName(next, stages)}, asked for {StageName(t, stages)})");
            }
            return Refuse(state, $"cannot expand to {StageName(t, stages)}: the system is already past it (next is {StageName(next, stages)})");
        }
        return LifecycleTransition.To(next >= stages
            ? new LifecycleState(LifecyclePhase.Production, 0, state.LastDecision)
            : new LifecycleState(LifecyclePhase.Rollout, next, state.LastDecision));
    }

    private static LifecycleTransition Restrict(LifecycleState state) => state.Phase switch
    {
        LifecyclePhase.Rollout or LifecyclePhase.Production =>
            LifecycleTransition.To(state with { Phase = LifecyclePhase.Restricted, Stage = 0, SuspendedPhase = state.Phase, SuspendedStage = state.Stage }),
        LifecyclePhase.Restricted => Refuse(state, "cannot restrict: already restricted"),
        LifecyclePhase.Paused => Refuse(state, "cannot restrict: the system is paused; resume it first"),
        LifecyclePhase.Pilot => Refuse(state, "cannot restrict a pilot: pause it, or decide 'narrow' to pilot a smaller scope"),
        _ => Refuse(state, $"cannot restrict: the system is {Name(state)}; only a system in rollout or production can be restricted"),
    };

    private static LifecycleTransition Pause(LifecycleState state) => state.Phase switch
    {
        LifecyclePhase.Pilot or LifecyclePhase.Rollout or LifecyclePhase.Production =>
            LifecycleTransition.To(state with { Phase = LifecyclePhase.Paused, Stage = 0, SuspendedPhase = state.Phase, SuspendedStage = state.Stage, ResumeRestricted = false }),
        // Keep the serving position; remember that resuming must restore the restriction, not lift it.
        LifecyclePhase.Restricted =>
            LifecycleTransition.To(state with { Phase = LifecyclePhase.Paused, ResumeRestricted = true }),
        LifecyclePhase.Paused => Refuse(state, "cannot pause: already paused"),
        _ => Refuse(state, $"cannot pause: the system is {Name(state)} and serves nobody; pause applies to a pilot, rollout or production"),
    };

    private static LifecycleTransition Resume(LifecycleState state)
    {
        if (state.Phase is not (LifecyclePhase.Paused or LifecyclePhase.Restricted) || state.SuspendedPhase is not { } back)
        {
            return Refuse(state, $"cannot resume: the system is {Name(state)}, not paused or restricted");
        }
        if (state is { Phase: LifecyclePhase.Paused, ResumeRestricted: true })
        {
            return LifecycleTransition.To(state with { Phase = LifecyclePhase.Restricted, ResumeRestricted = false });
        }
        return LifecycleTransition.To(new LifecycleState(back, state.SuspendedStage, state.LastDecision));
    }

    private static LifecycleTransition Refuse(LifecycleState state, string reason) => LifecycleTransition.Refused(state, reason);

    private static string Last(LifecycleState state) =>
        state.LastDecision is { } d ? $"'{SpecEnum.ToName(d)}'" : "not recorded";

    private static string StageName(int index, int stages) =>
        index >= stages ? "production" : $"stage {index + 1} of {stages}";

    private static string Name(LifecycleState state) => state.Phase switch
    {
        LifecyclePhase.Rollout => $"in rollout stage {state.Stage + 1}",
        LifecyclePhase.Decided when state.LastDecision is { } d => $"decided ('{SpecEnum.ToName(d)}')",
        _ => SpecEnum.ToName(state.Phase),
    };
}
