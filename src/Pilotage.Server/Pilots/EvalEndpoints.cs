using Pilotage.Core.Access;
using Pilotage.Core.TestSets;
using Pilotage.Server.Access;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Pilots;

/// <param name="Change">Evaluate the candidate configuration of this change request instead of the one in force (the regression gate, docs/change-control.md).</param>
public sealed record StartEvalRequest(string? TestSet, string? TestSetHash, int Cases, long? Change = null);
public sealed record EvalResultInput(string? CaseId, string? Category, string? Verdict, string? Reason, string? InteractionId);
public sealed record EvalResultsRequest(IReadOnlyList<EvalResultInput>? Results);
public sealed record FinishEvalRequest(string? Status);
public sealed record EvalCategoryCount(string Category, int Passed, int Failed, int NeedsHuman, int Errors);
public sealed record EvalRunView(long Id, string System, int ConfigVersion, string TestSet, string TestSetHash, string StartedBy,
    DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Status, int Cases, int Recorded, IReadOnlyList<EvalCategoryCount> Categories)
{
    /// <summary>A run with its verdicts counted by category.</summary>
    internal static EvalRunView Of(EvalRunRow run, IReadOnlyList<EvalResultRow> results) => new(
        run.Id, run.System, run.ConfigVersion, run.TestSet, run.TestSetHash, run.StartedBy, run.StartedAt, run.FinishedAt, run.Status, run.Cases, results.Count,
        results.GroupBy(r => r.Category).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new EvalCategoryCount(
            g.Key, Count(g, CaseVerdictKind.Pass), Count(g, CaseVerdictKind.Fail), Count(g, CaseVerdictKind.NeedsHuman), Count(g, CaseVerdictKind.Error))).ToList());

    private static int Count(IEnumerable<EvalResultRow> results, CaseVerdictKind verdict) => results.Count(r => EvalNames.ParseVerdict(r.Verdict) == verdict);
}
public sealed record EvalResultView(string CaseId, string Category, string Verdict, string? Reason, string? InteractionId, DateTimeOffset At);
public sealed record EvalRunDetail(EvalRunView Run, IReadOnlyList<EvalResultView> Results);

/// <summary>The evaluation routes: each binds the request, calls <see cref="EvalCommands"/> or <see cref="EvalQueries"/>, and answers.</summary>
public static class EvalEndpoints
{
    public static void MapEvals(this IEndpointRouteBuilder api)
    {
        api.MapPost("/systems/{slug}/evals", StartAsync).RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Start an evaluation run of a test set against the system's current config version");
        api.MapGet("/systems/{slug}/evals", (string slug, EvalQueries evals, CancellationToken ct) => evals.ListAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Evaluations")
            .WithSummary("Evaluation runs of a system, newest first");
        api.MapGet("/evals/{id:long}", (long id, HttpContext http, EvalQueries evals, CancellationToken ct) => evals.GetAsync(id, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsRead).WithTags("Evaluations")
            .WithSummary("One evaluation run with every case verdict");
        api.MapPost("/evals/{id:long}/results", (long id, EvalResultsRequest? request, HttpContext http, EvalCommands evals, CancellationToken ct) =>
                evals.RecordAsync(id, request, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Record case verdicts of a running evaluation (idempotent per case)");
        api.MapPost("/evals/{id:long}/finish", (long id, FinishEvalRequest? request, HttpContext http, EvalCommands evals, CancellationToken ct) =>
                evals.FinishAsync(id, request, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate).WithTags("Evaluations")
            .WithSummary("Finish a run: completed, or interrupted (results so far are kept)");
    }

    private static async Task<IResult> StartAsync(string slug, StartEvalRequest? request, HttpContext http, EvalCommands evals, CancellationToken ct)
    {
        var view = await evals.StartAsync(slug, request, Actor.From(http.User), ct);
        return Results.Created($"/api/v1/evals/{view.Id}", view);
    }
}
