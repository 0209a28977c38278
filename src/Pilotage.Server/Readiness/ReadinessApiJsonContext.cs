using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Readiness;

/// <summary>Source-generated serialization of the control API payloads for the readiness questions (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ReadinessAnswerRequest))]
[JsonSerializable(typeof(ReadinessAnswerRecord))]
public sealed partial class ReadinessApiJsonContext : JsonSerializerContext;
