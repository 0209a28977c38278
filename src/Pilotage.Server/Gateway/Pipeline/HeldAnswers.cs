using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway.Protocols;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// Approval mode: the answer is held with its record until a reviewer releases, edits or rejects it. With a wait
/// (<c>approval: { wait: 30s }</c>) the request stays open meanwhile (a stream is kept alive with SSE comments)
/// and gets the decision; when the wait ends first, or there is none, the client gets a valid answer of its
/// protocol saying the answer is held, naming the interaction, with <c>x-pilotage-held: true</c>.
/// </summary>
internal sealed class HeldAnswers(InteractionRecorder recorder, ApprovalStore approvals, TimeProvider time)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(10);

    public async Task HoldAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, Exchange exchange)
    {
        var spec = request.System.State.Spec;
        // The held answer commits with its record, in one transaction: a crash leaves both or neither.
        // It lives in the store, so it is never spooled: during an outage approval mode fails closed.
        var hold = new EvidenceHold(spec.Name, exchange.ResponseText!, request.Subject.Arrival.At);
        if (await recorder.CommitAsync(request.Subject, exchange, InteractionOutcome.Held, hold: hold) is { } unavailable)
        {
            await protocol.WriteErrorAsync(http, unavailable, request.Id, request.Subject.Mode);
            return;
        }
        IAnswerStream? stream = null;
        if (request.Scope.ApprovalWait is { } wait && wait > TimeSpan.Zero)
        {
            var started = Stopwatch.GetTimestamp();
            var nextKeepAlive = KeepAlive;
            while (Stopwatch.GetElapsedTime(started) < wait)
            {
                var approval = await approvals.FindAsync(request.Id, http.RequestAborted);
                if (approval is { State: ApprovalStates.Released })
                {
                    await ReleaseAsync(http, protocol, request, stream, Encoding.UTF8.GetBytes(approval.HeldResponse));
                    return;
                }
                if (approval is { State: ApprovalStates.Rejected })
                {
                    var rejected = new GatewayRefusal(403, "answer_rejected",
                        $"a reviewer of '{spec.Name}' rejected the answer{(approval.Reason is { Length: > 0 } reason ? $": {reason}" : "")}. Nothing was released; {ServingPolicy.ManualProcess}.");
                    if (stream is null) await protocol.WriteErrorAsync(http, rejected, request.Id, request.Subject.Mode);
                    else await stream.FailAsync(rejected);
                    return;
                }
                // Held open past the first keep-alive, a stream starts (200, no held mark yet) and sends comments,
                // so that proxies with idle time-outs keep the connection.
                if (request.Request.Stream && Stopwatch.GetElapsedTime(started) >= nextKeepAlive)
                {
                    if (stream is null)
                    {
                        stream = protocol.OpenStream(http, request);
                        await stream.StartAsync(held: false, http.RequestAborted);
                    }
                    await stream.KeepAliveAsync(http.RequestAborted);
                    nextKeepAlive += KeepAlive;
                }
                await Task.Delay(Poll, time, http.RequestAborted);
            }
        }
        await NoticeAsync(http, protocol, request, stream);
    }

    /// <summary>The released (possibly edited) answer, as a served one would have gone out.</summary>
    private static async Task ReleaseAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, IAnswerStream? stream, byte[] answer)
    {
        if (!request.Request.Stream)
        {
            await AnswerRelease.WholeAsync(http, protocol, new ReleasedAnswer(StatusCodes.Status200OK, answer, request.Id, request.Subject.Mode, request.Request));
            return;
        }
        stream ??= await StartedAsync(http, protocol, request, held: false);
        foreach (var chunk in ChatChunks.Of(JsonNode.Parse(answer) as JsonObject ?? [], request.System.State.Slug))
        {
            await AnswerRelease.ChunkAsync(stream, chunk, chunk.ToJsonString(), http.RequestAborted);
        }
        await stream.CompleteAsync();
    }

    /// <summary>The held notice: a valid answer of the client's protocol whose text says where the answer went.</summary>
    private static async Task NoticeAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, IAnswerStream? stream)
    {
        var spec = request.System.State.Spec;
        var text = $"The answer is held for review: a reviewer of '{spec.Name}' releases it before anyone sees it. Interaction {request.Id}; fetch the result with GET /v1/interactions/{request.Id}.";
        var notice = ChatChunks.Completion(request.Id, request.System.State.Slug, text, time: null);
        notice["status"] = ApprovalStates.Pending;
        notice["system"] = spec.Name;
        if (!request.Request.Stream)
        {
            http.Response.Headers.Location = $"/v1/interactions/{request.Id}";
            await protocol.WriteAnswerAsync(http, new ReleasedAnswer(StatusCodes.Status202Accepted, Encoding.UTF8.GetBytes(notice.ToJsonString()), request.Id, request.Subject.Mode, request.Request, Held: true));
            return;
        }
        stream ??= await StartedAsync(http, protocol, request, held: true);
        foreach (var chunk in ChatChunks.Of(notice, request.System.State.Slug))
        {
            await stream.WriteChunkAsync(chunk, chunk.ToJsonString(), http.RequestAborted);
        }
        await stream.CompleteAsync();
    }

    private static async Task<IAnswerStream> StartedAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request, bool held)
    {
        var stream = protocol.OpenStream(http, request);
        await stream.StartAsync(held, http.RequestAborted);
        return stream;
    }
}
