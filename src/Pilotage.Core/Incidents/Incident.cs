using Pilotage.Core.Specs;

namespace Pilotage.Core.Incidents;

/// <summary>What was filed. Spelled in snake case on the wire: <c>incident</c>, <c>complaint</c>, <c>support_request</c>.</summary>
public enum IncidentKind
{
    /// <summary>Something went wrong: a harmful answer, a data leak, an outage that mattered.</summary>
    Incident,
    /// <summary>Raised by a person affected by the system.</summary>
    Complaint,
    /// <summary>A user needing help after launch: the support burden is evidence too.</summary>
    SupportRequest,
}

/// <summary>How bad it is; the metrics count incidents per severity (<c>incidents_high</c>…).</summary>
public enum IncidentSeverity
{
    Low,
    Medium,
    High,
    Critical,
}

/// <summary>Where the work on it stands: open → investigating → resolved → reviewed (closed).</summary>
public enum IncidentStatus
{
    Open,
    Investigating,
    Resolved,
    /// <summary>Closed after its post-incident review; nothing moves it any more.</summary>
    Reviewed,
}

/// <summary>The wire spelling of the incident enums, and parsing with messages that list what is allowed.</summary>
public static class IncidentNames
{
    public static string ToName(this IncidentKind kind) => SpecEnum.ToName(kind);
    public static string ToName(this IncidentSeverity severity) => SpecEnum.ToName(severity);
    public static string ToName(this IncidentStatus status) => SpecEnum.ToName(status);

    /// <summary>The kind as a person says it: "incident", "complaint", "support request".</summary>
    public static string Describe(this IncidentKind kind) => kind.ToName().Replace('_', ' ');

    /// <summary>Case-insensitive; surrounding spaces ignored; "support-request" is accepted for "support_request".</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum =>
        SpecEnum.TryParse(text?.Trim().ToLowerInvariant().Replace('-', '_'), out value);

    /// <summary>"one of low, medium, high, critical".</summary>
    public static string Choices<T>() where T : struct, Enum => "one of " + string.Join(", ", SpecEnum.Names<T>());

    /// <summary>High and critical incidents need a post-incident review note before they close.</summary>
    public static bool NeedsReview(this IncidentSeverity severity) => severity >= IncidentSeverity.High;
}

/// <summary>What the state machine needs to know about one incident.</summary>
/// <param name="Kind">Incident, complaint or support request: all follow the same statuses.</param>
/// <param name="Severity">Decides whether closing needs a review note.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="ReviewNote">The post-incident review note recorded so far, if any.</param>
public sealed record IncidentState(IncidentKind Kind, IncidentSeverity Severity, IncidentStatus Status, string? ReviewNote = null);

/// <summary>A request to move an incident to another status.</summary>
/// <param name="To">The status asked for.</param>
/// <param name="ReviewNote">A review note given with the move; it replaces the recorded one when not blank.</param>
public sealed record IncidentCommand(IncidentStatus To, string? ReviewNote = null);

/// <summary>The result of a move: the new state, or a refusal with a reason a person can act on.</summary>
public sealed record IncidentTransition(bool Allowed, IncidentState State, string? Reason)
{
    public static IncidentTransition To(IncidentState state) => new(true, state, null);
    public static IncidentTransition Refused(IncidentState state, string reason) => new(false, state, reason);
}
