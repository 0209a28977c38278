using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Health;

/// <summary>Source-generated serialization of the control API payloads for readiness (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ReadinessView))]
public sealed partial class HealthApiJsonContext : JsonSerializerContext;
