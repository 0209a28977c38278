using System.Text.Json.Nodes;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The one place model answers pass on their way to the client, in every protocol: whole answers (served or
/// released after review) and each streamed chunk, still in the common model, just before the client's
/// protocol renders them. A filter of answer text belongs here, and sees everything the client will.
/// </summary>
internal static class AnswerRelease
{
    public static Task WholeAsync(HttpContext http, IClientProtocol protocol, ReleasedAnswer answer) => protocol.WriteAnswerAsync(http, answer);

    public static ValueTask ChunkAsync(IAnswerStream output, JsonObject chunk, string raw, CancellationToken ct) => output.WriteChunkAsync(chunk, raw, ct);

    /// <summary>A streamed chunk as the upstream sent it, to a stream that writes it so (<see cref="IAnswerStream.WritesReceivedChunks"/>).</summary>
    public static ValueTask ReceivedChunkAsync(IAnswerStream output, ReadOnlyMemory<byte> data, CancellationToken ct) => output.WriteReceivedChunkAsync(data, ct);
}

/// <summary>Answers a stage's refusal in the client's protocol, after it is recorded as its kind asks.</summary>
internal sealed class RefusalWriter(InteractionRecorder recorder)
{
    public async Task RefuseAsync(HttpContext http, IClientProtocol protocol, Subject? subject, Exchange exchange, Refusal refusal)
    {
        if (subject is not null) await recorder.RefusedAsync(subject, exchange, refusal);
        if (refusal.Record == RefusalRecord.Abandoned) return; // nobody is listening
        if (refusal.RetryAfter is { } retryAfter) http.Response.Headers.RetryAfter = retryAfter;
        // HTTP/1.1 only: HTTP/2 and 3 reset the one stream instead, and forbid the header.
        if (refusal.CloseConnection && http.Request.ContentLength is not 0 && HttpProtocol.IsHttp11(http.Request.Protocol)) http.Response.Headers.Connection = "close";
        await protocol.WriteErrorAsync(http, refusal.Error, refusal.Record == RefusalRecord.None ? null : subject?.Id, subject?.Mode ?? "none");
    }
}
