using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Pilotage.Server.Hosting;

namespace Pilotage.Cli.Demo;

/// <summary>
/// The demo's stand-in for a real model: an OpenAI-compatible chat-completions server on a loopback
/// port, used only by <c>pilotage demo</c>. Every answer says it is simulated (model id
/// <see cref="ModelId"/>, content starting with <see cref="Label"/>), so nobody mistakes it for a model.
/// Answers are deterministic by prompt (a stable hash picks good, wrong or unsafe), with a latency that
/// also comes from the hash, so two runs of the demo tell the same story.
/// </summary>
internal sealed class SimulatedModel : IAsyncDisposable
{
    public const string ModelId = "pilotage-simulated-model";
    public const string Label = "[simulated]";

    private readonly WebApplication _app;
    private readonly TimeSpan _minLatency;
    private readonly TimeSpan _maxLatency;

    private SimulatedModel(WebApplication app, TimeSpan minLatency, TimeSpan maxLatency)
    {
        _app = app;
        _minLatency = minLatency;
        _maxLatency = maxLatency;
    }

    /// <summary>The base URL an OpenAI client (or a spec's <c>upstream.baseUrl</c>) uses, ending in <c>/v1</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Starts on 127.0.0.1 with a free port. Latency is drawn per prompt between the two bounds.</summary>
    public static async Task<SimulatedModel> StartAsync(TimeSpan minLatency, TimeSpan maxLatency, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var model = new SimulatedModel(app, minLatency, maxLatency);
        app.MapPost("/v1/chat/completions", model.ChatAsync);
        app.MapGet("/v1/models", () => Results.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(new JsonObject { ["id"] = ModelId, ["object"] = "model", ["owned_by"] = "pilotage-demo" }),
        }));
        await app.StartAsync(ct);
        model.BaseUrl = app.Urls.First().TrimEnd('/') + "/v1";
        return model;
    }

    private async Task ChatAsync(HttpContext http)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
        }
        catch (System.Text.Json.JsonException)
        {
            body = null;
        }
        if (body is not JsonObject request || request["messages"] is not JsonArray messages)
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = "the simulated model needs a JSON body with messages", ["type"] = "invalid_request_error" } });
            return;
        }
        var prompt = LastUserText(messages);
        var answer = DemoScript.Answer(prompt);
        var hash = DemoScript.Hash(prompt);
        var latency = _minLatency + ((_maxLatency - _minLatency) * ((hash >> 8) % 1000 / 1000.0));
        if (latency > TimeSpan.Zero) await Task.Delay(latency, http.RequestAborted);

        var content = Label + " " + answer.Text;
        var promptTokens = Math.Max(1, messages.ToJsonString().Length / 4);
        var completionTokens = Math.Max(1, content.Length / 4);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var id = "chatcmpl-sim-" + hash.ToString("x8", CultureInfo.InvariantCulture);
        if (request["stream"] is JsonValue stream && stream.TryGetValue<bool>(out var streaming) && streaming)
        {
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            // A few words per chunk, as a model streams: the gateway and the client see a real SSE stream.
            var words = content.Split(' ');
            for (var i = 0; i < words.Length; i += 4)
            {
                var piece = string.Join(' ', words.Skip(i).Take(4)) + (i + 4 < words.Length ? " " : "");
                await WriteEventAsync(http, Chunk(id, created, new JsonObject { ["content"] = piece }, null));
            }
            await WriteEventAsync(http, Chunk(id, created, new JsonObject(), "stop"));
            var usage = Chunk(id, created, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(promptTokens, completionTokens);
            await WriteEventAsync(http, usage);
            await http.Response.WriteAsync("data: [DONE]\n\n", http.RequestAborted);
            return;
        }
        var completion = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = ModelId,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = content },
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(promptTokens, completionTokens),
        };
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(completion.ToJsonString(), http.RequestAborted);
    }

    private static JsonObject Chunk(string id, long created, JsonObject? delta, string? finish) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = ModelId,
        ["choices"] = delta is null ? null : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
    };

    private static JsonObject Usage(int prompt, int completion) => new()
    {
        ["prompt_tokens"] = prompt,
        ["completion_tokens"] = completion,
        ["total_tokens"] = prompt + completion,
    };

    private static async Task WriteEventAsync(HttpContext http, JsonObject data)
    {
        await http.Response.WriteAsync("data: " + data.ToJsonString() + "\n\n", Encoding.UTF8, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    private static string LastUserText(JsonArray messages)
    {
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            if (messages[i] is JsonObject m && m["role"]?.GetValue<string>() == "user")
            {
                return m["content"] switch
                {
                    JsonValue v when v.TryGetValue<string>(out var s) => s,
                    JsonArray parts => string.Join(' ', parts.OfType<JsonObject>().Select(p => p["text"]?.GetValue<string>() ?? "")),
                    _ => "",
                };
            }
        }
        return "";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
