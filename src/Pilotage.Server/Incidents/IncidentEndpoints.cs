using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Incidents;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Incidents;

/// <param name="System">The slug of the system it concerns.</param>
/// <param name="Kind">incident, complaint or support_request.</param>
/// <param name="Severity">low, medium, high or critical.</param>
/// <param name="Interactions">Ids of interactions of that system that show the problem (x-pilotage-interaction-id).</param>
public sealed record FileIncidentRequest(string? System, string? Kind, string? Severity, string? Title, string? Description, IReadOnlyList<string>? Interactions);

/// <summary>Only the fields given change.</summary>
/// <param name="Status">open, investigating, resolved or reviewed (closed).</param>
/// <param name="AssignedTo">The e-mail of the person who works on it; an empty string unassigns.</param>
/// <param name="ReviewNote">The post-incident review; required to close a high or critical one.</param>
/// <param name="Severity">low, medium, high or critical (the system's owner or an admin).</param>
public sealed record UpdateIncidentRequest(string? Status, string? AssignedTo, string? ReviewNote, string? Severity);

public sealed record IncidentView(long Id, string System, string Kind, string Severity, string Title, string? Description, string Status,
    string? AssignedTo, string ReportedBy, DateTimeOffset ReportedAt, DateTimeOffset UpdatedAt, DateTimeOffset? ResolvedAt, string? ReviewNote,
    IReadOnlyList<string> Interactions);

/// <summary>
/// Incidents, complaints and support requests: the people who use a system, its reviewers, its owner and
/// admins may file one against it (<see cref="SystemAccess.MayFileIncident"/>); the system's owner, an
/// admin or the assigned person works it through <see cref="IncidentMachine"/>.
/// They are accountability records, so filing and every change is a command with its audit entry.
/// </summary>
public static class IncidentEndpoints
{
    public const int MaxTitle = 200;
    public const int MaxText = 10_000;
    public const int MaxInteractions = 100;
    public const int MaxListed = 500;

    public static void MapIncidents(this IEndpointRouteBuilder api)
    {
        var incidents = api.MapGroup("/incidents").WithTags("Incidents");
        incidents.MapPost("/", FileAsync).RequirePermission(Permission.Self)
            .WithSummary("File an incident, complaint or support request against a system you use, review or own");
        incidents.MapGet("/", ListAsync).RequirePermission(Permission.Self)
            .WithSummary("Incidents, newest first (filter by system, status, kind): those of the systems you may see, and the ones you filed or are assigned");
        incidents.MapGet("/{id:long}", GetAsync).RequirePermission(Permission.Self)
            .WithSummary("One incident of a system you may see, or one you filed or are assigned");
        incidents.MapPatch("/{id:long}", UpdateAsync).RequirePermission(Permission.Self)
            .WithSummary("Move an incident's status, assign it, add the review note or change its severity (the system's owner, an admin or the assigned person)");
    }

    private static async Task<Created<IncidentView>> FileAsync(FileIncidentRequest? request, HttpContext http, ControlPlane control, CancellationToken ct)
    {
        var view = await FileIncidentAsync(request, Actor.From(http.User), control, ct);
        return TypedResults.Created($"/api/v1/incidents/{view.Id}", view);
    }

    /// <summary>Filing itself, for the API and the dashboard's form alike.</summary>
    internal static async Task<IncidentView> FileIncidentAsync(FileIncidentRequest? request, Actor actor, ControlPlane control, CancellationToken ct)
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
            var boundary = Evidence.EvidenceBoundary.PolicyOf(system);
            title = Evidence.EvidenceBoundary.Apply(boundary, title, "title", slug)!;
            description = Evidence.EvidenceBoundary.Apply(boundary, description, "description", slug);
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
            command.Audit("incident.filed", Subject(row), null, JsonSerializer.Serialize(filed, ApiJsonContext.Default.IncidentView));
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
        if (SystemAccess.MayFileIncident(actor.Person, spec, Systems.LifecycleEndpoints.StateOf(system))) return;
        if (!SystemScope.MayRead(actor.Person, system)) throw SystemScope.NoSystem(system.Slug);
        throw Problems.Forbidden($"{actor.Email} does not use '{system.Slug}': incidents against it are filed by the people in the groups it serves now, " +
            "its reviewers, its owner and admins (a filing can pause it). Ask one of them to file it, or its owner to add you to a group it serves.");
    }

    private static Task<IReadOnlyList<IncidentView>> ListAsync(string? system, string? status, string? kind, HttpContext http, SystemScope scope, PilotageStore store, CancellationToken ct) =>
        ListIncidentsAsync(system, status, kind, Actor.From(http.User), scope, store, ct);

    /// <summary>The incidents a person may see, newest first: for the API and the dashboard alike.</summary>
    internal static async Task<IReadOnlyList<IncidentView>> ListIncidentsAsync(string? system, string? status, string? kind, Actor actor, SystemScope scope, PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var query = db.Incidents.AsNoTracking().AsQueryable();
        if (!string.IsNullOrWhiteSpace(system)) query = query.Where(i => i.System == system.Trim());
        if (!string.IsNullOrWhiteSpace(status))
        {
            var name = Parse<IncidentStatus>(status, "status").ToName();
            query = query.Where(i => i.Status == name);
        }
        if (!string.IsNullOrWhiteSpace(kind))
        {
            var name = Parse<IncidentKind>(kind, "kind").ToName();
            query = query.Where(i => i.Kind == name);
        }
        // Everyone sees what they filed and what they were asked to work on; the roles that read incidents
        // see those of the systems they may read (admins and auditors: every system).
        var readable = actor.Can(Permission.IncidentsReadAll) ? scope.Restriction(actor.Person)?.ToList() : [];
        if (readable is not null)
        {
            query = query.Where(i => i.ReportedBy == actor.Email || i.AssignedTo == actor.Email || readable.Contains(i.System));
        }
        var rows = await query.OrderByDescending(i => i.Id).Take(MaxListed).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    private static Task<IncidentView> GetAsync(long id, HttpContext http, SystemScope scope, PilotageStore store, CancellationToken ct) =>
        GetIncidentAsync(id, Actor.From(http.User), scope, store, ct);

    internal static async Task<IncidentView> GetIncidentAsync(long id, Actor actor, SystemScope scope, PilotageStore store, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var row = await db.Incidents.AsNoTracking().SingleOrDefaultAsync(i => i.Id == id, ct);
        // One the caller may not see answers like one that does not exist.
        if (row is null || !Visible(row, actor, scope.MayRead(actor.Person, row.System))) throw NotFound(id);
        return ToView(row);
    }

    /// <summary>Its reporter, the person assigned, and the roles that read incidents for a system they may read.</summary>
    private static bool Visible(IncidentRow row, Actor actor, bool systemReadable) =>
        Is(row.ReportedBy, actor.Email) || Is(row.AssignedTo, actor.Email) || (actor.Can(Permission.IncidentsReadAll) && systemReadable);

    private static Task<IncidentView> UpdateAsync(long id, UpdateIncidentRequest? request, HttpContext http, ControlPlane control, CancellationToken ct) =>
        UpdateIncidentAsync(id, request, Actor.From(http.User), control, ct);

    internal static async Task<IncidentView> UpdateIncidentAsync(long id, UpdateIncidentRequest? request, Actor actor, ControlPlane control, CancellationToken ct)
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
            note = Evidence.EvidenceBoundary.Apply(Evidence.EvidenceBoundary.PolicyOf(systemRow), note, "reviewNote", row.System);
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

    private static T Parse<T>(string? text, string field) where T : struct, Enum =>
        IncidentNames.TryParse<T>(text, out var value)
            ? value
            : throw Problems.BadRequest(string.IsNullOrWhiteSpace(text)
                ? $"{field} is required: {IncidentNames.Choices<T>()}"
                : $"unknown {field} '{text}'; use {IncidentNames.Choices<T>()}");

    internal static IncidentState StateOf(IncidentRow row) => new(
        IncidentNames.TryParse<IncidentKind>(row.Kind, out var kind) ? kind : IncidentKind.Incident,
        // An unreadable severity is treated as the most severe: closing then asks for the review.
        IncidentNames.TryParse<IncidentSeverity>(row.Severity, out var severity) ? severity : IncidentSeverity.Critical,
        IncidentNames.TryParse<IncidentStatus>(row.Status, out var status) ? status : IncidentStatus.Open,
        row.ReviewNote);

    private static string Subject(IncidentRow row) => $"incident:{row.Id}";

    private static string Field(string name, string? value) => new JsonObject { [name] = value }.ToJsonString();

    private static bool Is(string? a, string? b) => a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static CommandRefusedException NotFound(long id) => Problems.NotFound($"no incident {id}; 'GET /api/v1/incidents' lists the ones you may see");

    private static IncidentView ToView(IncidentRow row) => new(
        row.Id, row.System, row.Kind, row.Severity, row.Title, row.Description, row.Status, row.AssignedTo, row.ReportedBy,
        row.ReportedAt, row.UpdatedAt, row.ResolvedAt, row.ReviewNote,
        string.IsNullOrEmpty(row.Interactions) ? [] : JsonSerializer.Deserialize(row.Interactions, ApiJsonContext.Default.IReadOnlyListString) ?? []);
}
