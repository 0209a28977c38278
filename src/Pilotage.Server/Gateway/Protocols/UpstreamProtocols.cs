using System.Net.Http.Headers;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Gateway.Protocols.Upstream;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols;

/// <summary>
/// The protocol an upstream speaks (<c>upstream.protocol</c>): where the common model is sent, and how a request
/// and its answer (whole or streamed) are translated to and from it. OpenAI chat completions is the common model
/// itself, so nothing is translated for it; the others are in <see cref="Upstream"/> (rules in docs/gateway.md).
/// </summary>
internal interface IUpstreamProtocol
{
    /// <summary>Where a request of <paramref name="operation"/> goes; null when this protocol has no such operation.</summary>
    Uri? Url(GatewaySystem system, GatewayOperation operation);

    /// <summary>Sets the upstream key (when the spec names one) and any header this protocol requires.</summary>
    void Authorize(HttpRequestHeaders headers, string? key);

    /// <summary>The common-model body as this upstream reads it.</summary>
    byte[] Request(byte[] common);

    /// <summary>A whole answer of this upstream as a chat completion. Throws <see cref="InvalidDataException"/> when it cannot be read.</summary>
    byte[] Answer(byte[] answer);

    /// <summary>A reader of this upstream's stream events, turning each into chat-completion chunks (and <c>[DONE]</c>).</summary>
    IUpstreamStream Stream();
}

/// <summary>One upstream stream's events, as chat-completion chunks.</summary>
internal interface IUpstreamStream
{
    /// <summary>The chunks (JSON text, or <c>[DONE]</c>) one event becomes; <paramref name="eventName"/> is its <c>event:</c> line, if any.</summary>
    IEnumerable<string> Translate(string? eventName, string data);

    /// <summary>Whether each event's data already is a chunk of the common model (or <c>[DONE]</c>), which <see cref="Translate"/> returns as it is.</summary>
    bool SendsCommonChunks => false;

    /// <summary>
    /// Reads an event that carries at most text (a text delta, a ping) in one pass over its bytes (<see cref="EventScanner"/>),
    /// appending its text to <paramref name="text"/>, when <see cref="Translate"/> would make of it no more than a chunk
    /// of that text and this stream's state allows the event where it is. False declines, with nothing appended: the
    /// relay then reads it with <see cref="Translate"/>, which reads or refuses it as it always did.
    /// </summary>
    bool TryReadText(ReadOnlySpan<byte> data, AnswerText text) => false;

    /// <summary>
    /// As <see cref="TryReadText"/>, for a client that gets chunks of the common model: <paramref name="chunk"/> is the
    /// UTF-8 of the one chunk <see cref="Translate"/> would make of the event (empty when it makes none), written without
    /// a JSON tree and valid until the next call. False declines, with nothing appended.
    /// </summary>
    bool TryReadChunk(ReadOnlySpan<byte> data, AnswerText text, out ReadOnlyMemory<byte> chunk)
    {
        chunk = default;
        return false;
    }
}

/// <summary>The upstream protocols by name, one instance each (they keep no state between requests).</summary>
internal sealed class UpstreamProtocols
{
    private readonly OpenAiChatUpstream _chat = new();
    private readonly OpenAiResponsesUpstream _responses = new();
    private readonly AnthropicUpstream _anthropic = new();

    public IUpstreamProtocol For(GatewaySystem system) => system.State.Spec.Upstream.Protocol switch
    {
        UpstreamProtocol.OpenAiResponses => _responses,
        UpstreamProtocol.Anthropic => _anthropic,
        _ => _chat,
    };
}

/// <summary>OpenAI chat completions: the common model, sent and read as it is.</summary>
internal sealed class OpenAiChatUpstream : IUpstreamProtocol, IUpstreamStream
{
    public Uri? Url(GatewaySystem system, GatewayOperation operation) =>
        operation == GatewayOperation.Chat ? system.ChatUrl : system.EmbeddingsUrl;

    public void Authorize(HttpRequestHeaders headers, string? key)
    {
        if (key is not null) headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    public byte[] Request(byte[] common) => common;

    public byte[] Answer(byte[] answer) => answer;

    public IUpstreamStream Stream() => this;

    public IEnumerable<string> Translate(string? eventName, string data) => [data];

    public bool SendsCommonChunks => true;
}
