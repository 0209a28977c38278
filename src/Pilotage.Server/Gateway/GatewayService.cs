using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.Access;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Gateway;

/// <summary>
/// The enforcement point: authenticates the key against the policy snapshot, decides, applies the
/// data boundary and the system's configuration, forwards to the upstream, and releases the answer
/// only with its evidence record (durable mode) — for every OpenAI-compatible client.
/// </summary>
public sealed class GatewayService(
    PolicyCache policy,
    EvidenceWriter evidence,
    IHttpMessageHandlerFactory upstreamHandlers,
    TimeProvider time,
    BudgetLedger budget,
    KeyRateLimits rateLimits,
    UpstreamLimits upstreamLimits,
    BufferBudget bufferBudget,
    EvalRunRegistry evalRuns,
    GatewayMetrics metrics,
    Upstreams.UpstreamPolicy upstreamPolicy,
    Hosting.PilotageServerOptions options,
    ILogger<GatewayService> logger) : IDisposable
{
    public const string UpstreamClient = "pilotage-upstream";
    private static readonly TimeSpan DefaultFirstByteTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan DefaultTotalTimeout = TimeSpan.FromSeconds(120);
    private const int MaxResponseBytes = 32 * 1024 * 1024;
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };
    // Duplicate keys in a request are refused: with two "model"s, the gateway and the upstream could each read a different one.
    private static readonly JsonDocumentOptions RequestParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    // The factory's pooled handler chain, called like YARP calls its upstream: an HttpClient on top would add its
    // own linked cancellation source and pending-request bookkeeping to every call, for a timeout the gateway
    // already enforces per system. The handler's lifetime is infinite (PilotageApp), so keeping it is safe.
    private readonly HttpMessageInvoker _upstream = new(upstreamHandlers.CreateHandler(UpstreamClient), disposeHandler: false);

    public async Task ChatCompletionsAsync(HttpContext http)
    {
        var request = new GatewayRequest("chat", time.GetUtcNow(), InteractionId.New(time));
        using var activity = GatewayTracing.Start(request);
        try
        {
            await ChatCompletionsAsync(http, request);
        }
        catch (Exception e) when (GatewayTracing.Threw(activity, e))
        {
            throw; // never reached: the filter only tags the activity
        }
        catch (Exception e)
        {
            await UnexpectedAsync(http, request, e);
        }
        finally
        {
            GatewayTracing.Finish(activity, request, http);
        }
    }

    private async Task ChatCompletionsAsync(HttpContext http, GatewayRequest request)
    {
        using var admitted = await AdmitAsync(http, request, requireMessages: true);
        if (admitted is null) return;
        var body = admitted.Body;
        var system = request.System!;
        var spec = system.State.Spec;
        var mode = request.Scope!.Mode;

        var scrub = RequestScrubber.ScrubChatCompletion(body, system.Boundary, BoundaryBudgetFor(system));
        request.Boundary = scrub;
        if (scrub.Blocked)
        {
            await RefuseAsync(http, request, BoundaryRefusal(spec, scrub));
            return;
        }
        ApplyConfiguration(body, spec);
        if (mode == ServingMode.ReadOnly) StripSideEffectingTools(body, system.SideEffectingTools);

        var clientWantsStream = body["stream"]?.GetValueKind() == JsonValueKind.True;
        var holdsAnswer = mode is ServingMode.Approval or ServingMode.Shadow;
        var stream = clientWantsStream && !holdsAnswer;
        var clientWantsUsage = false;
        if (stream)
        {
            clientWantsUsage = body["stream_options"]?["include_usage"]?.GetValueKind() == JsonValueKind.True;
            // Token counts are evidence: ask for them, and drop the extra chunk if the client did not.
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else if (clientWantsStream)
        {
            body["stream"] = false;
            body.Remove("stream_options");
        }
        request.Streamed = stream;
        request.SetRequest(body);

        using var timeouts = Timeouts(spec, http.RequestAborted);
        using var upstream = await SendAsync(http, request, system.ChatUrl, spec, timeouts);
        if (upstream is null) return;
        if (stream)
        {
            await RelayStreamAsync(http, request, upstream, clientWantsUsage, timeouts.Token);
            return;
        }
        var answer = await ReadAnswerAsync(http, request, admitted.Admission, upstream, timeouts.Token);
        if (answer is null) return;
        await DeliverAnswerAsync(http, request, answer);
    }

    public async Task EmbeddingsAsync(HttpContext http)
    {
        var request = new GatewayRequest("embeddings", time.GetUtcNow(), InteractionId.New(time));
        using var activity = GatewayTracing.Start(request);
        try
        {
            await EmbeddingsAsync(http, request);
        }
        catch (Exception e) when (GatewayTracing.Threw(activity, e))
        {
            throw; // never reached: the filter only tags the activity
        }
        catch (Exception e)
        {
            await UnexpectedAsync(http, request, e);
        }
        finally
        {
            GatewayTracing.Finish(activity, request, http);
        }
    }

    private async Task EmbeddingsAsync(HttpContext http, GatewayRequest request)
    {
        using var admitted = await AdmitAsync(http, request, requireMessages: false);
        if (admitted is null) return;
        var body = admitted.Body;
        var system = request.System!;
        var spec = system.State.Spec;
        var scrub = RequestScrubber.ScrubEmbeddings(body, system.Boundary, BoundaryBudgetFor(system));
        request.Boundary = scrub;
        if (scrub.Blocked)
        {
            await RefuseAsync(http, request, BoundaryRefusal(spec, scrub));
            return;
        }
        body["model"] = spec.Upstream.Model;
        request.SetRequest(body);
        using var timeouts = Timeouts(spec, http.RequestAborted);
        using var upstream = await SendAsync(http, request, system.EmbeddingsUrl, spec, timeouts);
        if (upstream is null) return;
        var answer = await ReadAnswerAsync(http, request, admitted.Admission, upstream, timeouts.Token);
        if (answer is null) return;
        // Vectors are not evidence anyone reads: keep the usage, not the numbers. For the same reason
        // approval mode serves them directly: there is nothing a reviewer could judge.
        request.ResponseText = null;
        if (request.Scope!.Mode == ServingMode.Shadow)
        {
            await ShadowAsync(http, request);
            return;
        }
        await CommitThenAsync(http, request, "served", () => WriteJsonAsync(http, request, StatusCodes.Status200OK, answer.Bytes));
    }

    public async Task ModelsAsync(HttpContext http)
    {
        var request = new GatewayRequest("models", time.GetUtcNow(), InteractionId.New(time));
        try
        {
            await ModelsAsync(http, request);
        }
        catch (Exception e)
        {
            await UnexpectedAsync(http, request, e);
        }
    }

    private async Task ModelsAsync(HttpContext http, GatewayRequest request)
    {
        var snapshot = policy.Current;
        if (Authenticate(http, snapshot, request) is { } refusal)
        {
            await OpenAiErrors.WriteAsync(http, refusal, null, "none");
            return;
        }
        var user = request.Key!.User;
        var now = time.GetUtcNow();
        var usable = snapshot.Systems.Values
            .Where(s => ServingPolicy.Decide(s.State, CallerOf(snapshot, user, s), now).Allowed)
            .OrderBy(s => s.State.Slug, StringComparer.Ordinal)
            .Select(s => new ModelEntry(s.State.Slug, "model", 0, "pilotage"))
            .ToList();
        http.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(http.Response.Body, new ModelList("list", usable), GatewayJsonContext.Default.ModelList, http.RequestAborted);
    }

    /// <summary>
    /// The gateway's last resort: its endpoints end the pipeline at routing, before the host's exception handler
    /// (see <see cref="GatewayEndpoints"/>). A client that went away is not an error. Anything else is logged and
    /// answered in the OpenAI error shape an SDK can show, or, once the answer has started, the connection is
    /// aborted so that the client sees a failure rather than a cut answer that looks whole.
    /// </summary>
    private async Task UnexpectedAsync(HttpContext http, GatewayRequest request, Exception e)
    {
        if (e is OperationCanceledException && http.RequestAborted.IsCancellationRequested) return;
        logger.LogError(e, "Unexpected error in the gateway on {Path} (interaction {InteractionId})", http.Request.Path.Value, request.Id);
        if (http.Response.HasStarted)
        {
            http.Abort();
            return;
        }
        http.Response.Clear();
        await OpenAiErrors.WriteAsync(http, new GatewayRefusal(500, "internal_error",
            $"the gateway failed to handle this request (interaction {request.Id}); it has been logged. Retry, and report the interaction id if it persists."),
            request.Id, request.Mode);
    }

    /// <summary>The parsed request and what it holds (places in flight, buffered bytes) until it is over.</summary>
    private sealed class Admitted(JsonObject body, GatewayAdmission admission) : IDisposable
    {
        public JsonObject Body => body;
        public GatewayAdmission Admission => admission;
        public void Dispose() => admission.Dispose();
    }

    /// <summary>
    /// Key, places in flight, body (within the byte budget), system, policy decision, rate and budget:
    /// everything before the content is looked at. The key's and the server's places are taken before
    /// the body is read, so a request refused for load costs neither its body nor a parse.
    /// </summary>
    private async Task<Admitted?> AdmitAsync(HttpContext http, GatewayRequest request, bool requireMessages)
    {
        var snapshot = policy.Current;
        if (Authenticate(http, snapshot, request) is { } authRefusal)
        {
            metrics.Refused(authRefusal.Code, null);
            await OpenAiErrors.WriteAsync(http, authRefusal, null, "none");
            return null;
        }
        var (admission, busy) = upstreamLimits.Admit(request.Key!.Id);
        if (admission is null)
        {
            await ShedAsync(http, request, busy!);
            return null;
        }
        var admitted = false;
        try
        {
            var body = await ReadBodyAsync(http, request, admission, requireMessages);
            if (body is null) return null;
            admitted = true;
            return new Admitted(body, admission);
        }
        finally
        {
            if (!admitted) admission.Dispose();
        }
    }

    /// <summary>Refused for load before the body was read: Retry-After, and the connection closes rather than drain an unread body.</summary>
    private async Task ShedAsync(HttpContext http, GatewayRequest request, GatewayRefusal refusal)
    {
        http.Response.Headers.RetryAfter = "1";
        // HTTP/1.1 only: HTTP/2 and 3 reset the one stream instead, and forbid the header.
        if (http.Request.ContentLength is not 0 && HttpProtocol.IsHttp11(http.Request.Protocol)) http.Response.Headers.Connection = "close";
        await RefuseAsync(http, request, refusal);
    }

    // The duplicate-key check unescapes every key and throws InvalidOperationException, not JsonException, when a
    // key holds half of a UTF-16 surrogate pair ("\ud800"): that is a malformed request like any other, not a 500.
    private static JsonObject? ParseRequest(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return JsonNode.Parse(bytes, documentOptions: RequestParseOptions) as JsonObject;
        }
        catch (InvalidOperationException e)
        {
            throw new JsonException("a property name holds a \\u escape of half a UTF-16 surrogate pair, with no partner; fix or remove that key", e);
        }
    }

    private async Task<JsonObject?> ReadBodyAsync(HttpContext http, GatewayRequest request, GatewayAdmission admission, bool requireMessages)
    {
        var snapshot = policy.Current;
        JsonObject? body;
        ReadOnlyMemory<byte> received = default;
        try
        {
            if (await bufferBudget.ReadBodyAsync(http.Request, admission, http.RequestAborted) is not { } bytes)
            {
                await ShedAsync(http, request, bufferBudget.Exhausted("this request's body"));
                return null;
            }
            body = ParseRequest(bytes.Span);
            received = bytes;
        }
        catch (JsonException e)
        {
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(400, "invalid_json", $"the request body is not valid JSON ({e.Message}); send an OpenAI-style JSON object"), null, "none");
            return null;
        }
        catch (BadHttpRequestException e)
        {
            await OpenAiErrors.WriteAsync(http, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? new GatewayRefusal(413, "request_too_large", $"the request body is larger than the gateway accepts ({Hosting.PilotageApp.MaxRequestBodyBytes / 1024 / 1024} MB); send less text, or split the work into several requests")
                : new GatewayRefusal(e.StatusCode, "invalid_request", $"the request could not be read: {e.Message}"), null, "none");
            return null;
        }
        var problem = body is null ? "the request body must be a JSON object"
            : RequestShape.TextProblem(body, received.Span) is { } text ? text
            : body["model"] is not JsonValue model || model.GetValueKind() != JsonValueKind.String ? "'model' must be a string: the name of the AI system (GET /v1/models lists yours)"
            : requireMessages && body["messages"] is not JsonArray { Count: > 0 } ? "'messages' must be a non-empty array"
            : !requireMessages && body["input"] is null ? "'input' is required"
            : requireMessages ? RequestShape.ChatProblem(body)
            : null;
        if (problem is not null)
        {
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(400, "invalid_request", problem), null, "none");
            return null;
        }
        var slug = body!["model"]!.GetValue<string>();
        if (!snapshot.Systems.TryGetValue(slug, out var system))
        {
            await OpenAiErrors.WriteAsync(http, new GatewayRefusal(404, "model_not_found",
                $"there is no AI system '{slug}'. Use the system's name as the model; GET /v1/models lists the systems your key may use now."), null, "none");
            return null;
        }
        request.System = system;
        var user = request.Key!.User;
        // A test case of an evaluation run (chat completions only) is attached before the decision: the
        // system's owner or an admin may evaluate it without being one of its users (see CallerOf).
        if (requireMessages && http.Request.Headers.TryGetValue(EvalRunRegistry.Header, out var evalHeader)
            && await evalRuns.AttachAsync(evalHeader.ToString(), request, http.RequestAborted) is { } evalRefusal)
        {
            await RefuseAsync(http, request, evalRefusal);
            return null;
        }
        var decision = ServingPolicy.Decide(system.State, CallerOf(snapshot, user, system, evaluating: request.EvalRun is not null), request.At);
        request.Scope = decision.Scope;
        var refusal = decision.Refusal
            ?? rateLimits.Check(system.State.Spec, request.Key.Id)
            ?? budget.Check(system.State.Spec, user.Id, user.Email);
        if (refusal is not null)
        {
            if (refusal.Code == "rate_limited") http.Response.Headers.RetryAfter = "60";
            await RefuseAsync(http, request, refusal);
            return null;
        }
        // The system's place needs the body's model, so it comes last; the admission holds it from here on.
        if (upstreamLimits.AdmitSystem(admission, system.State.Slug) is { } systemBusy)
        {
            http.Response.Headers.RetryAfter = "1";
            await RefuseAsync(http, request, systemBusy);
            return null;
        }
        return body;
    }

    private static GatewayRefusal? Authenticate(HttpContext http, PolicySnapshot snapshot, GatewayRequest request)
    {
        var check = snapshot.CheckKey(PolicySnapshot.BearerToken(http.Request.Headers.Authorization.ToString()), request.At);
        var key = check.Key;
        request.Key = check.Usable;
        return check.Problem switch
        {
            KeyProblem.None => null,
            KeyProblem.Missing => new GatewayRefusal(401, "missing_api_key", "send your Pilotage key as 'Authorization: Bearer <key>' (an admin creates one with 'pilotage keys create --user <you>')"),
            KeyProblem.Unknown => new GatewayRefusal(401, "invalid_api_key", "this is not a valid Pilotage key; check the key you configured, or ask an admin for a new one"),
            KeyProblem.Revoked => new GatewayRefusal(401, "key_revoked", $"key {key!.Id} was revoked; ask an admin for a new one"),
            KeyProblem.Expired => new GatewayRefusal(401, "key_expired", $"key {key!.Id} expired on {key.ExpiresAt:yyyy-MM-dd}; ask an admin for a new one"),
            _ => new GatewayRefusal(401, "account_deactivated", $"the account {key!.User.Email} is deactivated"),
        };
    }

    /// <param name="evaluating">The request is a case of the caller's running evaluation run: its owner or an admin
    /// then evaluates the system without group or training (recorded as evaluation, never as use).</param>
    internal static Caller CallerOf(PolicySnapshot snapshot, Principal user, GatewaySystem system, bool evaluating = false) =>
        new(user.Id, user.Email, user.Groups, snapshot.HasTraining(user.Id, system.State.Id))
        {
            Evaluating = evaluating && (user.Role == Role.Admin
                || (user.Role == Role.Owner && string.Equals(user.Email, system.State.Spec.Owner, StringComparison.OrdinalIgnoreCase))),
        };

    /// <summary>A budget for the request's custom patterns (none to keep when the spec declares none).</summary>
    private BoundaryBudget? BoundaryBudgetFor(GatewaySystem system) =>
        system.Boundary.HasCustomDetectors ? new BoundaryBudget(options.DataBoundaryBudget) : null;

    private static GatewayRefusal BoundaryRefusal(SystemSpec spec, ScrubResult scrub)
    {
        if (scrub.BudgetExceededBy is { } detector) return Upstreams.UpstreamRefusals.BoundaryBudget(spec, detector);
        if (scrub.Uninspectable.Count > 0 && scrub.BlockedBy.Count == 0)
        {
            return new GatewayRefusal(422, "data_boundary_uninspectable",
                $"'{spec.Name}' has a data boundary and this input cannot be inspected (token ids); send text instead. Nothing was sent to the model.");
        }
        return new GatewayRefusal(422, "data_boundary_blocked",
            $"the request contains {string.Join(", ", scrub.BlockedBy.Select(Describe))}, which '{spec.Name}' must not receive. Remove it and send again; nothing was sent to the model.");

        static string Describe(string detector) => detector switch
        {
            "credit_card" => "a credit card number",
            "iban" => "an IBAN",
            "email" => "an e-mail address",
            "phone" => "a phone number",
            _ => $"data matching '{detector}'",
        };
    }

    /// <summary>The spec's model, system prompt and parameters replace what the client sent: the config is under change control.</summary>
    private static void ApplyConfiguration(JsonObject body, SystemSpec spec)
    {
        body["model"] = spec.Upstream.Model;
        var config = spec.Config;
        if (!string.IsNullOrEmpty(config.SystemPrompt) && body["messages"] is JsonArray messages)
        {
            messages.Insert(0, new JsonObject { ["role"] = "system", ["content"] = config.SystemPrompt });
        }
        if (config.Temperature is { } temperature) body["temperature"] = temperature;
        if (config.TopP is { } topP) body["top_p"] = topP;
        if (config.MaxTokens is { } maxTokens)
        {
            body.Remove("max_completion_tokens");
            body["max_tokens"] = maxTokens;
        }
    }

    /// <summary>
    /// Read-only mode: tools that change things are not offered to the model at all, in <c>tools</c> or in the
    /// legacy <c>functions</c> list (which OpenAI-compatible servers still honour). Names were type-checked by
    /// <see cref="RequestShape.ChatProblem"/>.
    /// </summary>
    private static void StripSideEffectingTools(JsonObject body, IReadOnlySet<string> sideEffecting)
    {
        if (sideEffecting.Count == 0) return;
        if (body["tools"] is JsonArray tools)
        {
            tools.RemoveAll(tool => UntrustedJson.FunctionName(UntrustedJson.Member(tool, "function")) is { } name && sideEffecting.Contains(name));
            if (tools.Count == 0)
            {
                body.Remove("tools");
                body.Remove("tool_choice");
                body.Remove("parallel_tool_calls");
            }
            else if (UntrustedJson.FunctionName(UntrustedJson.Member(body["tool_choice"], "function")) is { } forced && sideEffecting.Contains(forced))
            {
                body["tool_choice"] = "auto";
            }
        }
        if (body["functions"] is JsonArray functions)
        {
            functions.RemoveAll(function => UntrustedJson.FunctionName(function) is { } name && sideEffecting.Contains(name));
            if (functions.Count == 0)
            {
                body.Remove("functions");
                body.Remove("function_call");
            }
            else if (UntrustedJson.FunctionName(body["function_call"]) is { } forced && sideEffecting.Contains(forced))
            {
                body["function_call"] = "auto";
            }
        }
    }

    /// <summary>
    /// One source for both time-outs: it fires at the first-byte limit until the upstream's headers arrive
    /// (<see cref="UpstreamTimeouts.HeadersArrived"/>), then at the total limit. One linked source and one timer
    /// per request instead of two.
    /// </summary>
    private UpstreamTimeouts Timeouts(SystemSpec spec, CancellationToken aborted) =>
        new(time,
            spec.Upstream.FirstByteTimeoutSeconds is { } f ? TimeSpan.FromSeconds(f) : DefaultFirstByteTimeout,
            spec.Upstream.TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : DefaultTotalTimeout,
            aborted);

    private async Task<HttpResponseMessage?> SendAsync(HttpContext http, GatewayRequest request, Uri url, SystemSpec spec, UpstreamTimeouts timeouts)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(request.RequestBytes!) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        string? upstreamKey = null;
        if (spec.Upstream.ApiKeyEnv is { } env)
        {
            // Checked at every call, not only when the spec was applied: a spec stored before the operator's policy
            // changed must not send the variable either.
            if (upstreamPolicy.SecretRefusal(env, url) is { } secretRefusal)
            {
                logger.LogWarning("Upstream call of {System} refused: {Reason}", spec.Name, secretRefusal);
                await FailAsync(http, request, Upstreams.UpstreamRefusals.Secret(spec, secretRefusal));
                return null;
            }
            upstreamKey = Environment.GetEnvironmentVariable(env) is { Length: > 0 } value ? value : null;
            if (upstreamKey is not null) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", upstreamKey);
        }
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        double Elapsed() => System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var host = UpstreamFailures.HostOf(url);
        try
        {
            var response = await _upstream.SendAsync(message, timeouts.Token);
            timeouts.HeadersArrived();
            request.MarkFirstByte();
            request.UpstreamStatus = (int)response.StatusCode;
            if (response.IsSuccessStatusCode) return response;
            var refusal = await UpstreamErrorAsync(response, spec, host, Elapsed(), upstreamKey, timeouts.Token);
            response.Dispose();
            if (request.UpstreamStatus is >= 500 or 401 or 403) UpstreamFailures.Log(logger, spec.Name, url, request.UpstreamStatus.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), Elapsed(), refusal.Code);
            await FailAsync(http, request, refusal);
            return null;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            await RecordOnlyAsync(request.ToRecord("failed", error: "the client disconnected before the upstream answered"));
            return null;
        }
        catch (OperationCanceledException)
        {
            var which = timeouts.TotalExpired ? "in time" : $"within {timeouts.FirstByte.TotalSeconds:0} s";
            UpstreamFailures.Log(logger, spec.Name, url, "timeout", Elapsed(), "upstream_timeout");
            await FailAsync(http, request, new GatewayRefusal(504, "upstream_timeout",
                $"the model behind '{spec.Name}' at {host} did not answer {which} (gave up after {UpstreamFailures.Took(Elapsed())}). Try again shortly; if it persists, {ServingPolicy.ManualProcess} and tell the owner {spec.Owner}."));
            return null;
        }
        catch (HttpRequestException e) when (e.InnerException is Upstreams.UpstreamAddressRefusedException refused)
        {
            logger.LogWarning("Upstream connection of {System} refused: {Reason}", spec.Name, refused.Message);
            await FailAsync(http, request, Upstreams.UpstreamRefusals.Address(spec, refused));
            return null;
        }
        catch (HttpRequestException e)
        {
            UpstreamFailures.Log(logger, spec.Name, url, "no response: " + e.HttpRequestError, Elapsed(), "upstream_unreachable");
            await FailAsync(http, request, new GatewayRefusal(502, "upstream_unreachable",
                $"the model behind '{spec.Name}' could not be reached at {host}: {UpstreamFailures.Why(e)} (after {UpstreamFailures.Took(Elapsed())}). Try again shortly; if it persists, {ServingPolicy.ManualProcess} and tell the owner {spec.Owner}."));
            return null;
        }
    }

    /// <param name="upstreamKey">The key sent: an upstream that quotes it back (some do, in their error messages) must not pass it to the caller, the evidence or the logs.</param>
    private static async Task<GatewayRefusal> UpstreamErrorAsync(HttpResponseMessage response, SystemSpec spec, string host, double elapsedMs, string? upstreamKey, CancellationToken ct)
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

    /// <summary>An upstream answer: its bytes as received, and the node tree only when a mode must look inside.</summary>
    private sealed record Answer(byte[] Bytes)
    {
        public JsonNode? Json() => JsonNode.Parse(Bytes, documentOptions: ParseOptions);
    }

    private async Task<Answer?> ReadAnswerAsync(HttpContext http, GatewayRequest request, GatewayAdmission admission, HttpResponseMessage upstream, CancellationToken ct)
    {
        var spec = request.System!.State.Spec;
        byte[] bytes;
        try
        {
            await using var stream = await upstream.Content.ReadAsStreamAsync(ct);
            // Sized from Content-Length when the upstream sends one (up to the first budget step, so the
            // pre-sized buffer never exceeds what is reserved below), and read through a pooled chunk: a fresh
            // 16 KB chunk plus a growing buffer and its final copy were the largest allocation of a request
            // (see docs/benchmarks.md, alloc mode). The length is only a hint; the loop still enforces the cap.
            const int BudgetStep = 256 * 1024;
            var expected = upstream.Content.Headers.ContentLength is > 0 and <= BudgetStep and var length ? (int)length : 0;
            using var buffer = new MemoryStream(expected);
            var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                long reserved = 0;
                int read;
                while ((read = await stream.ReadAsync(chunk, ct)) > 0)
                {
                    if (buffer.Length + read > MaxResponseBytes) throw new InvalidDataException("the answer is larger than 32 MB");
                    // The answer counts against the same server-wide budget as request bodies (PILOTAGE_MAX_BUFFERED_MB),
                    // so 512 calls in flight cannot each hold a 32 MB answer at once.
                    if (buffer.Length + read > reserved)
                    {
                        var more = Math.Max(buffer.Length + read - reserved, BudgetStep);
                        if (!bufferBudget.TryReserve(admission, more * BufferBudget.CostPerByte))
                        {
                            await FailAsync(http, request, bufferBudget.Exhausted($"the answer from '{spec.Name}' ({(buffer.Length + read) / 1024} KB so far)", sentToModel: true));
                            return null;
                        }
                        reserved += more;
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
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            var timedOut = e is OperationCanceledException;
            await FailAsync(http, request, new GatewayRefusal(timedOut ? 504 : 502, timedOut ? "upstream_timeout" : "upstream_truncated",
                $"the answer from the model behind '{spec.Name}' {(timedOut ? "took too long" : "was cut off")} ({e.Message}). Try again; if it persists, {ServingPolicy.ManualProcess}."));
            return null;
        }
        catch (OperationCanceledException)
        {
            await RecordOnlyAsync(request.ToRecord("failed", error: "the client disconnected while the upstream answered"));
            return null;
        }
        // One forward pass over the bytes checks the shape and reads the token counts; building a node
        // tree for every answer would cost more than the rest of the request (see docs/benchmarks.md).
        if (!CompletionScanner.TryScan(bytes, out var tokensIn, out var tokensOut))
        {
            await FailAsync(http, request, new GatewayRefusal(502, "upstream_malformed",
                $"the model behind '{spec.Name}' answered with something that is not an OpenAI JSON response. Try again; if it persists, tell the owner {spec.Owner}."));
            return null;
        }
        request.TokensIn = tokensIn;
        request.TokensOut = tokensOut;
        request.SetResponse(bytes);
        return new Answer(bytes);
    }

    private async Task DeliverAnswerAsync(HttpContext http, GatewayRequest request, Answer answer)
    {
        var system = request.System!;
        string? blockedTool = null;
        if (request.Scope!.Mode == ServingMode.ReadOnly)
        {
            try
            {
                blockedTool = BlockedToolCall(answer.Json(), system.SideEffectingTools);
            }
            catch (InvalidDataException e)
            {
                var spec = system.State.Spec;
                await FailAsync(http, request, new GatewayRefusal(502, "upstream_malformed",
                    $"the model behind '{spec.Name}' called a function Pilotage cannot identify ({e.Message}); '{system.State.Slug}' is read-only, so the answer was not passed on and nothing was executed. Try again; if it persists, tell the owner {spec.Owner}."));
                return;
            }
        }
        switch (request.Scope.Mode)
        {
            case ServingMode.Shadow:
                await ShadowAsync(http, request);
                return;
            case ServingMode.Approval:
                await HoldAsync(http, request);
                return;
            case ServingMode.ReadOnly when blockedTool is { } tool:
                await RefuseAfterAnswerAsync(http, request, new GatewayRefusal(403, "side_effect_blocked",
                    $"the model tried to call '{tool}', which changes things; '{system.State.Slug}' is read-only during its {request.Scope.Label}. Nothing was executed; do it through the usual process."));
                return;
            default:
                await CommitThenAsync(http, request, "served", () => WriteJsonAsync(http, request, StatusCodes.Status200OK, answer.Bytes));
                return;
        }
    }

    /// <summary>The first side-effecting function the answer (or stream chunk) calls, by tool call or legacy
    /// <c>function_call</c>; null when none. Throws <see cref="InvalidDataException"/> for a name it cannot read.</summary>
    private static string? BlockedToolCall(JsonNode? answer, IReadOnlySet<string> sideEffecting)
    {
        if (sideEffecting.Count == 0 || UntrustedJson.Member(answer, "choices") is not JsonArray choices) return null;
        foreach (var choice in choices)
        {
            var message = UntrustedJson.Member(choice, "message") ?? UntrustedJson.Member(choice, "delta");
            if (UntrustedJson.FunctionName(UntrustedJson.Member(message, "function_call")) is { } legacy && sideEffecting.Contains(legacy)) return legacy;
            if (UntrustedJson.Member(message, "tool_calls") is not JsonArray calls) continue;
            foreach (var call in calls)
            {
                if (UntrustedJson.FunctionName(UntrustedJson.Member(call, "function")) is { } name && sideEffecting.Contains(name)) return name;
            }
        }
        return null;
    }

    /// <summary>What the relay needs from one stream chunk.</summary>
    private readonly record struct StreamChunk(string? BlockedTool, bool UsageOnly);

    /// <summary>A stream chunk the gateway cannot read: not JSON, not an object, or fields it must read that it cannot (502 <c>upstream_malformed</c>).</summary>
    private sealed class MalformedChunkException(string message, Exception? inner = null) : IOException(message, inner);

    /// <summary>
    /// Reads one chunk: its token counts into the request, its text onto <paramref name="text"/>, and in read-only mode
    /// the first side-effecting function it calls. A chunk it cannot read throws <see cref="MalformedChunkException"/>.
    /// </summary>
    private static StreamChunk ReadChunk(ReadOnlySpan<char> data, GatewayRequest request, GatewaySystem system, StringBuilder text)
    {
        JsonNode? chunk;
        try
        {
            chunk = JsonNode.Parse(data.ToString(), documentOptions: ParseOptions);
        }
        catch (JsonException)
        {
            throw new MalformedChunkException("a chunk that is not JSON");
        }
        if (chunk is not JsonObject)
        {
            throw new MalformedChunkException("a chunk that is not a JSON object");
        }
        try
        {
            var usage = UntrustedJson.Member(chunk, "usage");
            if (usage is JsonObject)
            {
                request.TokensIn = UntrustedJson.Int32(UntrustedJson.Member(usage, "prompt_tokens")) ?? request.TokensIn;
                request.TokensOut = UntrustedJson.Int32(UntrustedJson.Member(usage, "completion_tokens")) ?? request.TokensOut;
            }
            if (request.Scope!.Mode == ServingMode.ReadOnly && BlockedToolCall(chunk, system.SideEffectingTools) is { } tool)
            {
                return new StreamChunk(tool, false);
            }
            var choices = UntrustedJson.Member(chunk, "choices") as JsonArray;
            foreach (var choice in choices ?? [])
            {
                text.Append(UntrustedJson.Text(UntrustedJson.Member(UntrustedJson.Member(choice, "delta"), "content")));
            }
            return new StreamChunk(null, choices is { Count: 0 } && usage is JsonObject);
        }
        catch (InvalidDataException e)
        {
            throw new MalformedChunkException(e.Message, e);
        }
    }

    /// <summary>SSE relay: chunks go out as they arrive; <c>[DONE]</c> goes out only with the evidence committed.</summary>
    private async Task RelayStreamAsync(HttpContext http, GatewayRequest request, HttpResponseMessage upstream, bool clientWantsUsage, CancellationToken ct)
    {
        var system = request.System!;
        http.Response.StatusCode = StatusCodes.Status200OK;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        OpenAiErrors.SetHeaders(http, request.Id, request.Mode);
        var output = http.Response.Body;
        var text = new StringBuilder();
        var done = false;
        try
        {
            await using var stream = new CappedReadStream(await upstream.Content.ReadAsStreamAsync(ct), MaxResponseBytes, "the streamed answer");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue; // comments, event names and blank separators: each event is re-framed below
                }
                var data = line.AsSpan(5).Trim();
                if (data.SequenceEqual("[DONE]"))
                {
                    done = true;
                    break;
                }
                var chunk = ReadChunk(data, request, system, text);
                if (chunk.BlockedTool is { } tool)
                {
                    request.ResponseText = text.ToString();
                    var refusal = new GatewayRefusal(403, "side_effect_blocked",
                        $"the model tried to call '{tool}', which changes things; '{system.State.Slug}' is read-only. Nothing was executed.");
                    await RecordOnlyAsync(request.ToRecord("refused", refusal));
                    metrics.Refused(refusal.Code, system.State.Slug);
                    await output.WriteAsync(OpenAiErrors.StreamEvent(refusal), CancellationToken.None);
                    return;
                }
                if (chunk.UsageOnly && !clientWantsUsage) continue;
                await output.WriteAsync(Encoding.UTF8.GetBytes($"data: {data}\n\n"), ct);
                await output.FlushAsync(ct);
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException or OperationCanceledException)
        {
            request.ResponseText = text.ToString();
            if (http.RequestAborted.IsCancellationRequested)
            {
                await RecordOnlyAsync(request.ToRecord("failed", error: "the client disconnected during the stream"));
                return;
            }
            var brokeOff = $"the stream from the model behind '{system.State.Slug}' broke off ({e.Message}). The answer above is incomplete; try again.";
            var refusal = e switch
            {
                OperationCanceledException => new GatewayRefusal(504, "upstream_timeout", brokeOff),
                MalformedChunkException => new GatewayRefusal(502, "upstream_malformed",
                    $"the model behind '{system.State.Slug}' sent a part of its stream Pilotage cannot read ({e.Message}), so the stream was ended there. The answer above is incomplete; try again, and if it persists tell the owner {system.State.Spec.Owner}."),
                _ => new GatewayRefusal(502, "upstream_truncated", brokeOff),
            };
            await RecordOnlyAsync(request.ToRecord("failed", refusal, e.Message));
            metrics.Failed(system.State.Slug, refusal.Code);
            await output.WriteAsync(OpenAiErrors.StreamEvent(refusal), CancellationToken.None);
            return;
        }
        request.ResponseText = text.ToString();
        if (!done)
        {
            var refusal = new GatewayRefusal(502, "upstream_truncated",
                $"the stream from the model behind '{system.State.Slug}' ended before it was complete. The answer above is incomplete; try again.");
            await RecordOnlyAsync(request.ToRecord("failed", refusal, "stream ended without [DONE]"));
            metrics.Failed(system.State.Slug, refusal.Code);
            await output.WriteAsync(OpenAiErrors.StreamEvent(refusal), CancellationToken.None);
            return;
        }
        try
        {
            await AppendAsync(request.ToRecord("served"), request);
        }
        catch (EvidenceUnavailableException e)
        {
            GatewayTracing.Failed("evidence_unavailable");
            await output.WriteAsync(OpenAiErrors.StreamEvent(EvidenceRefusal(system.State.Spec, e)), CancellationToken.None);
            return;
        }
        Served(request);
        await output.WriteAsync("data: [DONE]\n\n"u8.ToArray(), CancellationToken.None);
    }

    private async Task HoldAsync(HttpContext http, GatewayRequest request)
    {
        var spec = request.System!.State.Spec;
        var held = new HeldAnswer(request.Id, "pilotage.held_answer", "pending", spec.Name,
            $"the answer is held until a reviewer of '{spec.Name}' releases it; fetch it with GET /v1/interactions/{request.Id}");
        // The held answer commits with its record, in one transaction: a crash leaves both or neither.
        // It lives in the store, so it is never spooled: during an outage approval mode fails closed.
        var hold = new EvidenceHold(spec.Name, request.ResponseText!, request.At);
        await CommitThenAsync(http, request, "held", hold: hold, respond: () =>
        {
            http.Response.Headers.Location = $"/v1/interactions/{request.Id}";
            return WriteJsonAsync(http, request, StatusCodes.Status202Accepted, JsonSerializer.SerializeToUtf8Bytes(held, GatewayJsonContext.Default.HeldAnswer));
        });
    }

    private Task ShadowAsync(HttpContext http, GatewayRequest request)
    {
        var spec = request.System!.State.Spec;
        var refusal = new GatewayRefusal(423, "shadow_mode",
            $"'{spec.Name}' runs in shadow mode during its {request.Scope!.Label}: the model's answer is recorded for evaluation, not shown. {char.ToUpperInvariant(ServingPolicy.ManualProcess[0])}{ServingPolicy.ManualProcess[1..]}.");
        return CommitThenAsync(http, request, "shadowed", () => OpenAiErrors.WriteAsync(http, refusal, request.Id, request.Mode), refusal);
    }

    /// <summary>Durable mode: the response is written only after the evidence record committed.</summary>
    private async Task CommitThenAsync(HttpContext http, GatewayRequest request, string outcome, Func<Task> respond, GatewayRefusal? refusal = null, EvidenceHold? hold = null)
    {
        try
        {
            await AppendAsync(request.ToRecord(outcome, refusal), request, hold);
        }
        catch (EvidenceUnavailableException e)
        {
            GatewayTracing.Failed("evidence_unavailable");
            await OpenAiErrors.WriteAsync(http, EvidenceRefusal(request.System!.State.Spec, e), request.Id, request.Mode);
            return;
        }
        if (outcome == "served") Served(request);
        await respond();
    }

    private static GatewayRefusal EvidenceRefusal(SystemSpec spec, EvidenceUnavailableException e) =>
        new(503, "evidence_unavailable",
            $"the answer from '{spec.Name}' was withheld because its evidence record could not be stored ({e.Message}); Pilotage releases no answer without its record. Try again shortly.");

    private async Task AppendAsync(InteractionRow record, GatewayRequest request, EvidenceHold? hold = null)
    {
        var durability = request.System?.State.Spec.Evidence.Durability == Core.Specs.EvidenceDurability.Async
            ? Evidence.EvidenceDurability.Async
            : Evidence.EvidenceDurability.Durable;
        await evidence.AppendAsync(record, durability, OnOutage(request.System), hold, CancellationToken.None);
        GatewayTracing.Record(record);
        if (record.Cost > 0) budget.Add(record.System, record.UserId, record.CreatedAt, record.Cost);
    }

    private static StoreOutage OnOutage(GatewaySystem? system) =>
        system is null ? StoreOutage.FailClosed : StoreOutagePolicy.For(system.State.Spec);

    private void Served(GatewayRequest request) =>
        metrics.Served(request.System!.State.Slug, request.Mode, request.Endpoint, request.TokensIn, request.TokensOut, request.ElapsedMs / 1000.0, request.System.State.Spec.Upstream.Model);

    private async Task RefuseAsync(HttpContext http, GatewayRequest request, GatewayRefusal refusal)
    {
        metrics.Refused(refusal.Code, request.System?.State.Slug);
        // A refusal is evidence too, but it releases no answer: it need not wait for the commit.
        await RecordOnlyAsync(request.ToRecord("refused", refusal), Evidence.EvidenceDurability.Async);
        await OpenAiErrors.WriteAsync(http, refusal, request.Id, request.Mode);
    }

    private async Task RefuseAfterAnswerAsync(HttpContext http, GatewayRequest request, GatewayRefusal refusal)
    {
        metrics.Refused(refusal.Code, request.System?.State.Slug);
        await RecordOnlyAsync(request.ToRecord("refused", refusal));
        await OpenAiErrors.WriteAsync(http, refusal, request.Id, request.Mode);
    }

    private async Task FailAsync(HttpContext http, GatewayRequest request, GatewayRefusal refusal)
    {
        metrics.Failed(request.System?.State.Slug, refusal.Code);
        await RecordOnlyAsync(request.ToRecord("failed", refusal, refusal.Message));
        await OpenAiErrors.WriteAsync(http, refusal, request.Id, request.Mode);
    }

    /// <summary>Records without releasing anything; a failure here is logged, since the caller is answered with an error anyway.</summary>
    private async Task RecordOnlyAsync(InteractionRow record, Evidence.EvidenceDurability durability = Evidence.EvidenceDurability.Durable)
    {
        GatewayTracing.Record(record);
        try
        {
            await evidence.AppendAsync(record, durability, OnOutage(policy.Current.Systems.GetValueOrDefault(record.System)), CancellationToken.None);
        }
        catch (EvidenceUnavailableException e)
        {
            logger.LogError("Evidence for interaction {Id} ({Outcome}) could not be stored: {Reason}", record.Id, record.Outcome, e.Message);
        }
    }

    private static Task WriteJsonAsync(HttpContext http, GatewayRequest request, int status, byte[] bytes) =>
        OpenAiErrors.WriteJsonAsync(http, status, bytes, request.Id, request.Mode);

    internal static HttpStatusCode StatusOf(GatewayRefusal refusal) => (HttpStatusCode)refusal.Status;

    /// <summary>The invoker only; the pooled handler chain belongs to the factory.</summary>
    public void Dispose() => _upstream.Dispose();
}
