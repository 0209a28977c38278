using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Attention;

/// <summary>Source-generated serialization of the control API payloads for the attention list (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(IReadOnlyList<AttentionItem>))]
public sealed partial class AttentionApiJsonContext : JsonSerializerContext;
