using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Reviews;

// One set of records serves both surfaces: the gateway's evidence endpoints serialise them in
// snake_case (ReviewsJsonContext, like the OpenAI API), the control API in camelCase (ReviewsApiJsonContext).

/// <summary>A review of one AI answer (or piece of manual work). Missing numbers are measured or kept, see <see cref="ReviewService"/>.</summary>
public sealed record ReviewRequest(
    string? Outcome,
    string? FinalText = null,
    double? Seconds = null,
    double? ReworkSeconds = null,
    string? Reason = null,
    IReadOnlyList<string>? Tags = null,
    string? EscalatedTo = null);

public sealed record FeedbackRequest(int? Rating, string? Comment = null);

public sealed record TaskRequest(double? Minutes);

/// <summary>Work done without AI: <c>model</c> names the system it is compared with.</summary>
public sealed record ManualTaskRequest(string? Model, double? Minutes, string? Prompt = null, string? Answer = null);

/// <summary>The current review of an interaction, as stored.</summary>
public sealed record ReviewView(
    string InteractionId,
    string System,
    string Outcome,
    string? FinalText,
    string? Reason,
    IReadOnlyList<string> Tags,
    string? EscalatedTo,
    string Reviewer,
    double Seconds,
    double? Rework,
    double ReworkSeconds,
    DateTimeOffset ReviewedAt,
    string Source);

/// <summary>
/// What a review submission did: <c>recorded</c> (first review), <c>replaced</c> (a newer review
/// replaced the previous one; roll-ups follow) or <c>unchanged</c> (an identical re-submission).
/// <c>Approval</c> is the held answer's state afterwards, for answers held in approval mode.
/// </summary>
public sealed record ReviewReceipt(string Status, ReviewView Review, string? Approval);

public sealed record FeedbackView(string InteractionId, long UserId, int Rating, string? Comment, DateTimeOffset At);

public sealed record FeedbackReceipt(string Status, FeedbackView Feedback);

public sealed record TaskTimeView(string InteractionId, double Minutes, long UserId, DateTimeOffset At);

public sealed record TaskReceipt(string Status, TaskTimeView Task);

public sealed record ManualTaskView(string Id, string System, double Minutes, string Review, DateTimeOffset CreatedAt);

/// <summary>One item of the review queue with what a reviewer needs to decide.</summary>
public sealed record ReviewQueueItem(
    string InteractionId,
    string System,
    string Kind,
    string State,
    DateTimeOffset EnqueuedAt,
    double AgeSeconds,
    DateTimeOffset? OpenedAt,
    string? OpenedBy,
    string? Prompt,
    string? Answer,
    JsonElement? DetectorHits,
    bool Held,
    string? UserEmail);

/// <summary>One evidence record with everything people added to it.</summary>
public sealed record InteractionRecordView(
    string Id,
    DateTimeOffset CreatedAt,
    string System,
    string Phase,
    int Stage,
    int ConfigVersion,
    string UserEmail,
    string Endpoint,
    string Mode,
    string Outcome,
    string? RefusalCode,
    string? RefusalReason,
    JsonElement? DetectorHits,
    bool Streamed,
    int TokensIn,
    int TokensOut,
    decimal Cost,
    double? FirstByteMs,
    double TotalMs,
    int? UpstreamStatus,
    string? Category,
    string? RequestHash,
    string? ResponseHash,
    string? Prompt,
    string? Answer,
    ApprovalView? Approval,
    ReviewQueueItem? Queue,
    ReviewView? Review,
    IReadOnlyList<FeedbackView> Feedback,
    TaskTimeView? Task);

/// <summary>The gateway's evidence payloads in snake_case, like the OpenAI API they sit next to.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, PropertyNameCaseInsensitive = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReviewRequest))]
[JsonSerializable(typeof(FeedbackRequest))]
[JsonSerializable(typeof(TaskRequest))]
[JsonSerializable(typeof(ManualTaskRequest))]
[JsonSerializable(typeof(ReviewReceipt))]
[JsonSerializable(typeof(FeedbackReceipt))]
[JsonSerializable(typeof(TaskReceipt))]
[JsonSerializable(typeof(ManualTaskView))]
internal sealed partial class ReviewsJsonContext : JsonSerializerContext;
