using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pilotage.Core.Specs;

/// <summary>The spelling of <see cref="UpstreamProtocol"/> in YAML and JSON: <c>openai-chat</c>, <c>openai-responses</c>, <c>anthropic</c>.</summary>
public static class UpstreamProtocolWire
{
    public static IReadOnlyList<string> Names { get; } = ["openai-chat", "openai-responses", "anthropic"];

    public static string ToName(UpstreamProtocol protocol) => protocol switch
    {
        UpstreamProtocol.OpenAiResponses => "openai-responses",
        UpstreamProtocol.Anthropic => "anthropic",
        _ => "openai-chat",
    };

    public static bool TryParse(string? text, out UpstreamProtocol protocol)
    {
        protocol = text switch
        {
            "openai-chat" => UpstreamProtocol.OpenAiChat,
            "openai-responses" => UpstreamProtocol.OpenAiResponses,
            "anthropic" => UpstreamProtocol.Anthropic,
            _ => (UpstreamProtocol)(-1),
        };
        return Enum.IsDefined(protocol);
    }
}

/// <summary>Writes and reads <see cref="UpstreamProtocol"/> by its wire name.</summary>
public sealed class UpstreamProtocolConverter : JsonConverter<UpstreamProtocol>
{
    public override UpstreamProtocol Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        UpstreamProtocolWire.TryParse(reader.GetString(), out var protocol)
            ? protocol
            : throw new JsonException($"unknown upstream protocol; expected one of {string.Join(", ", UpstreamProtocolWire.Names)}");

    public override void Write(Utf8JsonWriter writer, UpstreamProtocol value, JsonSerializerOptions options) =>
        writer.WriteStringValue(UpstreamProtocolWire.ToName(value));
}
