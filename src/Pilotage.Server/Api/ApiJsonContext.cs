using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Server.Api;

/// <summary>
/// Source-generated serialization of the shapes every feature shares (strings and lists of them). Each
/// feature owns the context of its own payloads (<c>PeopleApiJsonContext</c>, <c>SystemsApiJsonContext</c>, …);
/// the host chains them all for the minimal API's JSON.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
