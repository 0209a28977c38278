using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Changes;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Pilots;

/// <summary>
/// Evaluation runs: `pilotage eval` starts a run, sends each case through the gateway marked with
/// the run (same controls as real traffic), posts each verdict, and finishes the run (or marks it
/// interrupted on Ctrl-C, keeping what was recorded). Runs are per config version.
/// </summary>
public sealed class EvalCommands(ControlPlane control, PilotageStore store, EvalRunRegistry registry, SystemScope scope, TimeProvider time)
{
    /// <summary>Starts a run of a test set against the system's configuration in force (or a change request's candidate).</summary>
    public async Task<EvalRunView> StartAsync(string slug, StartEvalRequest? request, Actor actor, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.TestSet) || string.IsNullOrWhiteSpace(request.TestSetHash))
        {
            throw Problems.BadRequest("send the test set's name and SHA-256 (testSet, testSetHash) and its number of cases");
        }
        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'");
            EvalRules.CheckOwner(actor, system);
            var (open, approved) = (ChangeStatus.Open.Name(), ChangeStatus.Approved.Name());
            if (request.Change is { } change
                && !await command.Db.ChangeRequests.AnyAsync(c => c.Id == change && c.System == slug && (c.Status == open || c.Status == approved), ct))
            {
                throw Problems.NotFound($"'{slug}' has no open or approved change request {change}; 'pilotage changes {slug}' lists them");
            }
            var run = new EvalRunRow
            {
                System = slug, ConfigVersion = system.ConfigVersion, TestSet = request.TestSet.Trim(), TestSetHash = request.TestSetHash.Trim(),
                StartedBy = actor.Email, StartedAt = command.Now, Status = EvalRunStatus.Running.Name(), Cases = Math.Max(0, request.Cases), ChangeRequest = request.Change,
            };
            command.Db.EvalRuns.Add(run);
            await command.Db.SaveChangesAsync(ct);
            var view = EvalRunView.Of(run, []);
            command.Audit("eval.started", $"system:{slug}", null, JsonSerializer.Serialize(view, PilotsApiJsonContext.Default.EvalRunView));
            return view;
        }, ct);
        registry.Started(view.Id, slug, actor.Email, request.Change);
        return view;
    }

    /// <summary>Records case verdicts of a running evaluation (idempotent per case); evidence, not a control-plane change.</summary>
    public async Task<EvalRunView> RecordAsync(long id, EvalResultsRequest? request, Actor actor, CancellationToken ct)
    {
        var inputs = request?.Results ?? [];
        if (inputs.Count is 0 or > 1000) throw Problems.BadRequest("send between 1 and 1000 results at a time");
        foreach (var (input, index) in inputs.Select((r, i) => (r, i)))
        {
            if (string.IsNullOrWhiteSpace(input.CaseId)) throw Problems.BadRequest($"results[{index}].caseId is required");
            if (input.Category is null || !MetricCatalogue.Categories.Contains(input.Category)) throw Problems.BadRequest($"results[{index}].category must be one of {string.Join(", ", MetricCatalogue.Categories)}");
            if (EvalNames.ParseVerdict(input.Verdict) is null) throw Problems.BadRequest($"results[{index}].verdict must be one of {string.Join(", ", SpecEnum.Names<CaseVerdictKind>())}");
        }
        // Results are evidence, not control-plane changes: written in their own transaction, not audited one by one.
        await using var db = store.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var run = await db.EvalRuns.SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is null || !EvalRules.Visible(run, actor, scope)) throw EvalRules.NoRun(id);
        if (EvalNames.ParseStatus(run.Status) != EvalRunStatus.Running) throw Problems.Conflict($"evaluation run {id} is {run.Status}; start a new run");
        if (!string.Equals(run.StartedBy, actor.Email, StringComparison.OrdinalIgnoreCase) && actor.Role != Role.Admin)
        {
            throw Problems.Forbidden($"evaluation run {id} was started by {run.StartedBy}");
        }
        var now = time.GetUtcNow();
        var caseIds = inputs.Select(r => r.CaseId!).ToList();
        var existing = await db.EvalResults.Where(r => r.RunId == id && caseIds.Contains(r.CaseId)).ToDictionaryAsync(r => r.CaseId, ct);
        var enqueued = 0;
        foreach (var input in inputs)
        {
            if (!existing.TryGetValue(input.CaseId!, out var row))
            {
                row = new EvalResultRow { RunId = id, CaseId = input.CaseId!, Category = input.Category!, Verdict = input.Verdict!, At = now };
                db.EvalResults.Add(row);
                existing[row.CaseId] = row;
            }
            row.Category = input.Category!;
            row.Verdict = input.Verdict!;
            row.Reason = input.Reason is { Length: > 2000 } reason ? reason[..2000] : input.Reason;
            row.InteractionId = input.InteractionId;
            row.At = now;
            // Cases graded by a person join the review queue like any draft.
            if (EvalNames.ParseVerdict(input.Verdict) == CaseVerdictKind.NeedsHuman && input.InteractionId is { } interaction
                && !await db.ReviewItems.AnyAsync(i => i.InteractionId == interaction, ct)
                && await db.Interactions.AnyAsync(i => i.Id == interaction && i.EvalRun == id, ct))
            {
                db.ReviewItems.Add(new ReviewItemRow { InteractionId = interaction, System = run.System, Kind = ReviewItemKinds.Eval, State = ReviewItemStates.Pending, EnqueuedAt = now });
                enqueued++;
            }
        }
        await db.SaveChangesAsync(ct);
        // The pending count moves with the items enqueued, in the same transaction, as the evidence writer moves it.
        if (enqueued > 0) await BatchFollowUps.AddBacklogAsync(db, run.System, enqueued, ct);
        await transaction.CommitAsync(ct);
        return EvalRunView.Of(run, await db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
    }

    /// <summary>Finishes a run: completed, or interrupted (results so far are kept); finishing a finished run changes nothing.</summary>
    public async Task<EvalRunView> FinishAsync(long id, FinishEvalRequest? request, Actor actor, CancellationToken ct)
    {
        var status = request?.Status is null ? EvalRunStatus.Completed : EvalNames.ParseStatus(request.Status) ?? EvalRunStatus.Running;
        if (status == EvalRunStatus.Running) throw Problems.BadRequest("status must be completed or interrupted");
        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            var run = await command.Db.EvalRuns.SingleOrDefaultAsync(r => r.Id == id, ct);
            if (run is null || !EvalRules.Visible(run, actor, scope)) throw EvalRules.NoRun(id);
            if (!string.Equals(run.StartedBy, actor.Email, StringComparison.OrdinalIgnoreCase) && actor.Role != Role.Admin)
            {
                throw Problems.Forbidden($"evaluation run {id} was started by {run.StartedBy}");
            }
            if (EvalNames.ParseStatus(run.Status) != EvalRunStatus.Running) return EvalRunView.Of(run, await command.Db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
            run.Status = status.Name();
            run.FinishedAt = command.Now;
            var view = EvalRunView.Of(run, await command.Db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
            command.Audit($"eval.{status.Name()}", $"system:{run.System}", null, JsonSerializer.Serialize(view, PilotsApiJsonContext.Default.EvalRunView));
            return view;
        }, ct);
        registry.Finished(id);
        return view;
    }
}

/// <summary>What the API reads of evaluation runs.</summary>
public sealed class EvalQueries(PilotageStore store, SystemScope scope)
{
    /// <summary>The runs of a system, newest first (at most 100).</summary>
    public async Task<IReadOnlyList<EvalRunView>> ListAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var runs = await db.EvalRuns.AsNoTracking().Where(r => r.System == slug).OrderByDescending(r => r.Id).Take(100).ToListAsync(ct);
        var ids = runs.Select(r => r.Id).ToList();
        var results = await db.EvalResults.AsNoTracking().Where(r => ids.Contains(r.RunId)).ToListAsync(ct);
        return runs.Select(r => EvalRunView.Of(r, results.Where(x => x.RunId == r.Id).ToList())).ToList();
    }

    /// <summary>One run with every case verdict, for those who may read its system.</summary>
    public async Task<EvalRunDetail> GetAsync(long id, Actor actor, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var run = await db.EvalRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is null || !scope.MayRead(actor.Person, run.System)) throw EvalRules.NoRun(id);
        var results = await db.EvalResults.AsNoTracking().Where(r => r.RunId == id).OrderBy(r => r.CaseId).ToListAsync(ct);
        return new EvalRunDetail(EvalRunView.Of(run, results), results.Select(r => new EvalResultView(r.CaseId, r.Category, r.Verdict, r.Reason, r.InteractionId, r.At)).ToList());
    }
}

/// <summary>The rules the evaluation commands share: verdicts, who sees a run, who may evaluate a system.</summary>
internal static class EvalRules
{
    /// <summary>A run exists for the person who started it and for those who may read its system.</summary>
    internal static bool Visible(EvalRunRow run, Actor actor, SystemScope scope) =>
        string.Equals(run.StartedBy, actor.Email, StringComparison.OrdinalIgnoreCase) || scope.MayRead(actor.Person, run.System);

    internal static CommandRefusedException NoRun(long id) => Problems.NotFound($"no evaluation run {id}");

    internal static void CheckOwner(Actor actor, AiSystemRow system)
    {
        if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{system.Slug}' is owned by {system.Owner}; only its owner or an admin may evaluate it");
        }
    }
}
