using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Reviews;

/// <summary>Source-generated serialization of the control API payloads for reviews and approvals (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ApprovalView))]
[JsonSerializable(typeof(IReadOnlyList<ApprovalView>))]
[JsonSerializable(typeof(ReasonBody))]
[JsonSerializable(typeof(ReviewRequest))]
[JsonSerializable(typeof(ReviewReceipt))]
[JsonSerializable(typeof(IReadOnlyList<ReviewQueueItem>))]
[JsonSerializable(typeof(ReviewQueueItem))]
[JsonSerializable(typeof(InteractionRecordView))]
public sealed partial class ReviewsApiJsonContext : JsonSerializerContext;
