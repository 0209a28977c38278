using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Metrics;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Gateway;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Pilots;

/// <param name="Change">Evaluate the candidate configuration of this change request instead of the one in force (the regression gate, docs/change-control.md).</param>
public sealed record StartEvalRequest(string? TestSet, string? TestSetHash, int Cases, long? Change = null);
public sealed record EvalResultInput(string? CaseId, string? Category, string? Verdict, string? Reason, string? InteractionId);
public sealed record EvalResultsRequest(IReadOnlyList<EvalResultInput>? Results);
public sealed record FinishEvalRequest(string? Status);
public sealed record EvalCategoryCount(string Category, int Passed, int Failed, int NeedsHuman, int Errors);
public sealed record EvalRunView(long Id, string System, int ConfigVersion, string TestSet, string TestSetHash, string StartedBy,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Status, int Cases, int Recorded, IReadOnlyList<EvalCategoryCount> Categories);
public sealed record EvalResultView(string CaseId, string Category, string Verdict, string? Reason, string? InteractionId, DateTimeOffset At);
public sealed record EvalRunDetail(EvalRunView Run, IReadOnlyList<EvalResultView> Results);

/// <summary>
/// Evaluation runs: `pilotage eval` starts a run, sends each case through the gateway marked with
/// the run (same controls as real traffic), posts each verdict, and finishes the run (or marks it
/// interrupted on Ctrl-C, keeping what was recorded). Runs are per config version.
/// </summary>
public static class EvalEndpoints
{
    private static readonly string[] Verdicts = ["pass", "fail", "needs_human", "error"];

    public static void MapEvals(this IEndpointRouteBuilder api)
    {
        api.MapPost("/systems/{slug}/evals", StartAsync).RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Start an evaluation run of a test set against the system's current config version");
        api.MapGet("/systems/{slug}/evals", ListAsync).RequirePermission(Permission.SystemsRead).WithTags("Evaluations")
            .WithSummary("Evaluation runs of a system, newest first");
        api.MapGet("/evals/{id:long}", GetAsync).RequirePermission(Permission.SystemsRead).WithTags("Evaluations")
            .WithSummary("One evaluation run with every case verdict");
        api.MapPost("/evals/{id:long}/results", RecordAsync).RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Record case verdicts of a running evaluation (idempotent per case)");
        api.MapPost("/evals/{id:long}/finish", FinishAsync).RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Finish a run: completed, or interrupted (results so far are kept)");
    }

    private static async Task<IResult> StartAsync(string slug, StartEvalRequest? request, HttpContext http, ControlPlane control, EvalRunRegistry registry, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        if (string.IsNullOrWhiteSpace(request?.TestSet) || string.IsNullOrWhiteSpace(request.TestSetHash))
        {
            throw Problems.BadRequest("send the test set's name and SHA-256 (testSet, testSetHash) and its number of cases");
        }
        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'");
            CheckOwner(actor, system);
            if (request.Change is { } change
                && !await command.Db.ChangeRequests.AnyAsync(c => c.Id == change && c.System == slug && (c.Status == "open" || c.Status == "approved"), ct))
            {
                throw Problems.NotFound($"'{slug}' has no open or approved change request {change}; 'pilotage changes {slug}' lists them");
            }
            var run = new EvalRunRow
            {
                System = slug, ConfigVersion = system.ConfigVersion, TestSet = request.TestSet.Trim(), TestSetHash = request.TestSetHash.Trim(),
                StartedBy = actor.Email, StartedAt = command.Now, Status = "running", Cases = Math.Max(0, request.Cases), ChangeRequest = request.Change,
            };
            command.Db.EvalRuns.Add(run);
            await command.Db.SaveChangesAsync(ct);
            var view = ToView(run, []);
            command.Audit("eval.started", $"system:{slug}", null, JsonSerializer.Serialize(view, PilotsApiJsonContext.Default.EvalRunView));
            return view;
        }, ct);
        registry.Started(view.Id, slug, actor.Email, request.Change);
        return Results.Created($"/api/v1/evals/{view.Id}", view);
    }

    private static async Task<IReadOnlyList<EvalRunView>> ListAsync(string slug, PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var runs = await db.EvalRuns.AsNoTracking().Where(r => r.System == slug).OrderByDescending(r => r.Id).Take(100).ToListAsync(ct);
        var ids = runs.Select(r => r.Id).ToList();
        var results = await db.EvalResults.AsNoTracking().Where(r => ids.Contains(r.RunId)).ToListAsync(ct);
        return runs.Select(r => ToView(r, results.Where(x => x.RunId == r.Id).ToList())).ToList();
    }

    private static async Task<EvalRunDetail> GetAsync(long id, HttpContext http, PilotageStore store, SystemScope scope, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var run = await db.EvalRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is null || !scope.MayRead(Actor.From(http.User).Person, run.System)) throw NoRun(id);
        var results = await db.EvalResults.AsNoTracking().Where(r => r.RunId == id).OrderBy(r => r.CaseId).ToListAsync(ct);
        return new EvalRunDetail(ToView(run, results), results.Select(r => new EvalResultView(r.CaseId, r.Category, r.Verdict, r.Reason, r.InteractionId, r.At)).ToList());
    }

    private static async Task<EvalRunView> RecordAsync(long id, EvalResultsRequest? request, HttpContext http, PilotageStore store, SystemScope scope, TimeProvider time, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        var inputs = request?.Results ?? [];
        if (inputs.Count is 0 or > 1000) throw Problems.BadRequest("send between 1 and 1000 results at a time");
        foreach (var (input, index) in inputs.Select((r, i) => (r, i)))
        {
            if (string.IsNullOrWhiteSpace(input.CaseId)) throw Problems.BadRequest($"results[{index}].caseId is required");
            if (input.Category is null || !MetricCatalogue.Categories.Contains(input.Category)) throw Problems.BadRequest($"results[{index}].category must be one of {string.Join(", ", MetricCatalogue.Categories)}");
            if (input.Verdict is null || !Verdicts.Contains(input.Verdict)) throw Problems.BadRequest($"results[{index}].verdict must be one of {string.Join(", ", Verdicts)}");
        }
        // Results are evidence, not control-plane changes: written in their own transaction, not audited one by one.
        await using var db = store.CreateDbContext();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var run = await db.EvalRuns.SingleOrDefaultAsync(r => r.Id == id, ct);
        if (run is null || !Visible(run, actor, scope)) throw NoRun(id);
        if (run.Status != "running") throw Problems.Conflict($"evaluation run {id} is {run.Status}; start a new run");
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
            if (input.Verdict == "needs_human" && input.InteractionId is { } interaction
                && !await db.ReviewItems.AnyAsync(i => i.InteractionId == interaction, ct)
                && await db.Interactions.AnyAsync(i => i.Id == interaction && i.EvalRun == id, ct))
            {
                db.ReviewItems.Add(new ReviewItemRow { InteractionId = interaction, System = run.System, Kind = "eval", State = "pending", EnqueuedAt = now });
                enqueued++;
            }
        }
        await db.SaveChangesAsync(ct);
        // The pending count moves with the items enqueued, in the same transaction (Evidence/Rollups.cs, BatchFollowUps.BacklogSql).
        if (enqueued > 0)
        {
            await db.Database.ExecuteSqlAsync(
                $"INSERT INTO review_backlog (system, pending) VALUES ({run.System}, {(long)enqueued}) ON CONFLICT (system) DO UPDATE SET pending = review_backlog.pending + excluded.pending", ct);
        }
        await transaction.CommitAsync(ct);
        return ToView(run, await db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
    }

    private static async Task<EvalRunView> FinishAsync(long id, FinishEvalRequest? request, HttpContext http, ControlPlane control, EvalRunRegistry registry, SystemScope scope, CancellationToken ct)
    {
        var actor = Actor.From(http.User);
        var status = request?.Status ?? "completed";
        if (status is not ("completed" or "interrupted")) throw Problems.BadRequest("status must be completed or interrupted");
        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            var run = await command.Db.EvalRuns.SingleOrDefaultAsync(r => r.Id == id, ct);
            if (run is null || !Visible(run, actor, scope)) throw NoRun(id);
            if (!string.Equals(run.StartedBy, actor.Email, StringComparison.OrdinalIgnoreCase) && actor.Role != Role.Admin)
            {
                throw Problems.Forbidden($"evaluation run {id} was started by {run.StartedBy}");
            }
            if (run.Status != "running") return ToView(run, await command.Db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
            run.Status = status;
            run.FinishedAt = command.Now;
            var view = ToView(run, await command.Db.EvalResults.AsNoTracking().Where(r => r.RunId == id).ToListAsync(ct));
            command.Audit($"eval.{status}", $"system:{run.System}", null, JsonSerializer.Serialize(view, PilotsApiJsonContext.Default.EvalRunView));
            return view;
        }, ct);
        registry.Finished(id);
        return view;
    }

    /// <summary>A run exists for the person who started it and for those who may read its system.</summary>
    private static bool Visible(EvalRunRow run, Actor actor, SystemScope scope) =>
        string.Equals(run.StartedBy, actor.Email, StringComparison.OrdinalIgnoreCase) || scope.MayRead(actor.Person, run.System);

    private static CommandRefusedException NoRun(long id) => Problems.NotFound($"no evaluation run {id}");

    private static void CheckOwner(Actor actor, AiSystemRow system)
    {
        if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw Problems.Forbidden($"'{system.Slug}' is owned by {system.Owner}; only its owner or an admin may evaluate it");
        }
    }

    internal static EvalRunView ToView(EvalRunRow run, IReadOnlyList<EvalResultRow> results) => new(
        run.Id, run.System, run.ConfigVersion, run.TestSet, run.TestSetHash, run.StartedBy, run.StartedAt, run.FinishedAt, run.Status, run.Cases, results.Count,
        results.GroupBy(r => r.Category).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new EvalCategoryCount(
            g.Key, g.Count(r => r.Verdict == "pass"), g.Count(r => r.Verdict == "fail"), g.Count(r => r.Verdict == "needs_human"), g.Count(r => r.Verdict == "error"))).ToList());
}
