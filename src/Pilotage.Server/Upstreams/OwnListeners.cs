using System.Net;
using System.Net.NetworkInformation;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Pilotage.Server.Upstreams;

/// <summary>
/// Pilotage's own Kestrel listeners, which a spec must not make the gateway call: it would send the upstream key to
/// Pilotage itself and call itself in a loop. Read from the server once it listens (the port of <c>:0</c> is known
/// only then).
/// </summary>
public sealed class OwnListeners(IServer server)
{
    private static readonly TimeSpan InterfacesFresh = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private (long At, IPAddress[] Addresses)? _interfaces;

    /// <summary>A listener: its port, and its address (null when it listens on every address).</summary>
    private readonly record struct Listener(IPAddress? Address, bool Loopback, int Port);

    /// <summary>True when <paramref name="address"/>:<paramref name="port"/> reaches one of Pilotage's listeners.</summary>
    /// <remarks>
    /// Any loopback address at a listener's port counts, whatever the listener is bound to (<c>localhost</c>,
    /// <c>127.0.0.1</c>, <c>[::1]</c> all reach a wildcard or loopback listener); so do this machine's own addresses
    /// at the port of a listener bound to every address.
    /// </remarks>
    public bool Reaches(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        var reached = UpstreamAddresses.Reached(address);
        foreach (var listener in Listeners())
        {
            if (listener.Port != port) continue;
            if (IPAddress.IsLoopback(reached)) return true;
            if (listener.Address is { } bound ? bound.Equals(reached) : !listener.Loopback && LocalAddresses().Contains(reached)) return true;
        }
        return false;
    }

    private List<Listener> Listeners()
    {
        var listeners = new List<Listener>();
        foreach (var url in server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [])
        {
            // Kestrel reports "http://[::]:5080", "http://0.0.0.0:5080", "http://localhost:5080", "http://127.0.0.1:5080";
            // "*" and "+" are not URL hosts, so they are read by hand.
            var rest = url[(url.IndexOf("://", StringComparison.Ordinal) is var s and >= 0 ? s + 3 : 0)..].TrimEnd('/');
            var colon = rest.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(rest.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var port)) continue;
            var host = rest[..colon];
            if (host is "*" or "+" || (UpstreamAddresses.TryParse(host, out var any) && (any.Equals(IPAddress.Any) || any.Equals(IPAddress.IPv6Any))))
            {
                listeners.Add(new Listener(null, false, port));
            }
            else if (UpstreamAddresses.TryParse(host, out var address))
            {
                listeners.Add(new Listener(UpstreamAddresses.Reached(address), IPAddress.IsLoopback(address), port));
            }
            else
            {
                listeners.Add(new Listener(null, string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase), port));
            }
        }
        return listeners;
    }

    /// <summary>This machine's own addresses, refreshed every 30 s (an interface can come up while the server runs).</summary>
    private IPAddress[] LocalAddresses()
    {
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (_interfaces is { } cached && now - cached.At < InterfacesFresh.TotalMilliseconds) return cached.Addresses;
            IPAddress[] addresses;
            try
            {
                addresses = NetworkInterface.GetAllNetworkInterfaces()
                    .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                    .Select(u => UpstreamAddresses.Reached(u.Address))
                    .ToArray();
            }
            catch (NetworkInformationException)
            {
                addresses = [];
            }
            _interfaces = (now, addresses);
            return addresses;
        }
    }
}
