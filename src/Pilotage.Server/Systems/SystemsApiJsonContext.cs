using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Systems;

/// <summary>Source-generated serialization of the control API payloads for systems: specs, lifecycle, decisions and config versions (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SystemSummary))]
[JsonSerializable(typeof(IReadOnlyList<SystemSummary>))]
[JsonSerializable(typeof(SystemDetail))]
[JsonSerializable(typeof(ApplyRequest))]
[JsonSerializable(typeof(ApplyResponse))]
[JsonSerializable(typeof(List<SpecErrorView>))]
[JsonSerializable(typeof(DecisionRequest))]
[JsonSerializable(typeof(ReasonRequest))]
[JsonSerializable(typeof(DecisionView))]
[JsonSerializable(typeof(IReadOnlyList<DecisionView>))]
[JsonSerializable(typeof(LifecycleView))]
[JsonSerializable(typeof(ConfigVersionView))]
[JsonSerializable(typeof(IReadOnlyList<ConfigVersionView>))]
[JsonSerializable(typeof(RollbackRequest))]
[JsonSerializable(typeof(RollbackView))]
public sealed partial class SystemsApiJsonContext : JsonSerializerContext;
