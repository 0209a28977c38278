using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Pilots;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Reports;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Readiness;

/// <summary>
/// The seed's twenty readiness questions of a system are answered from its own state and people's answers; the
/// owner or an admin answers one here. An answer is a recorded statement by an accountable person, so it is a
/// control-plane command with the audit entry <c>readiness.answered</c>.
/// </summary>
public sealed class ReadinessCommands(ControlPlane control, EvidenceReportService reports)
{
    public const int MaxAnswer = 4000;

    /// <summary>Records the person's answer to one question (or replaces theirs) and returns the question as now answered.</summary>
    public async Task<ReportReadinessAnswer> AnswerAsync(string slug, string questionId, string? text, Actor actor, CancellationToken ct)
    {
        if (ReadinessQuestions.Find(questionId) is null)
        {
            throw Problems.NotFound($"no readiness question '{questionId}'; the questions are {string.Join(", ", ReadinessQuestions.All.Select(q => q.Id))}");
        }
        var answer = text?.Trim() ?? "";
        if (answer.Length == 0) throw Problems.BadRequest("send the answer: {\"answer\": \"…\"}");
        if (answer.Length > MaxAnswer) throw Problems.BadRequest($"the answer is longer than {MaxAnswer} characters");

        await control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
            if (actor.Role != Role.Admin && !string.Equals(system.Owner, actor.Email, StringComparison.OrdinalIgnoreCase))
            {
                throw Problems.Forbidden($"'{slug}' is owned by {system.Owner}; only its owner or an admin may answer its readiness questions");
            }
            var row = await command.Db.ReadinessAnswers.SingleOrDefaultAsync(a => a.System == slug && a.QuestionId == questionId, ct);
            var before = row is null ? null : Serialize(row);
            if (row is null)
            {
                row = new ReadinessAnswerRow { System = slug, QuestionId = questionId, Answer = answer, AnsweredBy = actor.Email, AnsweredAt = command.Now };
                command.Db.ReadinessAnswers.Add(row);
            }
            else
            {
                row.Answer = answer;
                row.AnsweredBy = actor.Email;
                row.AnsweredAt = command.Now;
            }
            await command.Db.SaveChangesAsync(ct);
            command.Audit("readiness.answered", $"system:{slug}", before, Serialize(row));
            return true;
        }, ct);

        var readiness = await reports.ReadinessAsync(slug, ct);
        return readiness.Questions.Single(q => q.Id == questionId);
    }

    private static string Serialize(ReadinessAnswerRow row) => JsonSerializer.Serialize(
        new ReadinessAnswerRecord(row.System, row.QuestionId, row.Answer, row.AnsweredBy, row.AnsweredAt), ReadinessApiJsonContext.Default.ReadinessAnswerRecord);
}
