using System.Globalization;
using System.Net.Sockets;

namespace Pilotage.Server.Gateway;

/// <summary>
/// How an upstream failure reads for the person who called (which host, what went wrong, how long it
/// took) and for the operator's log (system, host, status, elapsed ms, at Warning). Only the host and
/// port of the upstream are named: never its key, a path or a query string, which may carry secrets.
/// </summary>
internal static class UpstreamFailures
{
    /// <summary>The upstream's host, with the port when it is not the scheme's default.</summary>
    public static string HostOf(Uri url) => url.IsDefaultPort ? url.IdnHost : string.Create(CultureInfo.InvariantCulture, $"{url.IdnHost}:{url.Port}");

    /// <summary>"850 ms", "12.3 s".</summary>
    public static string Took(double milliseconds) => milliseconds < 1000
        ? string.Create(CultureInfo.InvariantCulture, $"{milliseconds:0} ms")
        : string.Create(CultureInfo.InvariantCulture, $"{milliseconds / 1000:0.0} s");

    /// <summary>Why no answer came, in words: the connection was refused, the name does not resolve…</summary>
    public static string Why(HttpRequestException e) => e.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "its name does not resolve (DNS)",
        HttpRequestError.ConnectionError when Socket(e) is SocketError.ConnectionRefused => "the connection was refused",
        HttpRequestError.ConnectionError when Socket(e) is SocketError.HostUnreachable or SocketError.NetworkUnreachable => "the host is unreachable",
        HttpRequestError.ConnectionError => "no connection could be made",
        HttpRequestError.SecureConnectionError => "the TLS handshake failed",
        HttpRequestError.ResponseEnded => "it closed the connection without answering",
        HttpRequestError.InvalidResponse => "it sent something that is not HTTP",
        _ => "the call failed (" + e.HttpRequestError + ")",
    };

    public static void Log(ILogger logger, string system, Uri url, string status, double elapsedMs, string code) =>
        logger.LogWarning("Upstream of {System} at {UpstreamHost} failed: {UpstreamStatus} after {ElapsedMs} ms ({Code})",
            system, HostOf(url), status, (long)Math.Round(elapsedMs), code);

    private static SocketError? Socket(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is SocketException socket) return socket.SocketErrorCode;
        }
        return null;
    }
}
