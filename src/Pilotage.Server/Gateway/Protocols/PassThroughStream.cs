using System.Buffers;
using System.Text.Json.Nodes;
using System.Text;
using Pilotage.Core.Gateway;

namespace Pilotage.Server.Gateway.Protocols;

/// <summary>
/// An upstream's event stream in the client's own protocol, relayed event by event as it came (Anthropic's
/// <c>thinking</c> deltas, say, which the common model has no place for). The relay still reads every event in the
/// common model first (text, tool calls, usage, read-only mode) and writes it only once it passed; the event that
/// ends the answer is held until the evidence is committed, so a stream that looks complete is recorded.
/// </summary>
/// <param name="error">The protocol's error event, for a refusal after the stream started.</param>
/// <param name="rewrite">What the protocol rewrites in an event (the Responses API's response id), or null.</param>
internal sealed class PassThroughStream(HttpContext http, string interactionId, string mode, Func<GatewayRefusal, byte[]> error, Func<string?, string, string>? rewrite = null) : IAnswerStream
{
    private (string? Event, string Data)? _last;

    private Stream Output => http.Response.Body;

    public Task StartAsync(bool held, CancellationToken ct)
    {
        GatewayHeaders.StartEventStream(http, held ? StatusCodes.Status202Accepted : StatusCodes.Status200OK, interactionId, mode, held);
        return Task.CompletedTask;
    }

    /// <summary>Nothing: the relay writes the upstream's own events (<see cref="RelayAsync"/>), not the chunks read from them.</summary>
    public ValueTask WriteChunkAsync(JsonObject chunk, string raw, CancellationToken ct) => ValueTask.CompletedTask;

    /// <summary>One upstream event, once the relay read it; the <paramref name="last"/> one waits for <see cref="CompleteAsync"/>.</summary>
    public async ValueTask RelayAsync(string? eventName, string data, bool last, CancellationToken ct)
    {
        if (last)
        {
            _last = (eventName, data);
            return;
        }
        await WriteAsync(eventName, data, ct);
    }

    /// <summary>
    /// One upstream event as it came (valid UTF-8 JSON), read in one pass by the relay: written into the response's pipe
    /// without a frame string. Never the last event, nor one <c>rewrite</c> would change: the relay reads those as trees.
    /// </summary>
    public async ValueTask RelayReceivedAsync(string? eventName, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var writer = http.Response.BodyWriter;
        if (eventName is not null)
        {
            writer.Write("event: "u8);
            Encoding.UTF8.GetBytes(eventName, writer);
            writer.Write("\n"u8);
        }
        writer.Write("data: "u8);
        writer.Write(data.Span);
        writer.Write("\n\n"u8);
        await writer.FlushAsync(ct);
    }

    // Written into the response's pipe from the literal's own bytes: no array copied for each keep-alive.
    public async ValueTask KeepAliveAsync(CancellationToken ct)
    {
        http.Response.BodyWriter.Write(": held for review\n\n"u8);
        await http.Response.BodyWriter.FlushAsync(ct);
    }

    public async Task CompleteAsync()
    {
        if (_last is { } last) await WriteAsync(last.Event, last.Data, CancellationToken.None);
    }

    public async Task FailAsync(GatewayRefusal refusal) => await Output.WriteAsync(error(refusal), CancellationToken.None);

    /// <summary>One event read as a tree, written into the response's pipe (<see cref="WriteFrame"/>) and flushed.</summary>
    private async ValueTask WriteAsync(string? eventName, string data, CancellationToken ct)
    {
        data = rewrite?.Invoke(eventName, data) ?? data;
        var writer = http.Response.BodyWriter;
        WriteFrame(writer, eventName, data);
        await writer.FlushAsync(ct);
    }

    /// <summary>
    /// An event's frame written piece by piece: the bytes its string encoded whole would give (the literals are ASCII, so
    /// no surrogate pair spans two pieces, and a lone surrogate is replaced alike), without that string or an array of
    /// its bytes for each event.
    /// </summary>
    internal static void WriteFrame(IBufferWriter<byte> writer, string? eventName, string data)
    {
        if (eventName is not null)
        {
            writer.Write("event: "u8);
            Encoding.UTF8.GetBytes(eventName, writer);
            writer.Write("\n"u8);
        }
        writer.Write("data: "u8);
        Encoding.UTF8.GetBytes(data, writer);
        writer.Write("\n\n"u8);
    }
}
