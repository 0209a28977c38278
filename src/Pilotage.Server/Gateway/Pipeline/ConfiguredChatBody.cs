using System.Runtime.InteropServices;
using System.Text.Json;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// A chat-completions request to a chat upstream, scrubbed, configured and written straight from its parsed elements: the
/// bytes <see cref="RequestScrubber.Scrub(System.Text.Json.Nodes.JsonObject, DataBoundaryPolicy, BoundaryBudget?, RedactedValues)"/>,
/// <see cref="SystemConfiguration.ApplyChat"/> and <see cref="ScrubbedBody.ToUtf8Bytes"/> give for the same body, without
/// building its tree (tests compare the two on random bodies, boundaries and configurations). Every streamed answer's
/// request passed through that tree, which was most of what its request allocated.
/// </summary>
internal static class ConfiguredChatBody
{
    /// <summary>As the serializer writes a body: the default encoder, no indentation, the default depth.</summary>
    private static readonly JsonWriterOptions WriterOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Whether the request's body is scrubbed and written from its elements: a chat client's own body (not a translation)
    /// that no stage changes but the boundary, whose scan of the elements keeps what it redacts (<see cref="RedactedElements"/>).
    /// Read-only mode removes tools from the tree, so a system read-only with side-effecting tools configures the tree as
    /// before; so does a body whose property name holds a hit (see <see cref="DataBoundaryStage"/>).
    /// </summary>
    public static bool Applies(AdmittedRequest request) =>
        request.Request is { Received: not null, Native: null }
        && request.Subject.Arrival.Operation == GatewayOperation.Chat
        && !(request.Scope.Mode == ServingMode.ReadOnly && request.System.SideEffectingTools.Count > 0);

    /// <summary>The body as sent, and whether it asks for a stream (held answers are fetched whole).</summary>
    public static (byte[] Sent, bool Stream) Write(JsonElement body, GatewaySystem system, ServingMode mode, bool clientWantsStream) =>
        Write(body, system, mode, clientWantsStream, RedactedElements.None);

    /// <summary>As <see cref="Write(JsonElement, GatewaySystem, ServingMode, bool)"/>, with the values the boundary redacted in place.</summary>
    public static (byte[] Sent, bool Stream) Write(JsonElement body, GatewaySystem system, ServingMode mode, bool clientWantsStream, RedactedElements redacted)
    {
        var spec = system.State.Spec;
        var config = spec.Config;
        var stream = clientWantsStream && !SystemConfiguration.HoldsAnswer(mode);
        var prompt = string.IsNullOrEmpty(config.SystemPrompt) ? null : config.SystemPrompt;
        // Not streamed, a client's "stream": true becomes false and its stream_options go.
        var unstream = !stream && RequestShape.Member(body, "stream").ValueKind == JsonValueKind.True;
        using var buffer = new PooledBytes(JsonMarshal.GetRawUtf8Value(body).Length + (prompt?.Length ?? 0) + 256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            bool temperature = false, topP = false, maxTokens = false, streamOptions = false;
            json.WriteStartObject();
            foreach (var property in body.EnumerateObject())
            {
                if (property.NameEquals("model"u8))
                {
                    Name(json, property);
                    json.WriteStringValue(spec.Upstream.Model);
                }
                else if (property.NameEquals("messages"u8) && prompt is not null)
                {
                    Name(json, property);
                    json.WriteStartArray();
                    json.WriteStartObject();
                    json.WriteString("role"u8, "system"u8);
                    json.WriteString("content"u8, prompt);
                    json.WriteEndObject();
                    redacted.WriteItems(property.Value, json);
                    json.WriteEndArray();
                }
                else if (config.Temperature is { } t && property.NameEquals("temperature"u8))
                {
                    Name(json, property);
                    json.WriteNumberValue(t);
                    temperature = true;
                }
                else if (config.TopP is { } p && property.NameEquals("top_p"u8))
                {
                    Name(json, property);
                    json.WriteNumberValue(p);
                    topP = true;
                }
                else if (config.MaxTokens is not null && property.NameEquals("max_completion_tokens"u8))
                {
                    // The spec's max_tokens replaces it.
                }
                else if (config.MaxTokens is { } m && property.NameEquals("max_tokens"u8))
                {
                    Name(json, property);
                    json.WriteNumberValue(m);
                    maxTokens = true;
                }
                else if (property.NameEquals("stream_options"u8) && (stream || unstream))
                {
                    if (!stream) continue;
                    Name(json, property);
                    UsageOptions(json);
                    streamOptions = true;
                }
                else if (unstream && property.NameEquals("stream"u8))
                {
                    Name(json, property);
                    json.WriteBooleanValue(false);
                }
                else
                {
                    redacted.WriteTo(property, json);
                }
            }
            // What the body did not have is added after its own members, in the order ApplyChat sets them.
            if (config.Temperature is { } addedTemperature && !temperature) json.WriteNumber("temperature"u8, addedTemperature);
            if (config.TopP is { } addedTopP && !topP) json.WriteNumber("top_p"u8, addedTopP);
            if (config.MaxTokens is { } addedMaxTokens && !maxTokens) json.WriteNumber("max_tokens"u8, addedMaxTokens);
            if (stream && !streamOptions)
            {
                json.WritePropertyName("stream_options"u8);
                UsageOptions(json);
            }
            json.WriteEndObject();
        }
        return (buffer.ToArray(), stream);
    }

    /// <summary>Token counts are evidence: a streamed request asks for them (the relay drops the chunk if the client did not).</summary>
    private static void UsageOptions(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteBoolean("include_usage"u8, true);
        json.WriteEndObject();
    }

    /// <summary>A member's name as the tree writes it: see <see cref="RedactedElements.WriteName"/>.</summary>
    private static void Name(Utf8JsonWriter json, JsonProperty property) => RedactedElements.WriteName(json, property);
}
