using Pilotage.Core.Access;
using Pilotage.Server.Access;
using Pilotage.Server.Reports;

namespace Pilotage.Server.Readiness;

/// <param name="Answer">The person's answer or note; it fills a question the system cannot answer from its own state.</param>
public sealed record ReadinessAnswerRequest(string? Answer);

/// <summary>What the audit trail keeps of a person's answer (before and after).</summary>
public sealed record ReadinessAnswerRecord(string System, string QuestionId, string Answer, string AnsweredBy, DateTimeOffset AnsweredAt);

/// <summary>The readiness routes: reading goes to <see cref="EvidenceReportService"/>, answering to <see cref="ReadinessCommands"/>.</summary>
public static class ReadinessEndpoints
{
    public static void MapReadiness(this IEndpointRouteBuilder api)
    {
        var systems = api.MapGroup("/systems").WithTags("Readiness");
        systems.MapGet("/{slug}/readiness", (string slug, EvidenceReportService reports, CancellationToken ct) => reports.ReadinessAsync(slug, ct))
            .RequirePermission(Permission.SystemsRead)
            .WithSummary("The 20 readiness questions, each with its status (ok, warning, blocking, needs_answer), answer, figure and any person's answer");
        systems.MapPut("/{slug}/readiness/{questionId}", (string slug, string questionId, ReadinessAnswerRequest? request, HttpContext http, ReadinessCommands readiness, CancellationToken ct) =>
                readiness.AnswerAsync(slug, questionId, request?.Answer, Actor.From(http.User), ct))
            .RequirePermission(Permission.SystemsOperate)
            .WithSummary("Answer a readiness question (or add a note) as the system's owner or an admin");
    }
}
