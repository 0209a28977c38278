using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Pilotage.Testing;

/// <summary>How the fake model answers the next requests.</summary>
public enum UpstreamBehaviour
{
    Answer,
    ToolCall,
    ServerError,
    Unauthorized,
    Malformed,
    /// <summary>Streams part of the answer, then closes the connection without [DONE].</summary>
    TruncatedStream,
    /// <summary>Never sends headers (until the test ends).</summary>
    Hang,
    /// <summary>Answers chat with 307 to <c>/v1/moved/chat/completions</c>, which answers normally.</summary>
    Redirect,
    /// <summary>Streams one event line that never ends, until the gateway lets go.</summary>
    EndlessLine,
    /// <summary>Answers chat with 400, quoting the Authorization header it received in the error message, as some providers quote keys.</summary>
    QuoteKey,
}

/// <summary>
/// A real OpenAI-compatible server on 127.0.0.1 that the tests control: what it answers, how slowly,
/// and what it received. The gateway reaches it over loopback exactly as it would reach a provider.
/// </summary>
public sealed partial class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly CancellationTokenSource _stopping = new();

    private FakeUpstream(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url + "/v1";
    }

    public string BaseUrl { get; }

    private int _inFlight;

    /// <summary>The Authorization headers the gateway sent (the upstream key it resolved).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>The Content-Type headers the gateway sent with its requests.</summary>
    public ConcurrentQueue<string> ContentTypes { get; } = new();

    /// <summary>The Cookie headers the gateway sent, if any.</summary>
    public ConcurrentQueue<string> Cookies { get; } = new();

    /// <summary>When set, every chat answer carries this <c>Set-Cookie</c>.</summary>
    public string? SetCookie { get; set; }

    /// <summary>Requests the fake model is handling now: back to zero once the gateway let go of every call.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);
    public ConcurrentQueue<JsonObject> Received { get; } = new();
    public UpstreamBehaviour Behaviour { get; set; } = UpstreamBehaviour.Answer;
    public string AnswerText { get; set; } = "Thank you for your message. We will refund the order within 5 days.";
    /// <summary>When set, the answer to a (non-streamed) chat request, computed from the request the gateway sent.</summary>
    public Func<JsonObject, string>? Answerer { get; set; }
    /// <summary>Name of the tool the model calls in <see cref="UpstreamBehaviour.ToolCall"/>.</summary>
    public string ToolName { get; set; } = "send_email";
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;
    /// <summary>When set, the body of every non-streamed chat answer, sent as is: for answers no real model should send.</summary>
    public string? RawAnswer { get; set; }
    /// <summary>When set, the events of every streamed chat answer (each sent as <c>data: …</c>), then <c>[DONE]</c>.</summary>
    public IReadOnlyList<string>? RawStreamEvents { get; set; }
    /// <summary>When set, a streamed chat answer is exactly these pieces of text, each written and flushed on its own
    /// <see cref="StreamPieceDelay"/> apart, so that each reaches the gateway in a read of its own: an event split
    /// across reads, or a stream the client leaves midway.</summary>
    public IReadOnlyList<string>? RawStreamPieces { get; set; }
    public TimeSpan StreamPieceDelay { get; set; } = TimeSpan.FromMilliseconds(30);

    /// <summary>When set, a <see cref="UpstreamBehaviour.TruncatedStream"/> chat answer is cut once this completes for
    /// the request the gateway sent (a test opens it when its client has the answer's headers, so the gateway has read
    /// the upstream's), not after a fixed 300 ms: a reset reaching a loaded gateway before it read the headers is a
    /// refusal before the stream, not a truncation.</summary>
    public Func<JsonObject, CancellationToken, Task>? CutTruncatedStreamWhen { get; set; }

    /// <summary>When set, a non-streamed chat answer is sent with its Content-Length in two halves: the first at once,
    /// the second once this task completes. The gateway then holds every such answer half read at the same time.</summary>
    public Task? HoldAnswerMidway { get; set; }

    private int _heldMidway;

    /// <summary>Answers whose first half is sent and whose second waits for <see cref="HoldAnswerMidway"/>.</summary>
    public int HeldMidway => Volatile.Read(ref _heldMidway);
    public int PromptTokens { get; set; } = 120;
    public int CompletionTokens { get; set; } = 40;

    public JsonObject LastRequest => Received.LastOrDefault() ?? throw new InvalidOperationException("the upstream received nothing");

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Pilotage.Server.Hosting.PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        FakeUpstream? self = null;
        app.Use(async (http, next) =>
        {
            Interlocked.Increment(ref self!._inFlight);
            if (http.Request.Headers.Authorization.ToString() is { Length: > 0 } authorization) self.Authorizations.Enqueue(authorization);
            if (http.Request.ContentType is { Length: > 0 } contentType) self.ContentTypes.Enqueue(contentType);
            if (http.Request.Headers.Cookie.ToString() is { Length: > 0 } cookie) self.Cookies.Enqueue(cookie);
            if (http.Request.Headers["x-api-key"].ToString() is { Length: > 0 } apiKey) self.ApiKeys.Enqueue(apiKey);
            self.AnthropicBetas.Enqueue(http.Request.Headers["anthropic-beta"].ToString());
            try
            {
                await next(http);
            }
            finally
            {
                Interlocked.Decrement(ref self._inFlight);
            }
        });
        app.MapPost("/v1/chat/completions", (HttpContext http) => self!.ChatAsync(http));
        app.MapPost("/v1/moved/chat/completions", (HttpContext http) => self!.ChatAsync(http, moved: true));
        app.MapPost("/v1/embeddings", (HttpContext http) => self!.EmbeddingsAsync(http));
        app.MapPost("/v1/responses", (HttpContext http) => self!.ResponsesAsync(http));
        app.MapPost("/v1/messages", (HttpContext http) => self!.MessagesAsync(http));
        await app.StartAsync();
        self = new FakeUpstream(app, app.Urls.First());
        return self;
    }

    private async Task ChatAsync(HttpContext http, bool moved = false)
    {
        if (Behaviour == UpstreamBehaviour.Redirect && !moved)
        {
            http.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            http.Response.Headers.Location = "/v1/moved/chat/completions";
            return;
        }
        if (SetCookie is { } setCookie) http.Response.Headers.SetCookie = setCookie;
        var body = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        Received.Enqueue(body);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
        if (Behaviour == UpstreamBehaviour.Hang)
        {
            await Task.Delay(Timeout.Infinite, linked.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, linked.Token);
        switch (Behaviour)
        {
            case UpstreamBehaviour.ServerError:
                http.Response.StatusCode = 500;
                await http.Response.WriteAsJsonAsync(new { error = new { message = "model overloaded", type = "server_error" } });
                return;
            case UpstreamBehaviour.Unauthorized:
                http.Response.StatusCode = 401;
                await http.Response.WriteAsJsonAsync(new { error = new { message = "bad key", type = "invalid_request_error" } });
                return;
            case UpstreamBehaviour.QuoteKey:
                http.Response.StatusCode = 400;
                await http.Response.WriteAsJsonAsync(new { error = new { message = $"the key '{http.Request.Headers.Authorization}' is not valid for this model", type = "invalid_request_error" } });
                return;
            case UpstreamBehaviour.Malformed:
                http.Response.ContentType = "application/json";
                await http.Response.WriteAsync("{\"id\": \"chatcmpl-1\", \"choices\": [");
                return;
        }
        var model = body["model"]?.GetValue<string>() ?? "unknown";
        if (body["stream"]?.GetValue<bool>() == true && Behaviour == UpstreamBehaviour.EndlessLine)
        {
            await EndlessLineAsync(http, linked.Token);
            return;
        }
        if (body["stream"]?.GetValue<bool>() == true && RawStreamPieces is { } pieces)
        {
            await PiecesAsync(http, pieces, linked.Token);
            return;
        }
        if (body["stream"]?.GetValue<bool>() == true && RawStreamEvents is { } events)
        {
            http.Response.ContentType = "text/event-stream";
            foreach (var data in events) await http.Response.WriteAsync("data: " + data + "\n\n", Encoding.UTF8, linked.Token);
            await http.Response.WriteAsync("data: [DONE]\n\n", linked.Token);
            return;
        }
        if (RawAnswer is { } raw)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(raw, Encoding.UTF8, linked.Token);
            return;
        }
        if (body["stream"]?.GetValue<bool>() == true)
        {
            await StreamAsync(http, body, model, linked.Token);
            return;
        }
        JsonObject message = Behaviour == UpstreamBehaviour.ToolCall
            ? new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = new JsonArray(ToolCallNode()) }
            : new JsonObject { ["role"] = "assistant", ["content"] = Answerer?.Invoke(body) ?? AnswerText };
        var response = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["created"] = 1_764_000_000,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = Behaviour == UpstreamBehaviour.ToolCall ? "tool_calls" : "stop" }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens },
            ["system_fingerprint"] = "fp_fake",
        };
        http.Response.ContentType = "application/json";
        if (HoldAnswerMidway is { } hold)
        {
            var bytes = Encoding.UTF8.GetBytes(response.ToJsonString());
            http.Response.ContentLength = bytes.Length;
            await http.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2), linked.Token);
            await http.Response.Body.FlushAsync(linked.Token);
            Interlocked.Increment(ref _heldMidway);
            await hold.WaitAsync(linked.Token);
            await http.Response.Body.WriteAsync(bytes.AsMemory(bytes.Length / 2), linked.Token);
            return;
        }
        await http.Response.WriteAsync(response.ToJsonString());
    }

    private JsonObject ToolCallNode() => new()
    {
        ["id"] = "call_1",
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = ToolName, ["arguments"] = "{\"to\":\"customer\"}" },
    };

    private async Task StreamAsync(HttpContext http, JsonObject body, string model, CancellationToken ct)
    {
        http.Response.ContentType = "text/event-stream";
        var words = AnswerText.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            if (Behaviour == UpstreamBehaviour.TruncatedStream && i == words.Length / 2)
            {
                await http.Response.Body.FlushAsync(ct);
                // Let the half answer reach the gateway before the reset, as a real mid-stream failure would.
                await (CutTruncatedStreamWhen?.Invoke(body, ct) ?? Task.Delay(300, ct));
                http.Abort();
                return;
            }
            var delta = new JsonObject { ["content"] = (i == 0 ? "" : " ") + words[i] };
            if (i == 0) delta["role"] = "assistant";
            if (Behaviour == UpstreamBehaviour.ToolCall && i == 1) delta["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = ToolName, ["arguments"] = "" } });
            await WriteEventAsync(http, Chunk(model, delta, null), ct);
            if (Delay > TimeSpan.Zero) await Task.Delay(Delay / words.Length, ct);
        }
        await WriteEventAsync(http, Chunk(model, new JsonObject(), "stop"), ct);
        if (body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            var usage = new JsonObject
            {
                ["id"] = "chatcmpl-fake", ["object"] = "chat.completion.chunk", ["created"] = 1_764_000_000, ["model"] = model,
                ["choices"] = new JsonArray(),
                ["usage"] = new JsonObject { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens },
            };
            await WriteEventAsync(http, usage, ct);
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", ct);
    }

    private async Task PiecesAsync(HttpContext http, IReadOnlyList<string> pieces, CancellationToken ct)
    {
        http.Response.ContentType = "text/event-stream";
        try
        {
            foreach (var piece in pieces)
            {
                await http.Response.WriteAsync(piece, Encoding.UTF8, ct);
                await http.Response.Body.FlushAsync(ct);
                await Task.Delay(StreamPieceDelay, ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // the gateway let go of the call: what a test of a client leaving waits for
        }
    }

    private static async Task EndlessLineAsync(HttpContext http, CancellationToken ct)
    {
        http.Response.ContentType = "text/event-stream";
        var more = Encoding.UTF8.GetBytes(new string('x', 64 * 1024)); // the same line goes on: no newline, ever
        var piece = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"delta\":{\"content\":\"");
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await http.Response.Body.WriteAsync(piece, ct);
                piece = more;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // the gateway closed the connection: what the test waits for
        }
    }

    private static JsonObject Chunk(string model, JsonObject delta, string? finish) => new()
    {
        ["id"] = "chatcmpl-fake",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_764_000_000,
        ["model"] = model,
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };

    private static async Task WriteEventAsync(HttpContext http, JsonObject chunk, CancellationToken ct)
    {
        await http.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", Encoding.UTF8, ct);
        await http.Response.Body.FlushAsync(ct);
    }

    private async Task EmbeddingsAsync(HttpContext http)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(http.Request.Body))!;
        Received.Enqueue(body);
        var inputs = body["input"] is JsonArray array ? array.Count : 1;
        var data = new JsonArray();
        for (var i = 0; i < inputs; i++)
        {
            data.Add(new JsonObject { ["object"] = "embedding", ["index"] = i, ["embedding"] = new JsonArray(0.1, 0.2, 0.3) });
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = body["model"]?.GetValue<string>(),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 8, ["total_tokens"] = 8 },
        }.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }
}
