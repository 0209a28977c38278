using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Import;

/// <summary>Source-generated serialization of the control API payloads for evidence imports (no reflection on the request path).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ImportResponse))]
[JsonSerializable(typeof(List<Pilotage.Core.Import.ImportError>))]
public sealed partial class ImportApiJsonContext : JsonSerializerContext;
