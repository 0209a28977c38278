using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Reports;

/// <summary>Source-generated serialization of the control API payloads for report readiness (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ReportReadiness))]
public sealed partial class ReportsApiJsonContext : JsonSerializerContext;
