using System.Net;
using System.Net.Sockets;

namespace Pilotage.Server.Upstreams;

/// <summary>
/// What an upstream address is, for the address policy: the forms of IPv4 carried inside IPv6 unwrapped first, so
/// <c>::ffff:169.254.169.254</c> is judged as the link-local address it reaches.
/// </summary>
public static class UpstreamAddresses
{
    private static readonly IPNetwork LinkLocalV4 = IPNetwork.Parse("169.254.0.0/16");
    private static readonly IPNetwork UnspecifiedV4 = IPNetwork.Parse("0.0.0.0/8");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork LinkLocalV6 = IPNetwork.Parse("fe80::/10");

    /// <summary>
    /// The address as it is reached: an IPv4-mapped (<c>::ffff:a.b.c.d</c>), IPv4-compatible (<c>::a.b.c.d</c>) or
    /// NAT64 (<c>64:ff9b::a.b.c.d</c>) address is the IPv4 address inside it; any other address is itself.
    /// </summary>
    public static IPAddress Reached(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        var bytes = address.GetAddressBytes();
        var compatible = bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback);
        return compatible || Nat64.Contains(address) ? new IPAddress(bytes.AsSpan(12, 4)) : address;
    }

    /// <summary>Why the address may never be an upstream (link-local, unspecified), or null.</summary>
    public static string? NeverAllowed(IPAddress reached)
    {
        ArgumentNullException.ThrowIfNull(reached);
        if (reached.AddressFamily == AddressFamily.InterNetwork)
        {
            if (LinkLocalV4.Contains(reached)) return "a link-local address (169.254.0.0/16, where cloud metadata services answer)";
            if (UnspecifiedV4.Contains(reached)) return "an unspecified address (0.0.0.0/8, which reaches this machine)";
            return null;
        }
        if (reached.Equals(IPAddress.IPv6Any)) return "the unspecified address (::, which reaches this machine)";
        if (LinkLocalV6.Contains(reached)) return "a link-local address (fe80::/10)";
        return null;
    }

    /// <summary>Reads an address with or without the brackets a URL puts around IPv6.</summary>
    public static bool TryParse(string host, out IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(host);
        var bare = host.Length > 1 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;
        return IPAddress.TryParse(bare, out address!);
    }
}
