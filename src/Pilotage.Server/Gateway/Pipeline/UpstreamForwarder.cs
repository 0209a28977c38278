using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Gateway.Pipeline;

/// <summary>
/// Sends the request to the system's upstream with its key and time-outs, and turns every way that can fail
/// (refused secret or address, time-out, unreachable, an error status) into a refusal that names the upstream
/// host, never a key. A failure is logged with the system, host, status and elapsed time.
/// </summary>
internal sealed class UpstreamForwarder(IHttpMessageHandlerFactory handlers, TimeProvider time, GatewayOptions options, Upstreams.UpstreamPolicy upstreamPolicy, ILogger<UpstreamForwarder> logger) : IDisposable
{
    public const string UpstreamClient = "pilotage-upstream";
    private static readonly TimeSpan DefaultFirstByteTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultTotalTimeout = TimeSpan.FromSeconds(120);

    // The factory's pooled handler chain, called like YARP calls its upstream: an HttpClient on top would add its
    // own linked cancellation source and pending-request bookkeeping to every call, for a timeout the gateway
    // already enforces per system. The handler's lifetime is infinite (PilotageApp), so keeping it is safe.
    private readonly HttpMessageInvoker _upstream = new(handlers.CreateHandler(UpstreamClient), disposeHandler: false);
    private readonly UpstreamTimeoutPool _timeouts = new(options, time);

    /// <summary>
    /// One source for both time-outs: it fires at the first-byte limit until the upstream's headers arrive
    /// (<see cref="UpstreamTimeouts.HeadersArrived"/>), then at the total limit. Disposing it gives it back to the pool.
    /// </summary>
    public UpstreamTimeouts Timeouts(SystemSpec spec, CancellationToken aborted) =>
        _timeouts.Rent(
            spec.Upstream.FirstByteTimeoutSeconds is { } f ? TimeSpan.FromSeconds(f) : DefaultFirstByteTimeout,
            spec.Upstream.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : DefaultTotalTimeout,
            aborted);

    /// <summary>The upstream's successful response (headers read), with what the exchange learnt; or the refusal.</summary>
    /// <param name="passedThrough">The client's own body, configured, when it passes through; else the common model (<see cref="Exchange.Sent"/>) is translated.</param>
    /// <param name="anthropicBetas">The client's checked <c>anthropic-beta</c> names, for a body passed through to Anthropic.</param>
    public async Task<(HttpResponseMessage? Response, Exchange Exchange, Refusal? Refusal)> SendAsync(
        Subject subject, Exchange exchange, byte[]? passedThrough, Uri url, Protocols.IUpstreamProtocol protocol, UpstreamTimeouts timeouts, CancellationToken aborted,
        string? anthropicBetas = null)
    {
        var spec = subject.Spec;
        byte[] body;
        try
        {
            body = passedThrough ?? protocol.Request(exchange.Sent!);
        }
        catch (InvalidDataException e)
        {
            return (null, exchange, Refusal.Failed(new GatewayRefusal(400, "untranslatable_request",
                $"the request cannot be sent to the model behind '{spec.Name}', which speaks {UpstreamProtocolWire.ToName(spec.Upstream.Protocol)} ({e.Message})")));
        }
        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(body),
            // HTTP/2 where the upstream offers it (TLS ALPN), else HTTP/1.1: streamed answers last seconds, and over
            // HTTP/1.1 each holds a connection of its own (docs/scaling.md).
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        // Sent as written, not parsed into a header value object first: the same bytes on the wire, one object fewer per call.
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        string? upstreamKey = null;
        if (spec.Upstream.ApiKeyEnv is { } env)
        {
            // Checked at every call, not only when the spec was applied: a spec stored before the operator's policy
            // changed must not send the variable either.
            if (upstreamPolicy.SecretRefusal(env, url) is { } secretRefusal)
            {
                logger.LogWarning("Upstream call of {System} refused: {Reason}", spec.Name, secretRefusal);
                return (null, exchange, Refusal.Failed(Upstreams.UpstreamRefusals.Secret(spec, secretRefusal)));
            }
            upstreamKey = Environment.GetEnvironmentVariable(env) is { Length: > 0 } value ? value : null;
        }
        protocol.Authorize(message.Headers, upstreamKey);
        // Only for a body passed through to Anthropic, checked by the pipeline (Protocols/Anthropic/AnthropicBetas).
        if (anthropicBetas is not null) message.Headers.TryAddWithoutValidation("anthropic-beta", anthropicBetas);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        double Elapsed() => System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            var response = await _upstream.SendAsync(message, timeouts.Token);
            timeouts.HeadersArrived();
            exchange = exchange with { FirstByteMs = exchange.FirstByteMs ?? subject.Arrival.ElapsedMs, UpstreamStatus = (int)response.StatusCode };
            if (response.IsSuccessStatusCode)
            {
                // Nothing reads a served answer's response headers (an error's are read below), and a streamed answer's
                // response is kept, by its stream, for the answer's length: a hosted model sends twenty or so (request
                // ids, rate limits, cookies), each a young string that every collection would copy while it streams.
                // Its content headers (type, length) stay.
                response.Headers.Clear();
                return (response, exchange, null);
            }
            var refusal = await ErrorAsync(response, spec, UpstreamFailures.HostOf(url), Elapsed(), upstreamKey, timeouts.Token);
            response.Dispose();
            if (exchange.UpstreamStatus is >= 500 or 401 or 403) UpstreamFailures.Log(logger, spec.Name, url, exchange.UpstreamStatus.Value.ToString(CultureInfo.InvariantCulture), Elapsed(), refusal.Code);
            return (null, exchange, Refusal.Failed(refusal));
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            return (null, exchange, Refusal.Abandoned("the client disconnected before the upstream answered"));
        }
        catch (OperationCanceledException)
        {
            var which = timeouts.TotalExpired ? "in time" : $"within {timeouts.FirstByte.TotalSeconds:0} s";
            UpstreamFailures.Log(logger, spec.Name, url, "timeout", Elapsed(), "upstream_timeout");
            return (null, exchange, Refusal.Failed(new GatewayRefusal(504, "upstream_timeout",
                $"the model behind '{spec.Name}' at {UpstreamFailures.HostOf(url)} did not answer {which} (gave up after {UpstreamFailures.Took(Elapsed())}). Try again shortly; if it persists, {ServingPolicy.ManualProcess} and tell the owner {spec.Owner}.")));
        }
        catch (HttpRequestException e) when (e.InnerException is Upstreams.UpstreamAddressRefusedException refused)
        {
            logger.LogWarning("Upstream connection of {System} refused: {Reason}", spec.Name, refused.Message);
            return (null, exchange, Refusal.Failed(Upstreams.UpstreamRefusals.Address(spec, refused)));
        }
        catch (HttpRequestException e)
        {
            UpstreamFailures.Log(logger, spec.Name, url, "no response: " + e.HttpRequestError, Elapsed(), "upstream_unreachable");
            return (null, exchange, Refusal.Failed(new GatewayRefusal(502, "upstream_unreachable",
                $"the model behind '{spec.Name}' could not be reached at {UpstreamFailures.HostOf(url)}: {UpstreamFailures.Why(e)} (after {UpstreamFailures.Took(Elapsed())}). Try again shortly; if it persists, {ServingPolicy.ManualProcess} and tell the owner {spec.Owner}.")));
        }
    }

    /// <param name="upstreamKey">The key sent: an upstream that quotes it back (some do, in their error messages) must not pass it to the caller, the evidence or the logs.</param>
    private static async Task<GatewayRefusal> ErrorAsync(HttpResponseMessage response, SystemSpec spec, string host, double elapsedMs, string? upstreamKey, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        string? upstreamMessage = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            upstreamMessage = JsonNode.Parse(text.Length > 64_000 ? text[..64_000] : text)?["error"]?["message"]?.GetValue<string>();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or HttpRequestException or OperationCanceledException)
        {
            // The status says enough; an unreadable error body is not worth failing differently.
        }
        var detail = upstreamMessage is null ? "" : $": {Upstreams.UpstreamRefusals.WithoutKey(upstreamMessage, upstreamKey)}";
        var location = Upstreams.UpstreamRefusals.WithoutKey(response.Headers.Location?.ToString() ?? "no address", upstreamKey);
        return status switch
        {
            401 or 403 => new GatewayRefusal(502, "upstream_auth", $"the model provider at {host} refused Pilotage's credentials for '{spec.Name}' ({status}); the owner {spec.Owner} must check upstream.apiKeyEnv."),
            >= 300 and < 400 => new GatewayRefusal(502, "upstream_redirect",
                $"the model provider for '{spec.Name}' answered with a redirect ({status}) to {location}; the owner {spec.Owner} should set upstream.baseUrl to the address it redirects to."),
            429 => new GatewayRefusal(429, "upstream_rate_limited", $"the model provider behind '{spec.Name}' is rate limiting{detail}; wait and retry."),
            >= 400 and < 500 => new GatewayRefusal(status, "upstream_rejected", $"the model rejected the request ({status}){detail}"),
            _ => new GatewayRefusal(502, "upstream_error", $"the model behind '{spec.Name}' at {host} failed ({status} after {UpstreamFailures.Took(elapsedMs)}){detail}. Try again shortly; if it persists, {ServingPolicy.ManualProcess}."),
        };
    }

    /// <summary>The invoker only; the pooled handler chain belongs to the factory.</summary>
    public void Dispose() => _upstream.Dispose();
}
