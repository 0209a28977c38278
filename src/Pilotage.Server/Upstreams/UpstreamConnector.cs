using System.Net;
using System.Net.Sockets;

namespace Pilotage.Server.Upstreams;

/// <summary>An upstream connection the address policy refused; the gateway answers 502 <c>upstream_address_refused</c> with the reason.</summary>
public sealed class UpstreamAddressRefusedException(string reason) : IOException(reason);

/// <summary>
/// The upstream handler's <see cref="SocketsHttpHandler.ConnectCallback"/>: resolves the host itself, checks every
/// address against the <see cref="UpstreamPolicy"/> and dials only an address it checked. The address the socket
/// connects to is the address that was judged, so a name that resolves to a harmless address when the spec is
/// applied and to a forbidden one later (DNS rebinding) is refused when it matters.
/// </summary>
public sealed class UpstreamConnector(UpstreamPolicy policy)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = UpstreamAddresses.TryParse(host, out var literal) ? [literal] : await policy.ResolveAsync(host, cancellationToken);
        string? refused = null;
        Exception? failed = null;
        foreach (var address in addresses)
        {
            if (policy.AddressRefusal(host, address, port) is { } reason)
            {
                refused ??= reason;
                continue;
            }
            // The mapped form is dialled as the IPv4 address it is, which is the one that was checked.
            var target = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(target, port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e)
            {
                socket.Dispose();
                failed = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        if (failed is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failed);
        throw refused is not null
            ? new UpstreamAddressRefusedException(refused)
            : new SocketException((int)SocketError.HostNotFound);
    }
}
