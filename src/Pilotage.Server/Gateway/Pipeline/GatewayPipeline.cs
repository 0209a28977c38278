using System.Text.Json;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway.Protocols;
using Pilotage.Server.Identity;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// The enforcement point, as a pipeline of stages for every protocol a client speaks:
/// authenticate → take places and read the body → parse (protocol) → resolve the system in the policy snapshot
/// (once) → admit → data boundary → configure → forward → record → answer (protocol). A stage passes the request
/// on or returns a typed <see cref="Refusal"/>, which the client's protocol renders.
/// </summary>
internal sealed class GatewayPipeline(
    PolicyCache policy,
    AccessTokens tokens,
    TimeProvider time,
    GatewayMetrics metrics,
    RequestIntake intake,
    Admission admission,
    DataBoundaryStage boundary,
    UpstreamForwarder forwarder,
    UpstreamProtocols upstreams,
    AnswerReader reader,
    StreamRelay relay,
    AnswerDelivery delivery,
    RefusalWriter refusals,
    ILogger<GatewayPipeline> logger)
{
    public async Task HandleAsync(HttpContext http, IClientProtocol protocol)
    {
        var arrival = new Arrival(InteractionId.New(time), protocol.Operation, time.GetUtcNow());
        using var activity = GatewayTracing.Start(arrival);
        try
        {
            // Admitted in a method of its own: the body's bytes and its parse, which admission reads, are not kept by this
            // method's state for the seconds an answer streams. Forwarded from here, not from a method between: each
            // method awaited for the whole answer is one more object every open answer keeps alive.
            if (await AdmitAsync(http, protocol, arrival) is { } admitted)
            {
                using (admitted.Places)
                {
                    await ForwardAsync(http, protocol, admitted);
                }
            }
        }
        catch (Exception e) when (GatewayTracing.Threw(activity, e))
        {
            throw; // never reached: the filter only tags the activity
        }
        catch (Exception e)
        {
            await UnexpectedAsync(http, protocol, arrival, e);
        }
        finally
        {
            GatewayTracing.Finish(activity, http);
        }
    }

    /// <summary>
    /// The request admitted, holding its places in flight; null when it was refused (and answered). A value task: a body
    /// already received is admitted without waiting, and then no task of the result is made.
    /// </summary>
    private async ValueTask<AdmittedRequest?> AdmitAsync(HttpContext http, IClientProtocol protocol, Arrival arrival)
    {
        // One snapshot for the whole request: the key, the system and its policy are read from the same version.
        var (key, snapshot) = await Authenticator.AuthenticateAsync(http.Request, policy, tokens, arrival.At);
        if (key.Refusal is { } unauthenticated)
        {
            metrics.Refused(unauthenticated.Error.Code, null);
            await refusals.RefuseAsync(http, protocol, null, Exchange.None, unauthenticated);
            return null;
        }
        var subject = new Subject(arrival, key.Value!);
        var places = intake.TakePlaces(subject.Key);
        if (places.Refusal is { } shed)
        {
            await refusals.RefuseAsync(http, protocol, subject, Exchange.None, shed);
            return null;
        }
        var held = places.Value!;
        var admitted = false;
        try
        {
            var body = await intake.ReadAsync(http, held);
            var parsed = body.Value is { } received ? await protocol.ParseAsync(received, subject.Key, PassesThrough(snapshot, protocol, received), http.RequestAborted) : default;
            var system = parsed.Value is { } request ? Admission.Resolve(snapshot, request.Model) : default;
            if ((body.Refusal ?? parsed.Refusal ?? system.Refusal) is { } unread)
            {
                await refusals.RefuseAsync(http, protocol, subject, Exchange.None, unread);
                return null;
            }
            var (decided, refusal) = await admission.AdmitAsync(http, snapshot, subject with { System = system.Value }, held, protocol.Operation == GatewayOperation.Chat);
            if (refusal is not null)
            {
                await refusals.RefuseAsync(http, protocol, decided, Exchange.None, refusal);
                return null;
            }
            admitted = true;
            return new AdmittedRequest(decided, parsed.Value!, held);
        }
        finally
        {
            if (!admitted) held.Dispose();
        }
    }

    /// <summary>Whether the system the body names has an upstream of the client's own protocol, so that its body passes through.</summary>
    private static bool PassesThrough(PolicySnapshot snapshot, IClientProtocol protocol, ReceivedBody body)
    {
        if (protocol.Native is not { } native) return false;
        string? model;
        try
        {
            // Read from the element, not the tree: a chat request is checked and sent without building one.
            model = RequestShape.Member(body.Element, "model") is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or ArgumentException)
        {
            return false; // text that cannot be decoded (a key, the model): the protocol's parse refuses the body with a 400 naming it
        }
        return model is not null && snapshot.Systems.TryGetValue(model, out var system) && system.State.Spec.Upstream.Protocol == native;
    }

    /// <summary>
    /// The boundary's verdict as the evidence records it. The scrub's result stays in here: its hits name their fields by
    /// the body's nodes, and the state of <see cref="ForwardAsync"/> lasts as long as the answer.
    /// </summary>
    /// <remarks><c>Elements</c>: what the boundary redacted in a body it scanned as parsed, to write it from (see <see cref="DataBoundaryStage.Apply"/>).</remarks>
    private (string? DetectorHits, Refusal? Blocked, RedactedElements? Elements) ApplyBoundary(AdmittedRequest request)
    {
        var (scrub, blocked, elements) = boundary.Apply(request);
        return (InteractionRecorder.DetectorHits(scrub), blocked, elements);
    }

    /// <summary>Boundary, configuration, the upstream call, and the answer whole or streamed.</summary>
    private async Task ForwardAsync(HttpContext http, IClientProtocol protocol, AdmittedRequest request)
    {
        var (detectorHits, blocked, elements) = ApplyBoundary(request);
        if (blocked is not null)
        {
            await refusals.RefuseAsync(http, protocol, request.Subject, Exchange.None with { DetectorHits = detectorHits }, blocked);
            return;
        }
        var (configured, stream) = Configured(protocol, request, elements);
        var native = request.Request.Native;
        if (native is not null) NativeConfiguration.Apply(request.System.State.Spec.Upstream.Protocol, native, request.System, request.Scope.Mode, stream);
        var exchange = new Exchange { DetectorHits = detectorHits, Sent = configured, Streamed = stream };
        var forwarded = native is null ? null : ScrubbedBody.ToUtf8Bytes(native);
        // Past this point only whether the body passed through is read, so the state of this method, which lasts as long
        // as the answer, does not keep the client's body alive.
        var passedThrough = native is not null;
        var upstream = upstreams.For(request.System);
        if (upstream.Url(request.System, protocol.Operation) is not { } url)
        {
            await refusals.RefuseAsync(http, protocol, request.Subject, exchange, Refusal.Refused(new GatewayRefusal(400, "unsupported_operation",
                $"the model behind '{request.System.State.Slug}' speaks {Core.Specs.UpstreamProtocolWire.ToName(request.System.State.Spec.Upstream.Protocol)}, which has no {request.Subject.Arrival.Endpoint}; use a system whose upstream offers them")));
            return;
        }
        string? betas = null;
        if (passedThrough && request.System.State.Spec.Upstream.Protocol == Core.Specs.UpstreamProtocol.Anthropic)
        {
            (betas, var betaError) = Protocols.Anthropic.AnthropicBetas.Read(http.Request.Headers["anthropic-beta"]);
            if (betaError is not null)
            {
                await refusals.RefuseAsync(http, protocol, request.Subject, exchange, Refusal.Refused(new GatewayRefusal(400, "invalid_beta_header", betaError)));
                return;
            }
        }
        using var timeouts = forwarder.Timeouts(request.System.State.Spec, http.RequestAborted);
        var (response, sent, failed) = await forwarder.SendAsync(request.Subject, exchange, forwarded, url, upstream, timeouts, http.RequestAborted, betas);
        using var answered = response;
        if (failed is not null)
        {
            await refusals.RefuseAsync(http, protocol, request.Subject, sent, failed);
            return;
        }
        if (stream)
        {
            // An answer boundary rewrites chunks of the common model: its stream is rendered from them, not passed through.
            var filter = boundary.StreamFilter(request);
            var output = (!passedThrough || filter is not null ? null : protocol.OpenPassThrough(http, request)) ?? protocol.OpenStream(http, request);
            request = request.Sent();
            await relay.RelayAsync(http, request, sent, answered!, output, upstream.Stream(), filter, timeouts.Token);
            return;
        }
        var (answer, received, read, unreadable) = await reader.ReadAsync(request.Subject, sent, request.Places, answered!, upstream, timeouts.Token, http.RequestAborted);
        if (unreadable is not null)
        {
            await refusals.RefuseAsync(http, protocol, request.Subject, read, unreadable);
            return;
        }
        var (released, withheld) = boundary.FilterAnswer(request, answer!);
        if (!ReferenceEquals(released, answer)) read = read.WithResponse(released);
        if (withheld is not null)
        {
            await refusals.RefuseAsync(http, protocol, request.Subject, read, withheld);
            return;
        }
        // An answer boundary reads the common model, not what it has no place for (thinking, reasoning): with one,
        // the client gets the answer rendered from what the boundary read and released, never the upstream's own.
        await delivery.DeliverAsync(http, protocol, request, read, released, passedThrough && request.System.Boundary.Answers is null ? received : null);
    }

    /// <summary>
    /// The body in the common model with the system's configuration applied, as sent; and whether it asks for a stream.
    /// Written from its elements when the boundary scanned them (<paramref name="elements"/>, with what it redacted).
    /// </summary>
    private static (byte[] Sent, bool Stream) Configured(IClientProtocol protocol, AdmittedRequest request, RedactedElements? elements)
    {
        if (elements is not null)
        {
            return ConfiguredChatBody.Write(request.Request.Received!.Value, request.System, request.Scope.Mode, request.Request.Stream, elements);
        }
        var body = request.Request.Body;
        var stream = false;
        if (protocol.Operation == GatewayOperation.Chat) stream = SystemConfiguration.ApplyChat(body, request.System, request.Scope.Mode, request.Request.Stream);
        else SystemConfiguration.ApplyEmbeddings(body, request.System);
        // Written by the boundary's writer: a message it redacted is written from the request's own UTF-8.
        return (ScrubbedBody.ToUtf8Bytes(body), stream);
    }

    /// <summary>
    /// The gateway's last resort: its endpoints end the pipeline at routing, before the host's exception handler
    /// (see <see cref="GatewayEndpoints"/>). A client that went away is not an error. Anything else is logged and
    /// answered in the client's error shape, or, once the answer has started, the connection is aborted so that
    /// the client sees a failure rather than a cut answer that looks whole.
    /// </summary>
    private async Task UnexpectedAsync(HttpContext http, IClientProtocol protocol, Arrival arrival, Exception e)
    {
        if (e is OperationCanceledException && http.RequestAborted.IsCancellationRequested) return;
        logger.LogError(e, "Unexpected error in the gateway on {Path} (interaction {InteractionId})", http.Request.Path.Value, arrival.Id);
        if (http.Response.HasStarted)
        {
            http.Abort();
            return;
        }
        http.Response.Clear();
        await protocol.WriteErrorAsync(http, new GatewayRefusal(500, "internal_error",
            $"the gateway failed to handle this request (interaction {arrival.Id}); it has been logged. Retry, and report the interaction id if it persists."),
            arrival.Id, "none");
    }
}
