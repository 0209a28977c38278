using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Pilotage.Bench.Gateway;

/// <summary>
/// What failed requests failed with, counted by kind: a status code with the start of its body, or an exception
/// with its chain of inner exceptions (a socket error's name included). A failure count alone said "connection
/// errors" when it could as well be a refusal by the gateway, the client's pool, or the kernel.
/// </summary>
internal sealed class ErrorTally
{
    private readonly ConcurrentDictionary<string, int> _kinds = new(StringComparer.Ordinal);

    public void Status(HttpStatusCode status, string body) =>
        Count($"HTTP {(int)status} {(body.Length > 160 ? body[..160] : body)}");

    public void Exception(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            var socket = x is SocketException s ? $" [{s.SocketErrorCode}]" : "";
            parts.Add($"{x.GetType().Name}{socket}: {x.Message}");
        }
        Count(string.Join(" <- ", parts));
    }

    private void Count(string kind) => _kinds.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    /// <summary>Lines <c>ERRORS target count kind</c>, most frequent first.</summary>
    public IEnumerable<string> Lines(string target) =>
        _kinds.OrderByDescending(k => k.Value).Select(k => $"ERRORS {target} {k.Value} {k.Key.ReplaceLineEndings(" ")}");
}
