using System.Globalization;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Gateway;

/// <summary>Who paused a system, when and why: quoted to everyone the pause turns away.</summary>
public sealed record PauseInfo(string By, DateTimeOffset At, string Reason);

/// <summary>The facts about one system that the gateway decides on; part of the immutable policy snapshot.</summary>
public sealed record SystemState(
    long Id,
    SystemSpec Spec,
    LifecycleState Lifecycle,
    int ConfigVersion,
    PauseInfo? Pause = null,
    DateOnly? PilotEndsOverride = null)
{
    public string Slug => Spec.Name;

    /// <summary>Its owner is deactivated and the server restricts orphaned systems: every answer is held for approval until a new owner accepts.</summary>
    public bool OrphanRestricted { get; init; }

    /// <summary>The person it is being handed over to, until they accept: they may read it to decide.</summary>
    public string? PendingOwner { get; init; }

    /// <summary>The last day the pilot may serve: a decided extension, else the spec's date.</summary>
    public DateOnly? PilotEnds => PilotEndsOverride ?? Spec.Pilot?.Ends;
}

/// <summary>Which groups a system serves now, in which mode, and what to call that scope in messages.</summary>
public sealed record ServingScope(IReadOnlyList<string> Groups, ServingMode Mode, string Label)
{
    /// <summary>Production without rollout stages serves every signed-in person.</summary>
    public bool Everyone => Groups.Count == 0;

    /// <summary>In approval mode, how long a request is held open for the reviewer's decision; null: answered at once with a held notice.</summary>
    public TimeSpan? ApprovalWait { get; init; }
}

/// <summary>A refusal in the OpenAI error shape, with the HTTP status of design.md and a message a person can act on.</summary>
public sealed record GatewayRefusal(int Status, string Code, string Message)
{
    /// <summary>
    /// The OpenAI error type, which SDKs branch on: the caller's own fault (a body that is not JSON, too large, refused
    /// by the boundary) is an <c>invalid_request_error</c>; only a fault of the model behind the system is an
    /// <c>upstream_error</c>, so nobody goes looking at the model for a request they got wrong.
    /// </summary>
    public string Type => Status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        423 => "system_unavailable",
        429 => "rate_limit_error",
        >= 400 and < 500 => "invalid_request_error",
        502 or 504 => "upstream_error",
        _ => "server_error",
    };
}

/// <summary>What the gateway does with a request: serve it in a mode, or refuse it.</summary>
public sealed record GatewayDecision(ServingScope? Scope, GatewayRefusal? Refusal)
{
    public bool Allowed => Refusal is null;
    public static GatewayDecision Serve(ServingScope scope) => new(scope, null);
    public static GatewayDecision Refuse(GatewayRefusal refusal, ServingScope? scope = null) => new(scope, refusal);
}

/// <summary>The caller as the gateway sees them.</summary>
public sealed record Caller(long UserId, string Email, IReadOnlySet<string> Groups, bool TrainingAcknowledged)
{
    /// <summary>
    /// The system's owner or an admin sending a case of their own running evaluation run: they test the
    /// system, they do not use it, so the group and training checks (which are about use) do not apply.
    /// Everything else does: lifecycle, pause, pilot expiry, limits, the data boundary.
    /// </summary>
    public bool Evaluating { get; init; }
}

/// <summary>
/// The gateway's decision for one caller and one system, in design.md's order: lifecycle and stage,
/// group, training, pause and pilot expiry. Pure: the same snapshot and clock give the same answer.
/// </summary>
public static class ServingPolicy
{
    public const string ManualProcess = "continue with the manual process";

    /// <summary>The scope a lifecycle position serves; null when the phase does not serve at all.</summary>
    public static ServingScope? ScopeOf(SystemSpec spec, LifecycleState state)
    {
        switch (state.Phase)
        {
            case LifecyclePhase.Pilot when spec.Pilot is { } pilot:
                return new ServingScope([pilot.Group], pilot.Mode, "pilot") { ApprovalWait = pilot.Approval?.Wait };
            case LifecyclePhase.Rollout when state.Stage < spec.Rollout.Count:
                var stage = spec.Rollout[state.Stage];
                return new ServingScope(stage.Groups, stage.Mode, $"rollout stage {state.Stage + 1} ({stage.Name})") { ApprovalWait = stage.Approval?.Wait };
            case LifecyclePhase.Production:
                return spec.Rollout.Count == 0
                    ? new ServingScope([], ServingMode.Full, "production")
                    : new ServingScope(spec.Rollout[^1].Groups, spec.Rollout[^1].Mode, "production") { ApprovalWait = spec.Rollout[^1].Approval?.Wait };
            case LifecyclePhase.Paused or LifecyclePhase.Restricted when state.SuspendedPhase is { } resumeTo:
                var inner = ScopeOf(spec, state with { Phase = resumeTo, Stage = state.SuspendedStage, SuspendedPhase = null });
                // Restricted keeps the groups but holds every answer for approval until a person resumes.
                return inner is null ? null : state.Phase == LifecyclePhase.Restricted || state.ResumeRestricted
                    ? inner with { Mode = ServingMode.Approval, Label = inner.Label + ", restricted to approval" }
                    : inner;
            default:
                return null;
        }
    }

    public static GatewayDecision Decide(SystemState system, Caller caller, DateTimeOffset now)
    {
        var spec = system.Spec;
        var phase = system.Lifecycle.Phase;
        if (phase == LifecyclePhase.Retired)
        {
            return GatewayDecision.Refuse(new(423, "system_retired",
                $"'{spec.Name}' is retired and no longer serves; its records are kept. Ask its owner {spec.Owner} what replaces it, and {ManualProcess}."));
        }
        var scope = ScopeOf(spec, system.Lifecycle);
        if (scope is not null && system.OrphanRestricted && scope.Mode is not (ServingMode.Approval or ServingMode.Shadow))
        {
            // Nobody is accountable for its answers: a person approves each one until someone takes the system over.
            scope = scope with { Mode = ServingMode.Approval, Label = scope.Label + $", restricted to approval while its owner {spec.Owner} is deactivated" };
        }
        if (scope is null)
        {
            var next = phase switch
            {
                LifecyclePhase.Proposed => $"it is proposed and its pilot has not started; its owner {spec.Owner} can start it with 'pilotage decide {spec.Name} pilot'",
                LifecyclePhase.Decided => $"the pilot ended with the decision '{Name(system.Lifecycle.LastDecision)}' and the next step has not been taken; its owner {spec.Owner} decides what comes next",
                _ => $"it is {phase.ToString().ToLowerInvariant()}",
            };
            return GatewayDecision.Refuse(new(423, "system_not_serving", $"'{spec.Name}' is not serving: {next}. Until then, {ManualProcess}."));
        }
        if (!caller.Evaluating && !scope.Everyone && !scope.Groups.Any(caller.Groups.Contains))
        {
            var groups = string.Join(", ", scope.Groups);
            return GatewayDecision.Refuse(new(403, "not_in_allowed_group",
                $"{caller.Email} is not in a group that may use '{spec.Name}' during its {scope.Label} (allowed: {groups}). Ask its owner {spec.Owner} or an admin to add you to one of these groups."), scope);
        }
        if (spec.Training.Required && !caller.TrainingAcknowledged && !caller.Evaluating)
        {
            return GatewayDecision.Refuse(new(403, "training_required",
                $"'{spec.Name}' requires training before use: read it with 'pilotage training show {spec.Name}' (or GET /v1/training/{spec.Name}) and confirm with 'pilotage training ack {spec.Name}' (or POST /v1/training/{spec.Name}/acknowledge)."), scope);
        }
        if (phase == LifecyclePhase.Paused)
        {
            var pause = system.Pause;
            var who = pause is null ? "" : $" by {pause.By} at {pause.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC: {pause.Reason}";
            return GatewayDecision.Refuse(new(423, "system_paused", $"'{spec.Name}' is paused{who}. {Capitalise(ManualProcess)}."), scope);
        }
        var ends = system.PilotEnds;
        if (phase == LifecyclePhase.Pilot && ends is { } last && DateOnly.FromDateTime(now.UtcDateTime) > last)
        {
            return GatewayDecision.Refuse(new(423, "pilot_expired",
                $"the pilot of '{spec.Name}' ended on {last:yyyy-MM-dd} and no decision has been recorded. Its owner {spec.Owner} must decide (proceed, narrow, redesign, repilot, stop, or extend with a new end date). Until then, {ManualProcess}."), scope);
        }
        return GatewayDecision.Serve(scope);
    }

    private static string Name(PilotOutcome? outcome) => outcome?.ToString().ToLowerInvariant() ?? "none";

    private static string Capitalise(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
