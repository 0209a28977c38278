using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <param name="Outcome">pilot, proceed, narrow, redesign, repilot, stop, expand, restrict, retire, or extend (a pilot's end date).</param>
/// <param name="Override">Decide against the recommendation (the reason must say why); recorded as such.</param>
public sealed record DecisionRequest(string? Outcome, string? Reason, DateOnly? NewEndDate, bool Override = false);
public sealed record ReasonRequest(string? Reason);
public sealed record DecisionView(long Id, string System, string Outcome, string Reason, string DecidedBy, DateTimeOffset DecidedAt,
    string FromPhase, int FromStage, string ToPhase, int ToStage, DateOnly? NewEndDate, bool Override = false, string? EvidenceHash = null);
public sealed record LifecycleView(string System, string Phase, int Stage, string? PausedBy, DateTimeOffset? PausedAt, string? PauseReason);

/// <summary>
/// Lifecycle moves are decisions by an accountable person: each names a reason, is checked by
/// <see cref="LifecycleMachine"/>, and is recorded with the audit entry in one transaction.
/// Pause and resume are their own verbs, for speed in an emergency.
/// </summary>
public static class LifecycleEndpoints
{
    public static void MapLifecycle(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Lifecycle");
        systems.MapPost("/{slug}/decisions", DecideAsync).RequirePermission(Permission.SystemsOperate)
            .WithSummary("Record a decision that moves the lifecycle (pilot, proceed, narrow, redesign, repilot, stop, expand, restrict, retire, extend)");
        systems.MapGet("/{slug}/decisions", ListAsync).RequirePermission(Permission.SystemsRead).WithSummary("The decisions recorded for a system");
        systems.MapPost("/{slug}/pause", PauseAsync).RequirePermission(Permission.SystemsOperate).WithSummary("Pause a system: the gateway refuses its next request");
        systems.MapPost("/{slug}/resume", ResumeAsync).RequirePermission(Permission.SystemsOperate).WithSummary("Resume a paused or restricted system (a reason is required)");
    }

    internal static async Task<IReadOnlyList<DecisionView>> ListAsync(string slug, PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var system = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct) ?? throw Problems.NotFound($"no system '{slug}'");
        var rows = await db.Decisions.AsNoTracking().Where(d => d.SystemId == system.Id).OrderBy(d => d.Id).ToListAsync(ct);
        return rows.Select(d => ToView(slug, d)).ToList();
    }

    private static Task<DecisionView> DecideAsync(string slug, DecisionRequest? request, HttpContext http, ControlPlane control,
        DecisionEvidence evidence, CancellationToken ct) => RecordDecisionAsync(slug, request, Actor.From(http.User), control, evidence, ct);

    /// <summary>The decision command itself, for the API and the dashboard's decision form alike.</summary>
    internal static async Task<DecisionView> RecordDecisionAsync(string slug, DecisionRequest? request, Actor actor, ControlPlane control,
        DecisionEvidence evidence, CancellationToken ct)
    {
        var outcome = request?.Outcome?.Trim().ToLowerInvariant() ?? "";
        var reason = RequireReason(request?.Reason, $"a decision on '{slug}'");
        if (!Outcomes.Contains(outcome)) throw UnknownOutcome(outcome);
        // Who may decide is settled before any evidence is computed: a refusal must not carry the
        // recommendation, the blockers or the gate's figures to someone who may not decide.
        await evidence.CheckMayDecideAsync(slug, actor, ct);
        // The evidence the decision is made on, with its hash; and the rules that evidence imposes.
        var snapshot = await evidence.CheckAsync(slug, outcome, request?.Override == true, ct);
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var state = StateOf(row);
            LifecycleState next;
            if (outcome == "extend")
            {
                if (state.Phase != LifecyclePhase.Pilot) throw Problems.Conflict($"only a running pilot can be extended; '{slug}' is {Phase(state)}");
                if (request?.NewEndDate is not { } newEnd) throw Problems.BadRequest("an extension needs newEndDate (YYYY-MM-DD)");
                if (newEnd < DateOnly.FromDateTime(command.Now.UtcDateTime)) throw Problems.BadRequest($"newEndDate {newEnd:yyyy-MM-dd} is in the past");
                row.PilotEndsOverride = newEnd;
                next = state;
            }
            else
            {
                var lifecycleCommand = ParseOutcome(outcome, state);
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
                NewEndDate = outcome == "extend" ? request?.NewEndDate : null,
                EvidenceJson = snapshot?.Json,
                EvidenceHash = snapshot?.Hash,
                Override = snapshot?.AgainstRecommendation == true,
            };
            command.Db.Decisions.Add(decision);
            var before = Snapshot(row);
            Move(row, next, command.Now);
            if (next.Phase == LifecyclePhase.Pilot && state.Phase != LifecyclePhase.Pilot) row.PilotEndsOverride = null;
            await command.Db.SaveChangesAsync(ct);
            var view = ToView(slug, decision);
            command.Audit($"system.decision.{outcome}", $"system:{slug}", before, JsonSerializer.Serialize(view, ApiJsonContext.Default.DecisionView));
            return view;
        }, ct);
    }

    private static Task<LifecycleView> PauseAsync(string slug, ReasonRequest? request, HttpContext http, ControlPlane control, CancellationToken ct) =>
        PauseSystemAsync(slug, request?.Reason, Actor.From(http.User), control, ct);

    /// <summary>The pause command itself, for the API and the dashboard's Pause button alike.</summary>
    internal static async Task<LifecycleView> PauseSystemAsync(string slug, string? reasonText, Actor actor, ControlPlane control, CancellationToken ct)
    {
        var reason = string.IsNullOrWhiteSpace(reasonText) ? "no reason given" : reasonText.Trim();
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var transition = LifecycleMachine.Apply(StateOf(row), LifecycleCommand.Pause(), LifecycleContext.From(spec));
            if (!transition.Allowed) throw new CommandRefusedException(StatusCodes.Status409Conflict, "Pause refused", transition.Reason!);
            var before = Snapshot(row);
            Move(row, transition.State, command.Now);
            row.PausedBy = actor.Email;
            row.PausedAt = command.Now;
            row.PauseReason = reason;
            command.Audit("system.paused", $"system:{slug}", before, Snapshot(row));
            return ToLifecycleView(row);
        }, ct);
    }

    private static Task<LifecycleView> ResumeAsync(string slug, ReasonRequest? request, HttpContext http, ControlPlane control, CancellationToken ct) =>
        ResumeSystemAsync(slug, request?.Reason, Actor.From(http.User), control, ct);

    /// <summary>The resume command itself, for the API and the dashboard alike.</summary>
    internal static async Task<LifecycleView> ResumeSystemAsync(string slug, string? reasonText, Actor actor, ControlPlane control, CancellationToken ct)
    {
        var reason = RequireReason(reasonText, $"resuming '{slug}'");
        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await LoadOwnedAsync(command, slug, actor, ct);
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var transition = LifecycleMachine.Apply(StateOf(row), LifecycleCommand.Resume(), LifecycleContext.From(spec));
            if (!transition.Allowed) throw new CommandRefusedException(StatusCodes.Status409Conflict, "Resume refused", transition.Reason!);
            var before = Snapshot(row);
            Move(row, transition.State, command.Now);
            row.PausedBy = null;
            row.PausedAt = null;
            row.PauseReason = null;
            command.Audit("system.resumed", $"system:{slug}", before, JsonSerializer.Serialize(new ReasonRequest(reason), ApiJsonContext.Default.ReasonRequest));
            return ToLifecycleView(row);
        }, ct);
    }

    private static LifecycleCommand ParseOutcome(string outcome, LifecycleState state) => outcome switch
    {
        "pilot" => LifecycleCommand.StartPilot(),
        "proceed" => LifecycleCommand.Decide(PilotOutcome.Proceed),
        "narrow" => LifecycleCommand.Decide(PilotOutcome.Narrow),
        "repilot" => LifecycleCommand.Decide(PilotOutcome.Repilot),
        "stop" => LifecycleCommand.Decide(PilotOutcome.Stop),
        // From a pilot, redesign is the decision; once decided, it sends the system back to proposed.
        "redesign" => state.Phase == LifecyclePhase.Pilot ? LifecycleCommand.Decide(PilotOutcome.Redesign) : LifecycleCommand.Redesign(),
        "expand" => LifecycleCommand.Expand(),
        "restrict" => LifecycleCommand.Restrict(),
        "retire" => LifecycleCommand.Retire(),
        _ => throw UnknownOutcome(outcome),
    };

    private static readonly string[] Outcomes = ["pilot", "proceed", "narrow", "redesign", "repilot", "stop", "expand", "restrict", "retire", "extend"];

    private static CommandRefusedException UnknownOutcome(string outcome) =>
        Problems.BadRequest($"unknown outcome '{outcome}'; use one of {string.Join(", ", Outcomes)}");

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

    internal static LifecycleState StateOf(AiSystemRow row) => new(
        Enum.Parse<LifecyclePhase>(row.Phase), row.Stage,
        row.LastDecision is null ? null : Enum.Parse<PilotOutcome>(row.LastDecision),
        row.SuspendedPhase is null ? null : Enum.Parse<LifecyclePhase>(row.SuspendedPhase), row.SuspendedStage)
    { ResumeRestricted = row.ResumeRestricted };

    private static void Move(AiSystemRow row, LifecycleState next, DateTimeOffset now)
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

    private static string Phase(LifecycleState state) => state.Phase.ToString().ToLowerInvariant();

    private static string Snapshot(AiSystemRow row) =>
        JsonSerializer.Serialize(ToLifecycleView(row), ApiJsonContext.Default.LifecycleView);

    private static LifecycleView ToLifecycleView(AiSystemRow row) =>
        new(row.Slug, row.Phase.ToLowerInvariant(), row.Stage, row.PausedBy, row.PausedAt, row.PauseReason);

    private static DecisionView ToView(string slug, DecisionRow d) =>
        new(d.Id, slug, d.Outcome, d.Reason, d.DecidedBy, d.DecidedAt, d.FromPhase.ToLowerInvariant(), d.FromStage, d.ToPhase.ToLowerInvariant(), d.ToStage, d.NewEndDate, d.Override, d.EvidenceHash);
}
