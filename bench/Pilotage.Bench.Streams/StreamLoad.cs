using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Pilotage.Bench.Streams;

/// <summary>What one streamed answer saw: its status, the time to its first words and to its end, its chunks of words and all its
/// events, and when it was sent (local time, to set against the server's GC pauses).</summary>
internal readonly record struct StreamResult(int Status, double FirstTokenMs, double TotalMs, int Chunks, int Events = 0, DateTime Sent = default);

/// <summary>
/// Opens every stream at once against one target and reads each to its end. The client's connections are opened
/// first by a warm-up of one short answer per stream, as a busy application's pool would have them, so the run
/// measures the proxy, not a storm of TCP handshakes.
/// </summary>
internal sealed class StreamLoad(Uri baseUrl, IReadOnlyList<string> keys, bool http2, string trustedThumbprint) : IDisposable
{
    private const string Body = """{"model":"bench-streams","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Customer asks about order 1042: the parcel never arrived. Draft a short reply."}]}""";
    private const string WarmUpBody = """{"model":"bench-streams","stream":true,"max_tokens":1,"messages":[{"role":"user","content":"ping"}]}""";

    private readonly HttpMessageInvoker _client = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = int.MaxValue,
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        // The upstream's certificate is made for the run: trusted by its thumbprint alone.
        SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == trustedThumbprint },
    });

    /// <summary>Whether this load speaks HTTP/2 (its streams share a few connections) rather than HTTP/1.1 (a connection each).</summary>
    public bool Http2 => http2;

    public async Task WarmUpAsync(int streams)
    {
        await Task.WhenAll(Enumerable.Range(0, streams).Select(i => OneAsync(i, WarmUpBody)));
    }

    /// <summary>
    /// Every stream, all started at once (<paramref name="ramp"/> zero) or evenly over <paramref name="ramp"/>: with a
    /// ramp as long as an answer, the last stream opens before the first ends, so all are open together then.
    /// </summary>
    public async Task<StreamResult[]> RunAsync(int streams, TimeSpan ramp)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        var tasks = Enumerable.Range(0, streams).Select(async i =>
        {
            await gate.Task;
            var due = ramp * i / streams - Stopwatch.GetElapsedTime(started);
            if (due > TimeSpan.Zero) await Task.Delay(due);
            return await OneAsync(i, Body);
        }).ToArray();
        started = Stopwatch.GetTimestamp();
        gate.SetResult();
        return await Task.WhenAll(tasks);
    }

    private async Task<StreamResult> OneAsync(int index, string body)
    {
        var sent = DateTime.Now;
        var started = Stopwatch.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "chat/completions"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
            Version = http2 ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[index % keys.Count]);
        try
        {
            using var response = await _client.SendAsync(request, CancellationToken.None);
            if (!response.IsSuccessStatusCode)
            {
                await response.Content.ReadAsByteArrayAsync();
                return new StreamResult((int)response.StatusCode, double.NaN, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0);
            }
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var firstToken = double.NaN;
            var chunks = 0;
            var events = 0;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                events++;
                if (line.Contains("\"content\":\"", StringComparison.Ordinal))
                {
                    chunks++;
                    if (double.IsNaN(firstToken)) firstToken = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
                if (line == "data: [DONE]") break;
            }
            return new StreamResult(200, firstToken, Stopwatch.GetElapsedTime(started).TotalMilliseconds, chunks, events, sent);
        }
        catch (HttpRequestException)
        {
            return new StreamResult(0, double.NaN, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0);
        }
    }

    public void Dispose() => _client.Dispose();
}
