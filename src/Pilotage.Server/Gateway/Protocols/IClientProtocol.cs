using System.Text.Json.Nodes;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Protocols;

/// <summary>
/// A protocol clients speak (OpenAI chat completions, embeddings, the Responses API, Anthropic Messages): the
/// only protocol-specific code of the gateway. It parses the client's request into the common model (an OpenAI
/// chat-completions or embeddings body) and renders answers, stream events and refusals in the client's shape.
/// </summary>
internal interface IClientProtocol
{
    GatewayOperation Operation { get; }

    /// <summary>The upstream protocol this client protocol is: with such an upstream, requests and answers pass through.</summary>
    Core.Specs.UpstreamProtocol? Native { get; }

    /// <summary>The client's body in the common model, or a 400 naming what is wrong.</summary>
    /// <param name="passThrough">The system's upstream speaks this protocol (<see cref="Native"/>): what the common model
    /// cannot carry is forwarded in <see cref="ClientRequest.Native"/> rather than refused.</param>
    ValueTask<Step<ClientRequest>> ParseAsync(ReceivedBody body, KeyGrant key, bool passThrough, CancellationToken ct);

    /// <summary>A refusal or error, before anything of the answer was written.</summary>
    Task WriteErrorAsync(HttpContext http, GatewayRefusal refusal, string? interactionId, string mode);

    /// <summary>A whole answer; its body is in the common model (a chat completion or embeddings list).</summary>
    Task WriteAnswerAsync(HttpContext http, ReleasedAnswer answer);

    /// <summary>The writer of a streamed answer, for chunks in the common model.</summary>
    IAnswerStream OpenStream(HttpContext http, AdmittedRequest request);

    /// <summary>The writer of an upstream's own stream of this protocol, relayed event by event; null when
    /// <see cref="OpenStream"/> already relays the upstream's chunks as they are (chat completions).</summary>
    PassThroughStream? OpenPassThrough(HttpContext http, AdmittedRequest request);
}

/// <summary>A whole answer on its way to the client.</summary>
/// <param name="Held">A held answer's notice (in approval mode): marked with <c>x-pilotage-held: true</c>.</param>
/// <param name="Native">The upstream's answer as it came, in the client's own protocol: written instead of rendering <paramref name="Body"/>.</param>
internal sealed record ReleasedAnswer(int Status, byte[] Body, string InteractionId, string Mode, ClientRequest Request, bool Held = false, byte[]? Native = null);

/// <summary>A streamed answer in the client's protocol, written chunk by chunk from the common model.</summary>
internal interface IAnswerStream
{
    /// <summary>Status and headers; for a held notice, marked as held.</summary>
    Task StartAsync(bool held, CancellationToken ct);

    /// <summary>One chat-completion chunk; <paramref name="raw"/> is its JSON as the upstream sent it.</summary>
    ValueTask WriteChunkAsync(JsonObject chunk, string raw, CancellationToken ct);

    /// <summary>
    /// Whether this stream writes a chunk as the bytes the upstream sent (chat completions): the relay then hands it
    /// <see cref="WriteReceivedChunkAsync"/> and reads the chunk without building its JSON tree.
    /// </summary>
    bool WritesReceivedChunks => false;

    /// <summary>One chat-completion chunk as the upstream sent it (valid UTF-8 JSON), when <see cref="WritesReceivedChunks"/>.</summary>
    ValueTask WriteReceivedChunkAsync(ReadOnlyMemory<byte> data, CancellationToken ct) =>
        throw new NotSupportedException("this stream renders chunks from their JSON (WriteChunkAsync)");

    /// <summary>An SSE comment that keeps the connection alive while an answer is held for review.</summary>
    ValueTask KeepAliveAsync(CancellationToken ct);

    /// <summary>The end of a complete answer, written only once its evidence is committed.</summary>
    Task CompleteAsync();

    /// <summary>An error event after the stream started: the answer above is incomplete.</summary>
    Task FailAsync(GatewayRefusal refusal);
}

/// <summary>The gateway's response headers, the same for every protocol.</summary>
internal static class GatewayHeaders
{
    public const string Interaction = OpenAiErrors.InteractionHeader;
    public const string Mode = OpenAiErrors.ModeHeader;
    public const string Held = "x-pilotage-held";

    public static void Set(HttpContext http, string? interactionId, string mode, bool held = false)
    {
        OpenAiErrors.SetHeaders(http, interactionId, mode);
        if (held) http.Response.Headers[Held] = "true";
    }

    public static void StartEventStream(HttpContext http, int status, string? interactionId, string mode, bool held)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        Set(http, interactionId, mode, held);
    }
}
