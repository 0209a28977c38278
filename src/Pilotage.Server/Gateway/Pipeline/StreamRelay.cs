using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text.Unicode;
using System.Text;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// A streamed answer: the upstream's chunks (common model) go to the client's protocol as they arrive, each
/// through <see cref="AnswerRelease"/> (or, passed through, the upstream's own events once read: <see cref="PassThroughStream"/>);
/// the stream's end goes out only once the evidence is committed. A cut,
/// unreadable or timed-out stream ends with an error event, and read-only mode stops at a side-effecting call.
/// </summary>
internal sealed class StreamRelay(InteractionRecorder recorder, BufferBudget budget)
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    public async Task RelayAsync(HttpContext http, AdmittedRequest request, Exchange exchange, HttpResponseMessage upstream, IAnswerStream output, IUpstreamStream events, StreamedAnswerFilter? answerFilter, CancellationToken ct)
    {
        var subject = request.Subject;
        var system = request.System;
        var slug = system.State.Slug;
        await output.StartAsync(held: false, ct);
        using var progress = new Progress { In = exchange.TokensIn, Out = exchange.TokensOut };
        // Chat chunks from a chat upstream, to a chat client, with nothing to rewrite in them: each is read in one pass
        // over its bytes (ChunkScanner) and written as it came. Read-only mode looks for a side-effecting call in each
        // chunk: one whose bytes name none of what a call is written with is read in one pass too (MayCallTool), the
        // others as trees. Anything else is read as a JSON tree.
        var asReceived = events.SendsCommonChunks && output.WritesReceivedChunks && answerFilter is null;
        var lookForCalls = request.Scope.Mode == ServingMode.ReadOnly && request.System.SideEffectingTools.Count > 0;
        // The same for the events of an upstream passed through in its own protocol: those that carry only text (most of
        // them) are read in one pass (IUpstreamStream.TryReadText) and written as they came; the others as trees.
        var eventsAsReceived = output is PassThroughStream && answerFilter is null && request.Scope.Mode != ServingMode.ReadOnly;
        // And to a chat client: those events become their chunk's bytes in the same pass (IUpstreamStream.TryReadChunk).
        var chunksAsRead = !events.SendsCommonChunks && output.WritesReceivedChunks && answerFilter is null && !lookForCalls;
        EventNames? names = null; // made at the first event: a chat upstream's stream names none
        var done = false;
        try
        {
            // Over HTTP/2 the response is read through its own copy (PumpedReadStream): its reads allocate each time they wait.
            var body = await upstream.Content.ReadAsStreamAsync(ct);
            await using var stream = upstream.Version == HttpVersion.Version20 ? new PumpedReadStream(body, ct) : body;
            using var lines = new SseLines(stream, AnswerReader.MaxResponseBytes, "the streamed answer", budget, request.Places);
            string? eventName = null;
            while (!done && await lines.ReadLineAsync(ct))
            {
                var line = lines.Line;
                if (line.Span.StartsWith("event:"u8)) eventName = (names ??= new EventNames()).Of(line.Span[6..]);
                if (!line.Span.StartsWith("data:"u8))
                {
                    continue; // comments and blank separators: each event is re-framed by the client's protocol
                }
                var bytes = line[5..].Trim(" \t"u8);
                if (asReceived && Utf8.IsValid(bytes.Span) && !(lookForCalls && ChunkScanner.MayCallTool(bytes.Span)))
                {
                    if (bytes.Span.SequenceEqual("[DONE]"u8))
                    {
                        done = true;
                        break;
                    }
                    if (ChunkScanner.TryRead(bytes.Span, progress.Text, out var reading))
                    {
                        progress.Read(reading);
                        if (!reading.UsageOnly || request.Request.WantsUsage) await AnswerRelease.ReceivedChunkAsync(output, bytes, ct);
                        continue;
                    }
                    // Declined: read as a tree below, which reads or refuses it as it always did.
                }
                if (eventsAsReceived && Utf8.IsValid(bytes.Span) && events.TryReadText(bytes.Span, progress.Text))
                {
                    await ((PassThroughStream)output).RelayReceivedAsync(eventName, bytes, ct);
                    eventName = null;
                    continue;
                }
                if (chunksAsRead && Utf8.IsValid(bytes.Span) && events.TryReadChunk(bytes.Span, progress.Text, out var chunkBytes))
                {
                    if (!chunkBytes.IsEmpty) await AnswerRelease.ReceivedChunkAsync(output, chunkBytes, ct);
                    eventName = null;
                    continue;
                }
                var data = Encoding.UTF8.GetString(bytes.Span).Trim();
                foreach (var translated in Translated(events, eventName, data))
                {
                    if (translated == "[DONE]")
                    {
                        // What the answer boundary still holds back (text that might begin a match) goes out last.
                        if (answerFilter?.Finish() is { } last && !await RelayChunkAsync(request, exchange, output, Parse(last), last, progress, ct)) return;
                        done = true;
                        break;
                    }
                    // Parsed once: the answer boundary rewrites the chunk in place, and what it leaves is read and sent.
                    var chunk = Parse(translated);
                    var text = translated;
                    if (answerFilter is not null && answerFilter.Filter(chunk)) text = chunk.ToJsonString();
                    if (answerFilter is { Blocked: true })
                    {
                        ReadChunk(chunk, request, progress, out _, out _); // the evidence keeps what was safe to read
                        var refusal = DataBoundaryStage.AnswerBlocked(system.State.Spec, answerFilter.BlockedBy);
                        await recorder.RefusedAsync(subject, progress.Of(exchange), new Refusal(refusal, RefusalRecord.RefusedAfterAnswer));
                        await output.FailAsync(refusal);
                        return;
                    }
                    if (!await RelayChunkAsync(request, exchange, output, chunk, text, progress, ct)) return;
                }
                // Passed through: the upstream's own event, once everything it says was read and allowed.
                if (output is PassThroughStream passThrough) await passThrough.RelayAsync(eventName, data, last: done, ct);
                eventName = null;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException or OperationCanceledException)
        {
            var finished = progress.Of(exchange);
            if (http.RequestAborted.IsCancellationRequested)
            {
                await recorder.RefusedAsync(subject, finished, Refusal.Abandoned("the client disconnected during the stream"));
                return;
            }
            var brokeOff = $"the stream from the model behind '{slug}' broke off ({e.Message}). The answer above is incomplete; try again.";
            var refusal = e switch
            {
                OperationCanceledException => new GatewayRefusal(504, "upstream_timeout", brokeOff),
                MalformedChunkException => new GatewayRefusal(502, "upstream_malformed",
                    $"the model behind '{slug}' sent a part of its stream Pilotage cannot read ({e.Message}), so the stream was ended there. The answer above is incomplete; try again, and if it persists tell the owner {system.State.Spec.Owner}."),
                BufferExhaustedException exhausted => exhausted.Refusal,
                _ => new GatewayRefusal(502, "upstream_truncated", brokeOff),
            };
            await recorder.RefusedAsync(subject, finished, Refusal.Failed(refusal, e.Message));
            await output.FailAsync(refusal);
            return;
        }
        var complete = progress.Of(exchange);
        if (!done)
        {
            var refusal = new GatewayRefusal(502, "upstream_truncated",
                $"the stream from the model behind '{slug}' ended before it was complete. The answer above is incomplete; try again.");
            await recorder.RefusedAsync(subject, complete, Refusal.Failed(refusal, "stream ended without [DONE]"));
            await output.FailAsync(refusal);
            return;
        }
        if (await recorder.CommitAsync(subject, complete, InteractionOutcome.Served) is { } unavailable)
        {
            await output.FailAsync(unavailable);
            return;
        }
        await output.CompleteAsync();
    }

    /// <summary>The names of a stream's <c>event:</c> lines: a name that repeats the one before is that same string, not a new one per event.</summary>
    private sealed class EventNames
    {
        private byte[] _bytes = [];
        private string? _name;

        public string Of(ReadOnlySpan<byte> value)
        {
            if (_name is not null && value.SequenceEqual(_bytes)) return _name;
            _bytes = value.ToArray();
            return _name = Encoding.UTF8.GetString(value).Trim();
        }
    }

    /// <summary>What the stream told so far: its text and token counts.</summary>
    private sealed class Progress : IDisposable
    {
        public AnswerText Text { get; } = new();
        public int In { get; set; }
        public int Out { get; set; }

        // One copy of the exchange, not two: made once per answer, and held until its record is written. The text as UTF-8,
        // which is what is hashed and stored: half the size of a string of it, and encoded once, not once for the hash and
        // again for the store.
        public Exchange Of(Exchange exchange) => Text.ToUtf8() is { } utf8
            ? exchange with { ResponseText = null, ResponseBytes = utf8, TokensIn = In, TokensOut = Out }
            : exchange with { ResponseText = Text.ToString(), ResponseBytes = null, TokensIn = In, TokensOut = Out };

        /// <summary>A chunk's token counts replace the ones told before; a chunk without them changes nothing.</summary>
        public void Read(ChunkScanner.Reading reading)
        {
            In = reading.PromptTokens ?? In;
            Out = reading.CompletionTokens ?? Out;
        }

        public void Dispose() => Text.Dispose();
    }

    /// <summary>Reads and passes on one chunk; false when the stream ended here (a side-effecting call in read-only mode).</summary>
    private async Task<bool> RelayChunkAsync(AdmittedRequest request, Exchange exchange, IAnswerStream output, JsonObject chunk, string data, Progress progress, CancellationToken ct)
    {
        ReadChunk(chunk, request, progress, out var blockedTool, out var usageOnly);
        if (blockedTool is { } tool)
        {
            var refusal = new GatewayRefusal(403, RefusalCodes.SideEffectBlocked,
                $"the model tried to call '{tool}', which changes things; '{request.System.State.Slug}' is read-only. Nothing was executed.");
            await recorder.RefusedAsync(request.Subject, progress.Of(exchange), new Refusal(refusal, RefusalRecord.RefusedAfterAnswer));
            await output.FailAsync(refusal);
            return false;
        }
        if (usageOnly && !request.Request.WantsUsage) return true;
        await AnswerRelease.ChunkAsync(output, chunk, data, ct);
        return true;
    }

    /// <summary>An upstream event as chunks of the common model; an event the translation cannot read is a malformed chunk.</summary>
    private static IEnumerable<string> Translated(IUpstreamStream events, string? eventName, string data)
    {
        try
        {
            var chunks = events.Translate(eventName, data);
            return chunks as IReadOnlyList<string> ?? chunks.ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException)
        {
            throw new MalformedChunkException($"an event that is not valid ({e.Message})", e);
        }
    }

    /// <summary>A stream chunk the gateway cannot read: not JSON, not an object, or fields it must read that it cannot (502 <c>upstream_malformed</c>).</summary>
    private sealed class MalformedChunkException(string message, Exception? inner = null) : IOException(message, inner);

    /// <summary>One chunk of the common model as JSON; one that is not a JSON object throws <see cref="MalformedChunkException"/>.</summary>
    private static JsonObject Parse(string data)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(data, documentOptions: ParseOptions);
        }
        catch (JsonException)
        {
            throw new MalformedChunkException("a chunk that is not JSON");
        }
        return node as JsonObject ?? throw new MalformedChunkException("a chunk that is not a JSON object");
    }

    /// <summary>
    /// Reads one chunk: its token counts, its text onto <paramref name="progress"/>, and in read-only mode the first
    /// side-effecting function it calls. A chunk it cannot read throws <see cref="MalformedChunkException"/>.
    /// </summary>
    private static void ReadChunk(JsonObject chunk, AdmittedRequest request, Progress progress, out string? blockedTool, out bool usageOnly)
    {
        try
        {
            progress.Read(ChunkScanner.Read(chunk, text: null));
            blockedTool = request.Scope.Mode == ServingMode.ReadOnly ? SystemConfiguration.BlockedToolCall(chunk, request.System.SideEffectingTools) : null;
            usageOnly = false;
            if (blockedTool is not null) return;
            usageOnly = ChunkScanner.Read(chunk, progress.Text).UsageOnly;
        }
        catch (InvalidDataException e)
        {
            throw new MalformedChunkException(e.Message, e);
        }
    }
}
