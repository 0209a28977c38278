using System.Text.Json;
using System.Text.Json.Serialization;
using Pilotage.Server.Audit;
using Pilotage.Server.Health;
using Pilotage.Server.Keys;
using Pilotage.Server.People;
using Pilotage.Server.Systems;

namespace Pilotage.Server.Api;

/// <summary>Source-generated serialization for every control API payload (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(UserView))]
[JsonSerializable(typeof(IReadOnlyList<UserView>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(GroupView))]
[JsonSerializable(typeof(IReadOnlyList<GroupView>))]
[JsonSerializable(typeof(CreateGroupRequest))]
[JsonSerializable(typeof(MembershipChange))]
[JsonSerializable(typeof(MeView))]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(IReadOnlyList<KeyView>))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(CreatedKey))]
[JsonSerializable(typeof(AuditEntryView))]
[JsonSerializable(typeof(IReadOnlyList<AuditEntryView>))]
[JsonSerializable(typeof(Pilotage.Core.Audit.AuditVerification))]
[JsonSerializable(typeof(SystemSummary))]
[JsonSerializable(typeof(IReadOnlyList<SystemSummary>))]
[JsonSerializable(typeof(SystemDetail))]
[JsonSerializable(typeof(ApplyRequest))]
[JsonSerializable(typeof(ApplyResponse))]
[JsonSerializable(typeof(List<SpecErrorView>))]
[JsonSerializable(typeof(ReadinessView))]
[JsonSerializable(typeof(Pilotage.Server.Evidence.SystemMetricsView))]
[JsonSerializable(typeof(DecisionRequest))]
[JsonSerializable(typeof(ReasonRequest))]
[JsonSerializable(typeof(DecisionView))]
[JsonSerializable(typeof(IReadOnlyList<DecisionView>))]
[JsonSerializable(typeof(LifecycleView))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.ApprovalView))]
[JsonSerializable(typeof(IReadOnlyList<Pilotage.Server.Reviews.ApprovalView>))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.ApprovalEndpoints.ReasonBody))]
[JsonSerializable(typeof(Pilotage.Server.Incidents.FileIncidentRequest))]
[JsonSerializable(typeof(Pilotage.Server.Incidents.UpdateIncidentRequest))]
[JsonSerializable(typeof(Pilotage.Server.Incidents.IncidentView))]
[JsonSerializable(typeof(IReadOnlyList<Pilotage.Server.Incidents.IncidentView>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
[JsonSerializable(typeof(Pilotage.Server.Import.ImportResponse))]
[JsonSerializable(typeof(List<Pilotage.Core.Import.ImportError>))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.ReviewRequest))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.ReviewReceipt))]
[JsonSerializable(typeof(IReadOnlyList<Pilotage.Server.Reviews.ReviewQueueItem>))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.ReviewQueueItem))]
[JsonSerializable(typeof(Pilotage.Server.Reviews.InteractionRecordView))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
