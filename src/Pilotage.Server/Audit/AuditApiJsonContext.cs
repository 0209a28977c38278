using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Audit;

/// <summary>Source-generated serialization of the control API payloads for the audit trail's entries and verification (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(AuditEntryView))]
[JsonSerializable(typeof(IReadOnlyList<AuditEntryView>))]
[JsonSerializable(typeof(Pilotage.Core.Audit.AuditVerification))]
public sealed partial class AuditApiJsonContext : JsonSerializerContext;
