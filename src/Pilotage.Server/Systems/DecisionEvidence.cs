using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Policy;
using Pilotage.Server.Reports;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Systems;

/// <summary>The evidence report a decision was made on, as stored with it.</summary>
public sealed record DecisionSnapshot(string Json, string Hash, string Recommendation, bool AgainstRecommendation);

/// <summary>
/// What the evidence says about a decision before it is recorded: the report snapshot and its hash,
/// the blockers that refuse <c>proceed</c>, the gate that refuses an expansion, and whether the decision
/// goes against the recommendation (allowed only with an explicit override).
/// </summary>
public sealed class DecisionEvidence(EvidenceReportService reports, SystemMetrics metrics, PolicyCache policy, PilotageStore store, TimeProvider time)
{
    /// <summary>A test run older than this no longer counts as evidence for <c>proceed</c>.</summary>
    public static TimeSpan TestRunValidity { get; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Refuses (404, 403) whoever may not decide on <paramref name="slug"/>. Called before <see cref="CheckAsync"/>,
    /// whose refusals quote the evidence; it reads only the system's owner.
    /// </summary>
    public async Task CheckMayDecideAsync(string slug, Access.Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        LifecycleCommands.CheckMayOperate(row, actor);
    }

    public async Task<DecisionSnapshot?> CheckAsync(string slug, DecisionOutcome outcome, bool overrideRecommendation, CancellationToken ct)
    {
        if (outcome is DecisionOutcome.Pilot or DecisionOutcome.Restrict || !policy.Current.Systems.TryGetValue(slug, out var system)) return null;
        var state = system.State;
        ExpansionRequest? expansion = null;
        if (outcome == DecisionOutcome.Expand)
        {
            var gate = await GateAsync(system, ct);
            if (gate is { Open: false })
            {
                throw new CommandRefusedException(StatusCodes.Status409Conflict, "Expansion refused",
                    $"expanding too quickly: {gate.Summary}. {string.Join("; ", gate.ClosedReasons)}");
            }
            expansion = new ExpansionRequest(NextScope(state.Spec, state.Lifecycle), gate);
        }
        var report = await reports.BuildAsync(slug, expansion, ct);
        var json = ReportRenderer.Json(report);
        var recommendation = report.Criteria.Recommendation.Kind;
        var concludesPilot = state.Lifecycle.Phase == LifecyclePhase.Pilot && outcome.ConcludesPilot();
        var against = concludesPilot && !outcome.Agrees(ReportVocabulary.ParseRecommendation(recommendation));
        if (against && !overrideRecommendation)
        {
            throw new CommandRefusedException(StatusCodes.Status409Conflict, "Against the recommendation",
                $"the evidence recommends '{recommendation.Replace('_', ' ')}' ({report.Criteria.Recommendation.Summary}); to decide '{outcome.Name()}' anyway, repeat it with override and a reason that says why (pilotage decide {slug} {outcome.Name()} --override --reason …)");
        }
        if (concludesPilot && outcome == DecisionOutcome.Proceed)
        {
            var blockers = await ProceedBlockersAsync(system, report, ct);
            if (blockers.Count > 0)
            {
                throw new CommandRefusedException(StatusCodes.Status409Conflict, "Proceed refused",
                    $"'{slug}' cannot proceed yet: {string.Join("; ", blockers)}",
                    new Dictionary<string, object?> { ["blockers"] = blockers });
            }
        }
        return new DecisionSnapshot(json, EvidenceReportService.HashOf(json), recommendation, against);
    }

    private async Task<List<string>> ProceedBlockersAsync(GatewaySystem system, EvidenceReport report, CancellationToken ct)
    {
        var spec = system.State.Spec;
        var blockers = new List<string>();
        if (spec.PauseRules.Count == 0) blockers.Add("no pause rules: add spec.pauseRules so the system can stop itself when quality drops");
        await using (var db = store.CreateDbContext())
        {
            var ownerEmail = spec.Owner.ToLowerInvariant();
            if (!await db.Users.AsNoTracking().AnyAsync(u => u.Email == ownerEmail && u.Active, ct))
            {
                blockers.Add($"no active owner: {spec.Owner} has no active account (add the user, or hand the system over)");
            }
            var run = await db.EvalRuns.AsNoTracking().Where(r => r.System == spec.Name && r.Status != EvalRunStatus.Running.Name()).OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
            if (run is null) blockers.Add("no test run: run the test set through the gateway (pilotage eval SYSTEM --set FILE)");
            else if (run.ConfigVersion != system.State.ConfigVersion) blockers.Add($"the last test run was for config v{run.ConfigVersion}, not the current v{system.State.ConfigVersion}: run it again");
            else if (time.GetUtcNow() - (run.FinishedAt ?? run.StartedAt) > TestRunValidity) blockers.Add($"the last test run is older than {TestRunValidity.TotalDays:0} days: run it again");
        }
        foreach (var question in report.Readiness.Questions.Where(q => q.BlocksProceed && ReportVocabulary.ParseReadiness(q.Status) is ReadinessStatus.Blocking or ReadinessStatus.NeedsAnswer))
        {
            blockers.Add($"readiness '{question.Text}' is {question.Status.Replace('_', ' ')}: {question.Answer}");
        }
        return blockers;
    }

    /// <summary>The gate of the current rollout stage as the next expansion would check it; null outside rollout.</summary>
    public async Task<GateEvaluation?> CurrentGateAsync(string slug, CancellationToken ct) =>
        policy.Current.Systems.TryGetValue(slug, out var system) ? await GateAsync(system, ct) : null;

    /// <summary>The gate of the stage being left, measured on that stage's own evidence; null when leaving a decided pilot.</summary>
    private async Task<GateEvaluation?> GateAsync(GatewaySystem system, CancellationToken ct)
    {
        var state = system.State;
        if (state.Lifecycle.Phase != LifecyclePhase.Rollout || state.Lifecycle.Stage >= state.Spec.Rollout.Count) return null;
        var stage = state.Spec.Rollout[state.Lifecycle.Stage];
        var figures = await metrics.ComputeAsync(state.Slug, new MetricFilter("rollout", state.Lifecycle.Stage), ct);
        DateTimeOffset? since;
        await using (var db = store.CreateDbContext())
        {
            since = await db.Systems.AsNoTracking().Where(s => s.Slug == state.Slug).Select(s => s.PhaseSince).SingleOrDefaultAsync(ct);
        }
        var inStage = since is { } start ? time.GetUtcNow() - start : TimeSpan.Zero;
        return CriteriaEvaluator.EvaluateGate(stage, figures.Metrics, inStage);
    }

    private static string NextScope(SystemSpec spec, LifecycleState state) => state.Phase switch
    {
        LifecyclePhase.Decided when spec.Rollout.Count > 0 => $"rollout stage 1 ({spec.Rollout[0].Name})",
        LifecyclePhase.Rollout when state.Stage + 1 < spec.Rollout.Count => $"rollout stage {state.Stage + 2} ({spec.Rollout[state.Stage + 1].Name})",
        _ => "production",
    };
}
