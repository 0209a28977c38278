using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Incidents;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

using static Pilotage.Server.Incidents.IncidentRules;

namespace Pilotage.Server.Incidents;

/// <summary>
/// Incidents, complaints and support requests: the people who use a system, its reviewers, its owner and
/// admins may file one against it (<see cref="SystemAccess.MayFileIncident"/>); the system's owner, an
/// admin or the assigned person works it through <see cref="IncidentMachine"/>.
/// They are accountability records, so filing and every change is a command with its audit entry.
/// </summary>
public sealed class IncidentCommands(ControlPlane control)
{
    /// <summary>Files an incident against a system the person uses, reviews or owns.</summary>
    public async Task<IncidentView> FileAsync(FileIncidentRequest? request, Actor actor, CancellationToken ct)
    {
        var slug = request?.System?.Trim() ?? "";
        if (slug.Length == 0) throw Problems.BadRequest("name the system it concerns: \"system\": \"<slug>\" ('pilotage status' lists them)");
        var kind = Parse<IncidentKind>(request?.Kind, "kind");
        var severity = Parse<IncidentSeverity>(request?.Severity, "severity");
        var title = request?.Title?.Trim() ?? "";
        if (title.Length == 0) throw Problems.BadRequest("a title is required: one line that says what happened");
        if (title.Length > MaxTitle) throw Problems.BadRequest($"the title is longer than {MaxTitle} characters; put the details in the description");
        var description = string.IsNullOrWhiteSpace(request?.Description) ? null : request.Description.Trim();
        if (description?.Length > MaxText) throw Problems.BadRequest($"the description is longer than {MaxText} characters");
        var ids = (request?.Interactions ?? []).Select(i => i?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        if (ids.Any(i => i.Length is 0 or > 100)) throw Problems.BadRequest("an interaction id is empty or too long; use the x-pilotage-interaction-id of the answer");
        if (ids.Count > MaxInteractions) throw Problems.BadRequest($"link at most {MaxInteractions} interactions; pick the ones that show the problem");

        var view = await control.ExecuteAsync(actor.Email, async command =>
        {
            var system = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
                ?? throw SystemScope.NoSystem(slug);
            EnsureMayFile(actor, system);
            var boundary = EvidenceBoundary.PolicyOf(system);
            title = EvidenceBoundary.Apply(boundary, title, "title", slug)!;
            description = EvidenceBoundary.Apply(boundary, description, "description", slug);
            if (ids.Count > 0)
            {
                var found = await command.Db.Interactions.AsNoTracking().Where(i => ids.Contains(i.Id))
                    .Select(i => new { i.Id, i.System }).ToListAsync(ct);
                var unknown = ids.Where(id => found.All(f => f.Id != id)).ToArray();
                if (unknown.Length > 0)
                {
                    throw new CommandRefusedException(StatusCodes.Status404NotFound, "Unknown interactions",
                        $"no interaction {string.Join(", ", unknown)}; link the x-pilotage-interaction-id of answers of '{slug}'",
                        new Dictionary<string, object?> { ["unknown"] = unknown });
                }
                var foreign = found.Where(f => f.System != slug).OrderBy(f => f.Id, StringComparer.Ordinal).ToArray();
                if (foreign.Length > 0)
                {
                    // Which system they belong to is not said: it may be one the filer may not see.
                    throw new CommandRefusedException(StatusCodes.Status400BadRequest, "Interactions of another system",
                        $"{string.Join(", ", foreign.Select(f => f.Id))} {(foreign.Length == 1 ? "is not an interaction" : "are not interactions")} of '{slug}'; file the incident against the system that answered, or leave {(foreign.Length == 1 ? "it" : "them")} out",
                        new Dictionary<string, object?> { ["foreign"] = foreign.Select(f => f.Id).ToArray() });
                }
            }
            var row = new IncidentRow
            {
                System = slug,
                Kind = kind.ToName(),
                Severity = severity.ToName(),
                Title = title,
                Description = description,
                Status = IncidentStatus.Open.ToName(),
                ReportedBy = actor.Email,
                ReportedAt = command.Now,
                UpdatedAt = command.Now,
                Interactions = JsonSerializer.Serialize<IReadOnlyList<string>>(ids, ApiJsonContext.Default.IReadOnlyListString),
            };
            command.Db.Incidents.Add(row);
            await command.Db.SaveChangesAsync(ct);
            var filed = ToView(row);
            command.Audit("incident.filed", Subject(row), null, JsonSerializer.Serialize(filed, IncidentsApiJsonContext.Default.IncidentView));
            if (severity.NeedsReview()) Escalate(command, row, system.Owner);
            return filed;
        }, ct);
        return view;
    }

    /// <summary>
    /// Only the people a system concerns file against it: an incident can pause it (pause rules). To someone
    /// who may not even read it, the system does not exist.
    /// </summary>
    private static void EnsureMayFile(Actor actor, AiSystemRow system)
    {
        var spec = Pilotage.Core.Specs.SpecCanonicalJson.Deserialize(system.SpecJson);
        if (SystemAccess.MayFileIncident(actor.Person, spec, Systems.SystemLifecycleMapping.Lifecycle(system))) return;
        if (!SystemScope.MayRead(actor.Person, system)) throw SystemScope.NoSystem(system.Slug);
        throw Problems.Forbidden($"{actor.Email} does not use '{system.Slug}': incidents against it are filed by the people in the groups it serves now, " +
            "its reviewers, its owner and admins (a filing can pause it). Ask one of them to file it, or its owner to add you to a group it serves.");
    }

    /// <summary>Moves its status, assigns it, notes its review or changes its severity (the owner, an admin or the person assigned).</summary>
    public async Task<IncidentView> UpdateAsync(long id, UpdateIncidentRequest? request, Actor actor, CancellationToken ct)
    {
        if (request is null || (request.Status is null && request.AssignedTo is null && request.ReviewNote is null && request.Severity is null))
        {
            throw Problems.BadRequest("nothing to change: send one or more of status, assignedTo, reviewNote, severity");
        }
        IncidentStatus? status = request.Status is null ? null : Parse<IncidentStatus>(request.Status, "status");
        IncidentSeverity? severity = request.Severity is null ? null : Parse<IncidentSeverity>(request.Severity, "severity");
        var note = string.IsNullOrWhiteSpace(request.ReviewNote) ? null : request.ReviewNote.Trim();
        if (request.ReviewNote is not null && note is null) throw Problems.BadRequest("the review note is empty; say what happened, why, and what changes so it does not happen again");
        if (note?.Length > MaxText) throw Problems.BadRequest($"the review note is longer than {MaxText} characters");

        return await control.ExecuteAsync(actor.Email, async command =>
        {
            var row = await command.Db.Incidents.SingleOrDefaultAsync(i => i.Id == id, ct) ?? throw NotFound(id);
            var systemRow = await command.Db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == row.System, ct);
            var owner = systemRow?.Owner;
            var accountable = actor.Role == Role.Admin || Is(owner, actor.Email);
            if (!accountable && !Visible(row, actor, systemRow is not null && SystemScope.MayRead(actor.Person, systemRow))) throw NotFound(id);
            if (!accountable && !Is(row.AssignedTo, actor.Email))
            {
                throw Problems.Forbidden($"incident {id} is worked by the owner of '{row.System}' ({owner ?? "none"}), an admin, or the person assigned ({row.AssignedTo ?? "nobody yet"}); ask one of them");
            }
            var state = StateOf(row);
            if (state.Status == IncidentStatus.Reviewed)
            {
                // A closed record no longer changes; the machine explains a move out of it.
                var reason = status is { } s && s != IncidentStatus.Reviewed
                    ? IncidentMachine.Apply(state, new IncidentCommand(s)).Reason!
                    : $"incident {id} is closed (reviewed) and its record no longer changes; if the problem came back, file a new one";
                throw new CommandRefusedException(StatusCodes.Status409Conflict, "Incident closed", reason);
            }

            if (severity is { } newSeverity && newSeverity.ToName() != row.Severity)
            {
                if (!accountable) throw Problems.Forbidden($"only the owner of '{row.System}' ({owner ?? "none"}) or an admin may change the severity of incident {id}");
                var before = row.Severity;
                row.Severity = newSeverity.ToName();
                command.Audit("incident.severity_changed", Subject(row), Field("severity", before), Field("severity", row.Severity));
                if (newSeverity.NeedsReview() && !state.Severity.NeedsReview()) Escalate(command, row, owner);
            }
            if (request.AssignedTo is not null)
            {
                if (!accountable) throw Problems.Forbidden($"only the owner of '{row.System}' ({owner ?? "none"}) or an admin may assign incident {id}");
                var assignee = await AssigneeAsync(command, request.AssignedTo, ct);
                if (!string.Equals(assignee, row.AssignedTo, StringComparison.OrdinalIgnoreCase))
                {
                    var before = row.AssignedTo;
                    row.AssignedTo = assignee;
                    command.Audit("incident.assigned", Subject(row), Field("assignedTo", before), Field("assignedTo", assignee));
                }
            }
            note = EvidenceBoundary.Apply(EvidenceBoundary.PolicyOf(systemRow), note, "reviewNote", row.System);
            if (note is not null && note != row.ReviewNote)
            {
                var before = row.ReviewNote;
                row.ReviewNote = note;
                command.Audit("incident.review_noted", Subject(row), Field("reviewNote", before), Field("reviewNote", note));
            }
            if (status is { } to && to.ToName() != row.Status)
            {
                var transition = IncidentMachine.Apply(StateOf(row), new IncidentCommand(to));
                if (!transition.Allowed) throw new CommandRefusedException(StatusCodes.Status409Conflict, "Status change refused", transition.Reason!);
                var before = row.Status;
                row.Status = to.ToName();
                if (to == IncidentStatus.Resolved) row.ResolvedAt = command.Now;
                if (to == IncidentStatus.Investigating) row.ResolvedAt = null;
                var action = before == IncidentStatus.Resolved.ToName() && to == IncidentStatus.Investigating ? "reopened" : row.Status;
                command.Audit($"incident.{action}", Subject(row), Field("status", before), Field("status", row.Status));
            }
            row.UpdatedAt = command.Now;
            return ToView(row);
        }, ct);
    }

    /// <summary>
    /// A high or critical incident is the owner's to know about at once: the audit entry names them,
    /// on the system's own trail. Outbound notifications (webhooks) arrive with the rollout issue and
    /// will be sent from this same point.
    /// </summary>
    private static void Escalate(CommandContext command, IncidentRow row, string? owner)
    {
        var after = new JsonObject
        {
            ["incident"] = row.Id,
            ["kind"] = row.Kind,
            ["severity"] = row.Severity,
            ["title"] = row.Title,
            ["owner"] = owner,
        };
        command.Audit("incident.escalated", $"system:{row.System}", null, after.ToJsonString());
    }

    private static async Task<string?> AssigneeAsync(CommandContext command, string text, CancellationToken ct)
    {
        var email = text.Trim().ToLowerInvariant();
        if (email.Length == 0) return null;
        var user = await command.Db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Email == email, ct)
            ?? throw Problems.NotFound($"no user {email} to assign; add them with 'pilotage users add {email}'");
        if (!user.Active) throw Problems.BadRequest($"{email} is deactivated; assign someone who can work on it");
        return user.Email;
    }

}
