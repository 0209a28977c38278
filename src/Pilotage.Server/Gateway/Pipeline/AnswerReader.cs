using System.Buffers;
using Pilotage.Core.Gateway;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// Reads a whole (not streamed) upstream answer within the size cap and the server's byte budget, checks that
/// it is one JSON object and takes its token counts, in one forward pass.
/// </summary>
internal sealed class AnswerReader(BufferBudget bufferBudget)
{
    public const int MaxResponseBytes = 32 * 1024 * 1024;

    /// <summary>The answer's bytes in the common model and as received, with the exchange knowing them and their token counts; or the refusal.</summary>
    public async Task<(byte[]? Answer, byte[]? Received, Exchange Exchange, Refusal? Refusal)> ReadAsync(
        Subject subject, Exchange exchange, GatewayAdmission places, HttpResponseMessage upstream, IUpstreamProtocol protocol, CancellationToken ct, CancellationToken aborted)
    {
        var spec = subject.Spec;
        byte[] bytes;
        try
        {
            await using var stream = await upstream.Content.ReadAsStreamAsync(ct);
            // Sized from Content-Length when the upstream sends one (up to the largest budget step), and read through a
            // pooled chunk: a fresh 16 KB chunk plus a growing buffer and its final copy were the largest allocation of
            // a request (see docs/benchmarks.md, alloc mode). The length is only a hint; the loop still enforces the cap.
            const int BudgetStep = 256 * 1024;
            var expected = upstream.Content.Headers.ContentLength is > 0 and <= BudgetStep and var length ? (int)length : 0;
            // The announced length is reserved before the buffer of that size is taken. The budget is only ever
            // reserved for what is held: a fixed first step of 256 KB (1 MB counted) per answer spent the default
            // 256 MB on 256 answers of 400 bytes in flight at once, and refused the 257th with 503.
            long reserved = 0;
            if (expected > 0)
            {
                if (!bufferBudget.TryReserve(places, (long)expected * BufferBudget.CostPerByte))
                {
                    return (null, null, exchange, Refusal.Failed(bufferBudget.Exhausted($"the answer from '{spec.Name}' ({expected / 1024} KB announced)", sentToModel: true)));
                }
                reserved = expected;
            }
            using var buffer = new MemoryStream(expected);
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                int read;
                while ((read = await stream.ReadAsync(chunk, ct)) > 0)
                {
                    if (buffer.Length + read > MaxResponseBytes) throw new InvalidDataException("the answer is larger than 32 MB");
                    // The answer counts against the same server-wide budget as request bodies (PILOTAGE_MAX_BUFFERED_MB),
                    // so thousands of calls in flight cannot each hold a 32 MB answer at once. Beyond what was announced the
                    // reservation doubles (BufferBudget.Step: from 16 KB, by 256 KB at most a step, always at least the
                    // read): a small answer reserves little, a large one in few steps.
                    if (!bufferBudget.TryGrow(places, ref reserved, buffer.Length + read, BudgetStep))
                    {
                        return (null, null, exchange, Refusal.Failed(bufferBudget.Exhausted($"the answer from '{spec.Name}' ({(buffer.Length + read) / 1024} KB so far)", sentToModel: true)));
                    }
                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
            // When the length was announced and kept, the buffer is exactly the answer: no copy.
            bytes = buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException or OperationCanceledException && !aborted.IsCancellationRequested)
        {
            var timedOut = e is OperationCanceledException;
            return (null, null, exchange, Refusal.Failed(new GatewayRefusal(timedOut ? 504 : 502, timedOut ? "upstream_timeout" : "upstream_truncated",
                $"the answer from the model behind '{spec.Name}' {(timedOut ? "took too long" : "was cut off")} ({e.Message}). Try again; if it persists, {ServingPolicy.ManualProcess}.")));
        }
        catch (OperationCanceledException)
        {
            return (null, null, exchange, Refusal.Abandoned("the client disconnected while the upstream answered"));
        }
        var received = bytes;
        try
        {
            bytes = protocol.Answer(bytes);
        }
        catch (InvalidDataException e)
        {
            return (null, null, exchange, Refusal.Failed(new GatewayRefusal(502, "upstream_malformed",
                $"the model behind '{spec.Name}' answered with something Pilotage cannot read as a {Core.Specs.UpstreamProtocolWire.ToName(spec.Upstream.Protocol)} response ({e.Message}). Try again; if it persists, tell the owner {spec.Owner}.")));
        }
        // One forward pass over the bytes checks the shape and reads the token counts; building a node
        // tree for every answer would cost more than the rest of the request (see docs/benchmarks.md).
        if (!CompletionScanner.TryScan(bytes, out var tokensIn, out var tokensOut))
        {
            return (null, null, exchange, Refusal.Failed(new GatewayRefusal(502, "upstream_malformed",
                $"the model behind '{spec.Name}' answered with something that is not an OpenAI JSON response. Try again; if it persists, tell the owner {spec.Owner}.")));
        }
        return (bytes, received, exchange.WithResponse(bytes) with { TokensIn = tokensIn, TokensOut = tokensOut }, null);
    }
}
