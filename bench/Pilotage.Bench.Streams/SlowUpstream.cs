using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Pilotage.Bench.Streams;

/// <summary>
/// A model that streams slowly, as real ones do: the first chunk after <c>firstMs</c>, then a few words every
/// <c>chunkMs</c> until the answer has lasted <c>answerSeconds</c>, then usage and <c>[DONE]</c>. It speaks
/// HTTP/1.1 and HTTP/2 over TLS (a certificate made for the run), as hosted model APIs do. A request with
/// <c>max_tokens: 1</c> is answered at once: the warm-up that opens the client's connections.
/// </summary>
internal sealed class SlowUpstream(WebApplication app, string url, string certificatePem, string thumbprint) : IAsyncDisposable
{
    public string Url { get; } = url;

    /// <summary>The run's certificate in PEM, for the processes that must trust it (SSL_CERT_FILE).</summary>
    public string CertificatePem { get; } = certificatePem;

    /// <summary>The certificate's SHA-1 thumbprint, which the load generator trusts.</summary>
    public string Thumbprint { get; } = thumbprint;

    public static async Task<SlowUpstream> StartAsync(int firstMs, int chunkMs, double answerSeconds, bool http2 = true)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        var certificate = X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
        var pem = made.ExportCertificatePem();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            k.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = http2 ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1;
                l.UseHttps(certificate);
            });
        });
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", async (HttpContext http) =>
        {
            using var body = new StreamReader(http.Request.Body);
            var text = await body.ReadToEndAsync(http.RequestAborted);
            var warmUp = text.Contains("\"max_tokens\":1", StringComparison.Ordinal);
            http.Response.ContentType = "text/event-stream";
            await http.Response.StartAsync(http.RequestAborted);
            var started = Environment.TickCount64;
            if (!warmUp) await Task.Delay(firstMs, http.RequestAborted);
            var chunks = 0;
            do
            {
                await WriteAsync(http, Chunk("\"content\":\"We will refund \"", "null", null));
                chunks++;
                if (warmUp) break;
                await Task.Delay(chunkMs, http.RequestAborted);
            }
            while (Environment.TickCount64 - started < answerSeconds * 1000);
            await WriteAsync(http, Chunk("", "\"stop\"", string.Create(CultureInfo.InvariantCulture, $"{{\"prompt_tokens\":40,\"completion_tokens\":{chunks * 3},\"total_tokens\":{40 + chunks * 3}}}")));
            await WriteAsync(http, "data: [DONE]\n\n");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SlowUpstream(app, address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal), pem, made.GetCertHashString());
    }

    private static string Chunk(string delta, string finish, string? usage) =>
        "data: {\"id\":\"chatcmpl-slow\",\"object\":\"chat.completion.chunk\",\"created\":1764000000,\"model\":\"bench-model\",\"choices\":[{\"index\":0,\"delta\":{" + delta + "},\"finish_reason\":" + finish + "}]"
        + (usage is null ? "" : ",\"usage\":" + usage) + "}\n\n";

    private static async Task WriteAsync(HttpContext http, string text)
    {
        await http.Response.WriteAsync(text, http.RequestAborted);
        await http.Response.Body.FlushAsync(http.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
