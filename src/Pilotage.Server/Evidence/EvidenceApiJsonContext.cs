using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Evidence;

/// <summary>Source-generated serialization of the control API payloads for system metrics (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SystemMetricsView))]
public sealed partial class EvidenceApiJsonContext : JsonSerializerContext;
