using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.Access;
using Pilotage.Core.Incidents;
using Pilotage.Server.Access;
using Pilotage.Server.Api;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Incidents;

/// <summary>The incident rules the commands and queries share: limits, names, who sees one, and the row as a view.</summary>
internal static class IncidentRules
{
    public const int MaxTitle = 200;
    public const int MaxText = 10_000;
    public const int MaxInteractions = 100;
    public const int MaxListed = 500;

    /// <summary>Its reporter, the person assigned, and the roles that read incidents for a system they may read.</summary>
    internal static bool Visible(IncidentRow row, Actor actor, bool systemReadable) =>
        Is(row.ReportedBy, actor.Email) || Is(row.AssignedTo, actor.Email) || (actor.Can(Permission.IncidentsReadAll) && systemReadable);

    internal static T Parse<T>(string? text, string field) where T : struct, Enum =>
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

    internal static string Subject(IncidentRow row) => $"incident:{row.Id}";

    internal static string Field(string name, string? value) => new JsonObject { [name] = value }.ToJsonString();

    internal static bool Is(string? a, string? b) => a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    internal static CommandRefusedException NotFound(long id) => Problems.NotFound($"no incident {id}; 'GET /api/v1/incidents' lists the ones you may see");

    internal static IncidentView ToView(IncidentRow row) => new(
        row.Id, row.System, row.Kind, row.Severity, row.Title, row.Description, row.Status, row.AssignedTo, row.ReportedBy,
        row.ReportedAt, row.UpdatedAt, row.ResolvedAt, row.ReviewNote,
        string.IsNullOrEmpty(row.Interactions) ? [] : JsonSerializer.Deserialize(row.Interactions, ApiJsonContext.Default.IReadOnlyListString) ?? []);
}
