using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>
/// Lifecycle moves are decisions by an accountable person: each names a reason, is checked by
/// <see cref="LifecycleMachine"/>, and is recorded with the audit entry in one transaction.
/// Pause and resume are their own verbs, for speed in an emergency.
/// </summary>
public sealed class LifecycleCommands(ControlPlane control, DecisionEvidence evidence)
{
    /// <summary>Records a decision that moves the lifecycle, with the evidence it was made on and its hash.</summary>
    public async Task<DecisionView> DecideAsync(string slug, DecisionRequest? request, Actor actor, CancellationToken ct)
    {
        var named = request?.Outcome?.Trim().ToLowerInvariant() ?? "";
        var reason = RequireReason(request?.Reason, $"a decision on '{slug}'");
        var chosen = DecisionOutcomes.Parse(named) ?? throw UnknownOutcome(named);
        var outcome = chosen.Name();
        // Who may decide is settled before any evidence is computed: a refusal must not carry the
        // recommendation, the blockers or the gate's figures to someone who may not decide.
        await evidence.CheckMayDecideAsync(slug, actor, ct);
        // The evidence the decision is made on, with its hash; and the rules that evidence imposes.
        var snapshot = await evidence.CheckAsync(slug, chosen, request?.Override == true, ct);
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var state = row.Lifecycle();
            LifecycleState next;
            if (chosen == DecisionOutcome.Extend)
            {
                if (state.Phase != LifecyclePhase.Pilot) throw Problems.Conflict($"only a running pilot can be extended; '{slug}' is {state.Phase.Name()}");
                if (request?.NewEndDate is not { } newEnd) throw Problems.BadRequest("an extension needs newEndDate (YYYY-MM-DD)");
                if (newEnd < DateOnly.FromDateTime(command.Now.UtcDateTime)) throw Problems.BadRequest($"newEndDate {newEnd:yyyy-MM-dd} is in the past");
                row.PilotEndsOverride = newEnd;
                next = state;
            }
            else
            {
                var lifecycleCommand = ToCommand(chosen, state);
                var transition = LifecycleMachine.Apply(state, lifecycleCommand, LifecycleContext.From(spec));
                if (!transition.Allowed)
                {
                    throw new CommandRefusedException(StatusCodes.Status409Conflict, "Decision refused", transition.Reason!);
                }
                next = transition.State;
            }
            var decision = new DecisionRow
            {
                SystemId = row.Id, Outcome = outcome, Reason = reason, DecidedBy = actor.Email, DecidedAt = command.Now,
                FromPhase = state.Phase.ToString(), FromStage = state.Stage, ToPhase = next.Phase.ToString(), ToStage = next.Stage,
                NewEndDate = chosen == DecisionOutcome.Extend ? request?.NewEndDate : null,
                EvidenceJson = snapshot?.Json,
                EvidenceHash = snapshot?.Hash,
                Override = snapshot?.AgainstRecommendation == true,
            };
            command.Db.Decisions.Add(decision);
            var before = Snapshot(row);
            row.MoveTo(next, command.Now);
            if (next.Phase == LifecyclePhase.Pilot && state.Phase != LifecyclePhase.Pilot) row.PilotEndsOverride = null;
            await command.Db.SaveChangesAsync(ct);
            var view = ToView(slug, decision);
            command.Audit($"system.decision.{outcome}", $"system:{slug}", before, JsonSerializer.Serialize(view, SystemsApiJsonContext.Default.DecisionView));
            return view;
        }, ct);
    }

    /// <summary>Pauses the system: the gateway refuses its next request.</summary>
    public async Task<LifecycleView> PauseAsync(string slug, string? reasonText, Actor actor, CancellationToken ct)
    {
        var reason = string.IsNullOrWhiteSpace(reasonText) ? "no reason given" : reasonText.Trim();
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var transition = LifecycleMachine.Apply(row.Lifecycle(), LifecycleCommand.Pause(), LifecycleContext.From(spec));
            if (!transition.Allowed) throw new CommandRefusedException(StatusCodes.Status409Conflict, "Pause refused", transition.Reason!);
            var before = Snapshot(row);
            row.MoveTo(transition.State, command.Now);
            row.PausedBy = actor.Email;
            row.PausedAt = command.Now;
            row.PauseReason = reason;
            command.Audit("system.paused", $"system:{slug}", before, Snapshot(row));
            return ToLifecycleView(row);
        }, ct);
    }

    /// <summary>Resumes a paused or restricted system (a reason is required).</summary>
    public async Task<LifecycleView> ResumeAsync(string slug, string? reasonText, Actor actor, CancellationToken ct)
    {
        var reason = RequireReason(reasonText, $"resuming '{slug}'");
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var transition = LifecycleMachine.Apply(row.Lifecycle(), LifecycleCommand.Resume(), LifecycleContext.From(spec));
            if (!transition.Allowed) throw new CommandRefusedException(StatusCodes.Status409Conflict, "Resume refused", transition.Reason!);
            var before = Snapshot(row);
            row.MoveTo(transition.State, command.Now);
            row.PausedBy = null;
            row.PausedAt = null;
            row.PauseReason = null;
            command.Audit("system.resumed", $"system:{slug}", before, JsonSerializer.Serialize(new ReasonRequest(reason), SystemsApiJsonContext.Default.ReasonRequest));
            return ToLifecycleView(row);
        }, ct);
    }

    private static LifecycleCommand ToCommand(DecisionOutcome outcome, LifecycleState state) => outcome switch
    {
        DecisionOutcome.Pilot => LifecycleCommand.StartPilot(),
        DecisionOutcome.Proceed => LifecycleCommand.Decide(PilotOutcome.Proceed),
        DecisionOutcome.Narrow => LifecycleCommand.Decide(PilotOutcome.Narrow),
        DecisionOutcome.Repilot => LifecycleCommand.Decide(PilotOutcome.Repilot),
        DecisionOutcome.Stop => LifecycleCommand.Decide(PilotOutcome.Stop),
        // From a pilot, redesign is the decision; once decided, it sends the system back to proposed.
        DecisionOutcome.Redesign => state.Phase == LifecyclePhase.Pilot ? LifecycleCommand.Decide(PilotOutcome.Redesign) : LifecycleCommand.Redesign(),
        DecisionOutcome.Expand => LifecycleCommand.Expand(),
        DecisionOutcome.Restrict => LifecycleCommand.Restrict(),
        DecisionOutcome.Retire => LifecycleCommand.Retire(),
        _ => throw UnknownOutcome(outcome.Name()),
    };

    private static CommandRefusedException UnknownOutcome(string outcome) =>
        Problems.BadRequest($"unknown outcome '{outcome}'; use one of {string.Join(", ", DecisionOutcomes.All.Select(o => o.Name()))}");

    private static string RequireReason(string? reason, string what) =>
        string.IsNullOrWhiteSpace(reason)
            ? throw Problems.BadRequest($"{what} needs a reason: say why, it is kept in the audit trail")
            : reason.Trim().Length > 4000 ? throw Problems.BadRequest("the reason is longer than 4000 characters") : reason.Trim();

    private static async Task<AiSystemRow> LoadOwnedAsync(CommandContext command, string slug, Actor actor, CancellationToken ct)
    {
        var row = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        CheckMayOperate(row, actor);
        return row;
    }

    /// <summary>Only the system's owner or an admin decides, pauses or resumes it.</summary>
    internal static void CheckMayOperate(AiSystemRow row, Actor actor)
    {
        if (actor.Role != Role.Admin && !string.Equals(row.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{row.Slug}' is owned by {row.Owner}; only its owner or an admin may decide, pause or resume it");
        }
    }

    private static string Snapshot(AiSystemRow row) =>
        JsonSerializer.Serialize(ToLifecycleView(row), SystemsApiJsonContext.Default.LifecycleView);

    private static LifecycleView ToLifecycleView(AiSystemRow row) =>
        new(row.Slug, row.Phase.ToLowerInvariant(), row.Stage, row.PausedBy, row.PausedAt, row.PauseReason);

    internal static DecisionView ToView(string slug, DecisionRow d) =>
        new(d.Id, slug, d.Outcome, d.Reason, d.DecidedBy, d.DecidedAt, d.FromPhase.ToLowerInvariant(), d.FromStage, d.ToPhase.ToLowerInvariant(), d.ToStage, d.NewEndDate, d.Override, d.EvidenceHash);
}
