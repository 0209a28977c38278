using System.Text;

namespace Pilotage.Server.Storage;

// Rows of the control-plane model. Mutable because EF Core materialises and tracks them; the domain
// works on the immutable Core records built from them.

public sealed class UserRow
{
    public long Id { get; set; }
    public required string Email { get; set; }
    public string? DisplayName { get; set; }
    /// <summary>The role in force: the one an admin gave, or the highest one the person's directory groups map to (People/DirectoryRoles).</summary>
    public required string Role { get; set; }
    /// <summary>The role an admin gave (users add / update); in force whenever no mapped directory group gives one. Null: the same as <see cref="Role"/>.</summary>
    public string? AssignedRole { get; set; }
    /// <summary>The identifier the SCIM client gave this person (SCIM <c>externalId</c>), if provisioned by one.</summary>
    public string? ExternalId { get; set; }
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public List<GroupMembershipRow> Memberships { get; set; } = [];
}

public sealed class GroupRow
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    /// <summary>The directory's name for the group when it differs from <see cref="Name"/> (SCIM <c>displayName</c>, "AI Reviewers").</summary>
    public string? DisplayName { get; set; }
    /// <summary>The identifier the SCIM client gave this group (SCIM <c>externalId</c>), if provisioned by one.</summary>
    public string? ExternalId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public List<GroupMembershipRow> Memberships { get; set; } = [];
}

public sealed class GroupMembershipRow
{
    public long UserId { get; set; }
    public long GroupId { get; set; }
    public UserRow? User { get; set; }
    public GroupRow? Group { get; set; }
}

public sealed class ApiKeyRow
{
    public required string Id { get; set; }
    public long UserId { get; set; }
    public UserRow? User { get; set; }
    public string? Name { get; set; }
    /// <summary>SHA-256 of the whole token; the token itself is shown once and never stored.</summary>
    public required byte[] SecretHash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A dashboard session (Dashboard/DashboardSessionStore.cs): the cookie names it; sign-out deletes it.</summary>
public sealed class DashboardSessionRow
{
    /// <summary>SHA-256 (hex) of the session id the cookie carries: a copy of the table holds no usable session.</summary>
    public required string Id { get; set; }
    /// <summary>The API key the person signed in with; revoking it ends the session.</summary>
    public required string KeyId { get; set; }
    public long UserId { get; set; }
    /// <summary>The authentication ticket (claims and properties), serialised by ASP.NET Core.</summary>
    public required byte[] Ticket { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Unix seconds, so that both stores compare it in SQL.</summary>
    public long ExpiresAt { get; set; }
}

public sealed class AiSystemRow
{
    public long Id { get; set; }
    public required string Slug { get; set; }
    public required string Title { get; set; }
    public required string Owner { get; set; }
    public required string Risk { get; set; }
    public required string Purpose { get; set; }
    public required string Phase { get; set; }
    public int Stage { get; set; }
    public string? LastDecision { get; set; }
    public string? SuspendedPhase { get; set; }
    public int SuspendedStage { get; set; }
    /// <summary>Paused while restricted: resuming returns to the restriction, not past it.</summary>
    public bool ResumeRestricted { get; set; }
    /// <summary>Canonical JSON of the applied spec (see SpecCanonicalJson).</summary>
    public required string SpecJson { get; set; }
    public required string SpecHash { get; set; }
    public int ConfigVersion { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>When the current phase began (pilot start, stage start): minimum durations count from here.</summary>
    public DateTimeOffset? PhaseSince { get; set; }
    public string? PausedBy { get; set; }
    public DateTimeOffset? PausedAt { get; set; }
    public string? PauseReason { get; set; }
    /// <summary>A pilot's end date as extended by a decision; null means the spec's <c>pilot.ends</c>.</summary>
    public DateOnly? PilotEndsOverride { get; set; }
    /// <summary>A proposed new owner: ownership moves only when that person accepts.</summary>
    public string? PendingOwner { get; set; }
    public string? HandoverRequestedBy { get; set; }
    public DateTimeOffset? HandoverRequestedAt { get; set; }
    public string? HandoverReason { get; set; }
    /// <summary>A legal hold: while set, no content of this system is purged (docs/change-control.md, "Retention").</summary>
    public string? LegalHoldBy { get; set; }
    public DateTimeOffset? LegalHoldAt { get; set; }
    public string? LegalHoldReason { get; set; }
}

/// <summary>One version of a system's model configuration (config + upstream), kept for comparison and rollback.</summary>
public sealed class ConfigVersionRow
{
    public long SystemId { get; set; }
    public int Version { get; set; }
    public required string ConfigJson { get; set; }
    public required string Hash { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string CreatedBy { get; set; }
}

public sealed class AuditEntryRow
{
    public long Sequence { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public required string Subject { get; set; }
    public string? Before { get; set; }
    public string? After { get; set; }
    public required string PreviousHash { get; set; }
    public required string Hash { get; set; }
}

/// <summary>
/// The last entry of the audit chain, updated with every append. Appenders lock this row, which
/// serialises them across replicas; verification compares it with the walk to catch a deleted tail.
/// </summary>
public sealed class AuditHeadRow
{
    public int Id { get; set; }
    public long Sequence { get; set; }
    public required string Hash { get; set; }
    /// <summary>Entries in the audit Merkle tree (docs/audit.md); behind <see cref="Sequence"/> only until start-up adds the missing leaves.</summary>
    public long TreeSize { get; set; }
    /// <summary>The tree's right edge (<see cref="Core.Audit.Merkle.MerkleFrontier"/>): its root without reading a node.</summary>
    public byte[] TreeFrontier { get; set; } = [];
}

/// <summary>A person confirmed they read a system's training text (required before use when the spec says so).</summary>
public sealed class TrainingAcknowledgementRow
{
    public long UserId { get; set; }
    public long SystemId { get; set; }
    /// <summary>SHA-256 of the training text acknowledged: a new text needs a new acknowledgement.</summary>
    public required string TextHash { get; set; }
    public DateTimeOffset AcknowledgedAt { get; set; }
}

/// <summary>A lifecycle decision by an accountable person: the move, the reason, and (later) the evidence it was made on.</summary>
public sealed class DecisionRow
{
    public long Id { get; set; }
    public long SystemId { get; set; }
    public required string Outcome { get; set; }
    public required string Reason { get; set; }
    public required string DecidedBy { get; set; }
    public DateTimeOffset DecidedAt { get; set; }
    public required string FromPhase { get; set; }
    public int FromStage { get; set; }
    public required string ToPhase { get; set; }
    public int ToStage { get; set; }
    /// <summary>Evidence report the decision was made on (JSON) and its SHA-256; filled once reports exist.</summary>
    public string? EvidenceJson { get; set; }
    public string? EvidenceHash { get; set; }
    public bool Override { get; set; }
    /// <summary>For a pilot extension: the new end date.</summary>
    public DateOnly? NewEndDate { get; set; }
}

/// <summary>
/// One request through the gateway, served or refused: the evidence everything else is computed from.
/// Written by the evidence writer in batches (raw SQL / binary COPY), never through the change tracker.
/// </summary>
public sealed class InteractionRow
{
    public required string Id { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string System { get; set; }
    public required string Phase { get; set; }
    public int Stage { get; set; }
    public int ConfigVersion { get; set; }
    public long UserId { get; set; }
    public required string UserEmail { get; set; }
    public required string KeyId { get; set; }
    /// <summary>JSON array of the caller's group names at the time.</summary>
    public required string Groups { get; set; }
    /// <summary><c>chat</c> or <c>embeddings</c>.</summary>
    public required string Endpoint { get; set; }
    public required string Mode { get; set; }
    /// <summary><c>served</c>, <c>refused</c>, <c>held</c> (approval), <c>shadowed</c>, <c>failed</c> (upstream fault).</summary>
    public required string Outcome { get; set; }
    public string? RefusalCode { get; set; }
    public string? RefusalReason { get; set; }
    /// <summary>JSON object detector → {count, action}; never the matched values.</summary>
    public string? DetectorHits { get; set; }
    public bool Streamed { get; set; }
    public int TokensIn { get; set; }
    public int TokensOut { get; set; }
    public decimal Cost { get; set; }
    public double? FirstByteMs { get; set; }
    public double TotalMs { get; set; }
    public int? UpstreamStatus { get; set; }
    public string? RequestHash { get; set; }
    public string? ResponseHash { get; set; }
    /// <summary>Raw content, kept or not according to the system's retention setting.</summary>
    public string? RequestContent { get => _request.Text; set => _request.Text = value; }
    public string? ResponseContent { get => _response.Text; set => _response.Text = value; }

    // The gateway's contents as the UTF-8 it sent and received: the SQLite sink binds these bytes as they are, so a
    // record written there makes no string of them (two bytes a character) only to encode it back. Read as text
    // (PostgreSQL, the spool, a test), they are decoded once. Not named after the properties, so that EF Core does not
    // take them for their backing fields.
    private RecordedContent _request;
    private RecordedContent _response;

    /// <summary>The request's content as UTF-8 when it was recorded as such and not read as text yet; else null.</summary>
    internal byte[]? RequestContentUtf8 => _request.Utf8;

    /// <summary>The answer's content as UTF-8 when it was recorded as such and not read as text yet; else null.</summary>
    internal byte[]? ResponseContentUtf8 => _response.Utf8;

    /// <summary>
    /// Records <paramref name="utf8"/> as the request's content when it is valid UTF-8 (it then decodes to exactly the text
    /// whose UTF-8 it is); anything else is kept as the text it decodes to, as before.
    /// </summary>
    internal void SetRequestContent(byte[] utf8) => _request.Set(utf8);

    /// <summary>As <see cref="SetRequestContent"/>, for the answer's content.</summary>
    internal void SetResponseContent(byte[] utf8) => _response.Set(utf8);

    /// <summary>One content: the text set, or the UTF-8 recorded, decoded to text once when read as text.</summary>
    private struct RecordedContent
    {
        private string? _text;
        private byte[]? _utf8;

        public string? Text
        {
            get => _text ??= _utf8 is { } utf8 ? Encoding.UTF8.GetString(utf8) : null;
            set => (_text, _utf8) = (value, null);
        }

        public readonly byte[]? Utf8 => _text is null ? _utf8 : null;

        public void Set(byte[] utf8)
        {
            if (global::System.Text.Unicode.Utf8.IsValid(utf8)) (_text, _utf8) = (null, utf8);
            else Text = Encoding.UTF8.GetString(utf8);
        }
    }

    public string? Error { get; set; }
    /// <summary>Case category when known (imported evidence, evaluation runs): normal, edge, unclear, missing_data, policy_boundary.</summary>
    public string? Category { get; set; }
    /// <summary>The evaluation run this request was a test case of; null for real traffic.</summary>
    public long? EvalRun { get; set; }
    public string? EvalCase { get; set; }
}

/// <summary>An answer held in approval mode until a reviewer releases or rejects it.</summary>
public sealed class ApprovalRow
{
    public required string InteractionId { get; set; }
    public required string System { get; set; }
    /// <summary><c>pending</c>, <c>released</c> or <c>rejected</c>.</summary>
    public required string State { get; set; }
    /// <summary>The upstream answer (OpenAI JSON), kept until decided whatever the retention setting.</summary>
    public required string HeldResponse { get; set; }
    public DateTimeOffset HeldAt { get; set; }
    public string? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? Reason { get; set; }
}

/// <summary>The current review of one interaction (a newer review replaces it; roll-ups follow).</summary>
public sealed class ReviewRow
{
    public required string InteractionId { get; set; }
    public required string System { get; set; }
    /// <summary><c>accepted</c>, <c>edited</c>, <c>rejected</c> or <c>escalated</c>.</summary>
    public required string Outcome { get; set; }
    public string? FinalText { get; set; }
    public string? Reason { get; set; }
    /// <summary>JSON array of tags such as <c>out_of_scope</c>, <c>factual_error</c>, <c>policy</c>.</summary>
    public string? Tags { get; set; }
    public string? EscalatedTo { get; set; }
    public required string Reviewer { get; set; }
    public double Seconds { get; set; }
    /// <summary>Normalised edit distance between the AI answer and the final text (edited only).</summary>
    public double? Rework { get; set; }
    public double ReworkSeconds { get; set; }
    public DateTimeOffset ReviewedAt { get; set; }
    /// <summary><c>app</c>, <c>reviewer</c> or <c>import</c>.</summary>
    public required string Source { get; set; }
}

/// <summary>An answer waiting for a person: drafts, approval-held answers, manual work to compare.</summary>
public sealed class ReviewItemRow
{
    public required string InteractionId { get; set; }
    public required string System { get; set; }
    /// <summary><c>draft</c>, <c>approval</c> or <c>manual</c>.</summary>
    public required string Kind { get; set; }
    /// <summary><c>pending</c> or <c>done</c>.</summary>
    public required string State { get; set; }
    public DateTimeOffset EnqueuedAt { get; set; }
    public DateTimeOffset? OpenedAt { get; set; }
    public string? OpenedBy { get; set; }
    public DateTimeOffset? DoneAt { get; set; }
}

/// <summary>
/// How many queue items of a system are pending, kept in the transaction that enqueues or settles them: enqueued
/// items per batch by the code that enqueues them (Evidence/Rollups.cs), every later change by triggers on
/// <c>review_items</c> (Storage/RawSchema.cs), so the metrics read one row instead of counting the queue.
/// </summary>
public sealed class ReviewBacklogRow
{
    public required string System { get; set; }
    public long Pending { get; set; }
}

public sealed class FeedbackRow
{
    public required string InteractionId { get; set; }
    public long UserId { get; set; }
    public required string System { get; set; }
    public int Rating { get; set; }
    public string? Comment { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>Minutes a person spent on the task an interaction served (handling time).</summary>
public sealed class TaskTimeRow
{
    public required string InteractionId { get; set; }
    public required string System { get; set; }
    public double Minutes { get; set; }
    public long UserId { get; set; }
    public DateTimeOffset At { get; set; }
}

public sealed class IncidentRow
{
    public long Id { get; set; }
    public required string System { get; set; }
    /// <summary><c>incident</c>, <c>complaint</c> or <c>support_request</c>.</summary>
    public required string Kind { get; set; }
    /// <summary><c>low</c>, <c>medium</c>, <c>high</c> or <c>critical</c>.</summary>
    public required string Severity { get; set; }
    public required string Title { get; set; }
    public string? Description { get; set; }
    /// <summary><c>open</c> → <c>investigating</c> → <c>resolved</c> → <c>reviewed</c>.</summary>
    public required string Status { get; set; }
    public string? AssignedTo { get; set; }
    public required string ReportedBy { get; set; }
    public DateTimeOffset ReportedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? ResolvedAt { get; set; }
    public string? ReviewNote { get; set; }
    /// <summary>JSON array of linked interaction ids.</summary>
    public string? Interactions { get; set; }
}

/// <summary>
/// Additive evidence counters per system, lifecycle position, config version, UTC hour and kind
/// (<c>ai</c> or <c>manual</c>): what reports and criteria read instead of raw interactions.
/// Updated in the same transaction as the evidence they count.
/// </summary>
public sealed class RollupRow
{
    public required string System { get; set; }
    public required string Phase { get; set; }
    public int Stage { get; set; }
    public int ConfigVersion { get; set; }
    /// <summary>Hours since the Unix epoch (UTC).</summary>
    public long Hour { get; set; }
    public required string Kind { get; set; }
    public long Requests { get; set; }
    public long Served { get; set; }
    public long Refused { get; set; }
    public long Failed { get; set; }
    public long Held { get; set; }
    public long Shadowed { get; set; }
    public long Blocked { get; set; }
    public long Redacted { get; set; }
    public long TokensIn { get; set; }
    public long TokensOut { get; set; }
    /// <summary>Model cost in billionths of the currency unit: integer sums stay exact on both stores.</summary>
    public long CostNanos { get; set; }
    public double LatencyMsSum { get; set; }
    public long Reviewed { get; set; }
    public long Accepted { get; set; }
    public long Edited { get; set; }
    public long Rejected { get; set; }
    public long Escalated { get; set; }
    public long OutOfScope { get; set; }
    public double ReviewSeconds { get; set; }
    public double ReworkSum { get; set; }
    public double ReworkSeconds { get; set; }
    public long FeedbackCount { get; set; }
    public long FeedbackSum { get; set; }
    public long TaskCount { get; set; }
    public double TaskMinutes { get; set; }
}

/// <summary>Latency histogram counts per roll-up key and bucket (see LatencyHistogram).</summary>
public sealed class RollupLatencyRow
{
    public required string System { get; set; }
    public required string Phase { get; set; }
    public int Stage { get; set; }
    public int ConfigVersion { get; set; }
    public long Hour { get; set; }
    public required string Kind { get; set; }
    public int Bucket { get; set; }
    public long Count { get; set; }
}

/// <summary>
/// Refused and failed requests per system, UTC hour, kind (ai, eval, manual), outcome and code: the roll-up
/// behind "refusals by reason" and "upstream failures by reason" (the report and the attention items), so
/// no page reads raw interactions for them.
/// </summary>
public sealed class RollupCodeRow
{
    public required string System { get; set; }
    /// <summary>Hours since the Unix epoch (UTC).</summary>
    public long Hour { get; set; }
    public required string Kind { get; set; }
    /// <summary><c>refused</c> or <c>failed</c>.</summary>
    public required string Outcome { get; set; }
    /// <summary>The refusal or failure code (<c>not_in_allowed_group</c>, <c>upstream_timeout</c>…); <c>unspecified</c> when none was recorded.</summary>
    public required string Code { get; set; }
    public long Count { get; set; }
}

/// <summary>Who used a system on a UTC day: adoption is active users over eligible users.</summary>
public sealed class ActiveUserRow
{
    public required string System { get; set; }
    /// <summary>Days since the Unix epoch (UTC).</summary>
    public int Day { get; set; }
    public long UserId { get; set; }
}

/// <summary>One run of a test set through the gateway, for one config version of a system.</summary>
public sealed class EvalRunRow
{
    public long Id { get; set; }
    public required string System { get; set; }
    public int ConfigVersion { get; set; }
    public required string TestSet { get; set; }
    /// <summary>SHA-256 of the test set file: the same file gives comparable runs.</summary>
    public required string TestSetHash { get; set; }
    public required string StartedBy { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary><c>running</c>, <c>completed</c> or <c>interrupted</c> (Ctrl-C keeps the results so far).</summary>
    public required string Status { get; set; }
    public int Cases { get; set; }
    /// <summary>The change request whose candidate configuration this run evaluated; null for the configuration in force.</summary>
    public long? ChangeRequest { get; set; }
}

/// <summary>
/// A proposed config or upstream change of a system past its pilot: kept with its diff and the whole
/// candidate spec until someone other than the requester (for high risk) approves it and it is applied.
/// </summary>
public sealed class ChangeRequestRow
{
    public long Id { get; set; }
    public required string System { get; set; }
    /// <summary><c>open</c>, <c>approved</c>, <c>rejected</c>, <c>applied</c> or <c>withdrawn</c>.</summary>
    public required string Status { get; set; }
    public required string RequestedBy { get; set; }
    public DateTimeOffset RequestedAt { get; set; }
    /// <summary>The config version in force when the change was requested (what the diff is against).</summary>
    public int BaseVersion { get; set; }
    /// <summary>Canonical JSON of the whole candidate spec.</summary>
    public required string SpecJson { get; set; }
    public required string SpecHash { get; set; }
    /// <summary>JSON array of field changes (path, before, after).</summary>
    public required string Diff { get; set; }
    public string? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
    public string? DecisionReason { get; set; }
    public string? AppliedBy { get; set; }
    public DateTimeOffset? AppliedAt { get; set; }
    /// <summary>The config version the change became.</summary>
    public int? AppliedVersion { get; set; }
    /// <summary>The last regression gate check (JSON: runs, pass rates, allowed drop, verdict).</summary>
    public string? Gate { get; set; }
}

/// <summary>The verdict on one case of a run.</summary>
public sealed class EvalResultRow
{
    public long RunId { get; set; }
    public required string CaseId { get; set; }
    public required string Category { get; set; }
    /// <summary><c>pass</c>, <c>fail</c>, <c>needs_human</c> or <c>error</c>.</summary>
    public required string Verdict { get; set; }
    public string? Reason { get; set; }
    public string? InteractionId { get; set; }
    public DateTimeOffset At { get; set; }
}

/// <summary>A person's answer to a readiness question that the system's own state cannot answer.</summary>
public sealed class ReadinessAnswerRow
{
    public required string System { get; set; }
    public required string QuestionId { get; set; }
    public required string Answer { get; set; }
    public required string AnsweredBy { get; set; }
    public DateTimeOffset AnsweredAt { get; set; }
}

/// <summary>A webhook notification and its delivery attempts (visible to operators).</summary>
public sealed class WebhookDeliveryRow
{
    public long Id { get; set; }
    public required string Event { get; set; }
    public required string Url { get; set; }
    public required string Payload { get; set; }
    /// <summary><c>pending</c>, <c>delivered</c> or <c>failed</c> (gave up after the last retry).</summary>
    public required string Status { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
}
