using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pilotage.Server.Systems;

namespace Pilotage.Cli.Client;

/// <summary>
/// The CLI's one HTTP client for the control API: bearer token, JSON in and out, and every failure
/// (unreachable server, timeout, problem details) turned into a message a person can act on.
/// </summary>
internal sealed class ControlClient : IDisposable
{
    /// <summary>Control API calls are small; a server silent this long is stuck, not busy.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly HttpClient _http;
    private readonly bool _hasToken;
    private readonly string? _token;

    public ControlClient(Uri server, string? token)
    {
        Server = server;
        _hasToken = token is not null;
        _token = token;
        // The base address ends with '/' so relative paths keep any path prefix of --server.
        var baseAddress = new Uri(server.AbsoluteUri.EndsWith('/') ? server.AbsoluteUri : server.AbsoluteUri + "/");
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = baseAddress,
            Timeout = RequestTimeout,
        };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri Server { get; }

    /// <summary>Display form of the server address, as the user typed it.</summary>
    public string ServerText => Server.OriginalString.TrimEnd('/');

    public Task<JsonElement> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonElement> SendJsonAsync<T>(HttpMethod method, string path, T body, JsonTypeInfo<T> type, CancellationToken ct) =>
        SendAsync(method, path, new StringContent(JsonSerializer.Serialize(body, type), Encoding.UTF8, "application/json"), ct);

    /// <summary>Sends a JSON body written by hand, for requests without a shared record.</summary>
    public Task<JsonElement> SendJsonAsync(HttpMethod method, string path, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }
        var content = new ByteArrayContent(buffer.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return SendAsync(method, path, content, ct);
    }

    /// <summary>Sends a request and returns the JSON answer (undefined for an empty body).</summary>
    public async Task<JsonElement> SendAsync(HttpMethod method, string path, HttpContent? content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await SendCoreAsync(request, HttpCompletionOption.ResponseContentRead, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        if (!response.IsSuccessStatusCode) throw Problem(request, response, bytes);
        if (bytes.Length == 0) return default;
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new CliException($"the server at {ServerText} answered {method} /{path} with something other than JSON; is --server pointing at Pilotage?");
        }
    }

    /// <summary>Streams a response body (e.g. the audit export) without holding it in memory.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var response = await SendCoreAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            throw Problem(request, response, await response.Content.ReadAsByteArrayAsync(ct));
        }
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        try
        {
            return await _http.SendAsync(request, completion, ct);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError)
        {
            throw new CliException($"cannot reach the Pilotage server at {ServerText}: is 'pilotage serve' running? set --server or PILOTAGE_SERVER");
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"the request to {ServerText} failed: {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new CliException($"the Pilotage server at {ServerText} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }

    private ApiProblemException Problem(HttpRequestMessage request, HttpResponseMessage response, byte[] body)
    {
        var status = (int)response.StatusCode;
        string? title = null, detail = null;
        IReadOnlyList<SpecErrorView> errors = [];
        JsonElement problem = default;
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            problem = root.Clone();
            if (root.ValueKind == JsonValueKind.Object)
            {
                title = Text(root, "title");
                detail = Text(root, "detail");
                // The gateway's endpoints (/v1/…) answer in the OpenAI error shape: {"error":{"message","code"}}.
                if (detail is null && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    detail = Text(error, "message");
                }
                if (root.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    // Other verbs' located errors (an import's row and column) have another shape: Body keeps them.
                    try
                    {
                        errors = list.Deserialize(SystemsApiJsonContext.Default.ListSpecErrorView) ?? [];
                    }
                    catch (JsonException)
                    {
                        errors = [];
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's HTML page, say): the status line below still says what happened.
        }
        var message = detail ?? title ?? $"the server answered {status} {response.ReasonPhrase} to {request.Method} {request.RequestUri?.AbsolutePath}";
        if (response.StatusCode == HttpStatusCode.Unauthorized && !_hasToken)
        {
            message = $"no API key for {ServerText}: set --token or PILOTAGE_TOKEN (or run 'pilotage serve' on this machine, which saves the bootstrap token)";
        }
        else if (response.StatusCode == HttpStatusCode.NotFound && detail is null)
        {
            message += "; is --server pointing at a Pilotage server of the same version?";
        }
        return new ApiProblemException(status, message, errors, problem);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(value.GetString())
            ? value.GetString()
            : null;

    /// <summary>
    /// A client for the gateway (<c>/v1/…</c>) on the same server with the same key, as any app would call
    /// it: no overall timeout (each call is bounded by its caller) and up to <paramref name="connections"/>
    /// connections at once. The caller disposes it.
    /// </summary>
    public HttpClient CreateGatewayClient(int connections)
    {
        var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), MaxConnectionsPerServer = Math.Max(1, connections) })
        {
            BaseAddress = _http.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return client;
    }

    public void Dispose() => _http.Dispose();
}
