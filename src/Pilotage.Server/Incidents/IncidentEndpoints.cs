using Microsoft.AspNetCore.Http.HttpResults;
using Pilotage.Core.Access;
using Pilotage.Server.Access;

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

/// <summary>The incident routes: each binds the request, calls <see cref="IncidentCommands"/> or <see cref="IncidentQueries"/>, and answers.</summary>
public static class IncidentEndpoints
{
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

    private static async Task<Created<IncidentView>> FileAsync(FileIncidentRequest? request, HttpContext http, IncidentCommands incidents, CancellationToken ct)
    {
        var view = await incidents.FileAsync(request, Actor.From(http.User), ct);
        return TypedResults.Created($"/api/v1/incidents/{view.Id}", view);
    }

    private static Task<IReadOnlyList<IncidentView>> ListAsync(string? system, string? status, string? kind, HttpContext http, IncidentQueries incidents, CancellationToken ct) =>
        incidents.ListAsync(system, status, kind, Actor.From(http.User), ct);

    private static Task<IncidentView> GetAsync(long id, HttpContext http, IncidentQueries incidents, CancellationToken ct) =>
        incidents.GetAsync(id, Actor.From(http.User), ct);

    private static Task<IncidentView> UpdateAsync(long id, UpdateIncidentRequest? request, HttpContext http, IncidentCommands incidents, CancellationToken ct) =>
        incidents.UpdateAsync(id, request, Actor.From(http.User), ct);
}
