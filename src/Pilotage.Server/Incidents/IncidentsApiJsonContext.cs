using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Incidents;

/// <summary>Source-generated serialization of the control API payloads for incidents (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(FileIncidentRequest))]
[JsonSerializable(typeof(UpdateIncidentRequest))]
[JsonSerializable(typeof(IncidentView))]
[JsonSerializable(typeof(IReadOnlyList<IncidentView>))]
public sealed partial class IncidentsApiJsonContext : JsonSerializerContext;
