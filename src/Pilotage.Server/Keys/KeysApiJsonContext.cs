using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Keys;

/// <summary>Source-generated serialization of the control API payloads for API keys (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(IReadOnlyList<KeyView>))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(CreatedKey))]
public sealed partial class KeysApiJsonContext : JsonSerializerContext;
