using System.Text.Json.Serialization;

namespace Pilotage.Server.Gateway;

// "object" is the OpenAI field that names a payload's type; the wire name wins over CA1720 here.
#pragma warning disable CA1720
/// <summary>The OpenAI-shaped payloads the gateway writes itself (snake_case, like the OpenAI API).</summary>
public sealed record ModelEntry(string Id, string Object, long Created, string OwnedBy);
public sealed record ModelList(string Object, IReadOnlyList<ModelEntry> Data);
public sealed record HeldAnswer(string Id, string Object, string Status, string System, string Message);
public sealed record TrainingView(string System, bool Required, string? Text, bool Acknowledged);
public sealed record InteractionStatus(string Id, string Object, string System, string Status, string Mode, DateTimeOffset CreatedAt, string? Reason);
#pragma warning restore CA1720

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(System.Text.Json.Nodes.JsonNode))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(HeldAnswer))]
[JsonSerializable(typeof(TrainingView))]
[JsonSerializable(typeof(InteractionStatus))]
internal sealed partial class GatewayJsonContext : JsonSerializerContext;
