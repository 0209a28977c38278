using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Pilotage.Cli.Tests.Client;

/// <summary>
/// A real HTTP server on a free port that answers each path with what the test told it to, for
/// answers a Pilotage server gives only in rare states (a 404 with no body, an empty 200, a proxy's
/// HTML page). Unknown paths get a 500 with a body naming the path, so a wrong request is visible.
/// </summary>
public sealed class AnsweringServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (int Status, string ContentType, string Body)> _answers = new(StringComparer.Ordinal);

    private AnsweringServer(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>The Authorization headers received, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public static async Task<AnsweringServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [Pilotage.Server.Hosting.PilotageApp.NoConfigReload] });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        AnsweringServer? self = null;
        app.Run(async http =>
        {
            self!.Authorizations.Enqueue(http.Request.Headers.Authorization.ToString());
            var key = $"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}";
            var (status, type, body) = self._answers.TryGetValue(key, out var answer) ? answer : (500, "text/plain", "no answer set for " + key);
            http.Response.StatusCode = status;
            if (body.Length == 0) return;
            http.Response.ContentType = type;
            await http.Response.WriteAsync(body);
        });
        await app.StartAsync();
        self = new AnsweringServer(app, app.Urls.First());
        return self;
    }

    /// <summary>Answers <paramref name="request"/> (e.g. <c>GET /api/v1/keys</c>) with this status and body.</summary>
    public void Answer(string request, int status, string body, string contentType = "application/json") =>
        _answers[request] = (status, contentType, body);

    /// <summary>An RFC 9457 problem document, as the control API sends refusals.</summary>
    public void Problem(string request, int status, string title, string? detail, string? extra = null)
    {
        var fields = $"\"type\":\"about:blank\",\"title\":\"{title}\",\"status\":{status}"
            + (detail is null ? "" : $",\"detail\":\"{detail}\"")
            + (extra is null ? "" : "," + extra);
        Answer(request, status, "{" + fields + "}", "application/problem+json");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
