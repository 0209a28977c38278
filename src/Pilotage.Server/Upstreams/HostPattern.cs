using System.Net;

namespace Pilotage.Server.Upstreams;

/// <summary>
/// One entry of an operator's list: a network (<c>10.0.0.0/8</c>, <c>fd00::/8</c>, one address), a host name
/// (<c>api.openai.com</c>) or every host under a domain (<c>*.openai.azure.com</c>).
/// </summary>
public sealed record HostPattern(string Text, IPNetwork? Network, string? Host, string? Suffix)
{
    /// <summary>Reads an entry; throws <see cref="ArgumentException"/> naming <paramref name="setting"/> for one that is none of these.</summary>
    public static HostPattern Parse(string text, string setting)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entry = text.Trim();
        if (entry.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(entry, out var network)
                ? new HostPattern(entry, network, null, null)
                : throw new ArgumentException($"{setting}: '{text}' is not a network; write it as an address and prefix length, such as 10.0.0.0/8 or fd00::/8 (with no host bits set)");
        }
        if (UpstreamAddresses.TryParse(entry, out var address))
        {
            address = UpstreamAddresses.Reached(address);
            return new HostPattern(entry, new IPNetwork(address, address.GetAddressBytes().Length * 8), null, null);
        }
        var wildcard = entry.StartsWith("*.", StringComparison.Ordinal);
        var name = (wildcard ? entry[2..] : entry).TrimEnd('.').ToLowerInvariant();
        if (name.Length == 0 || Uri.CheckHostName(name) != UriHostNameType.Dns)
        {
            throw new ArgumentException($"{setting}: '{text}' is neither a network (10.0.0.0/8), an address (10.0.0.7) nor a host name (api.openai.com, *.openai.azure.com)");
        }
        return wildcard ? new HostPattern(entry, null, null, "." + name) : new HostPattern(entry, null, name, null);
    }

    /// <summary>True when a URL's host is this name, under this domain, or (for an address written in the URL) in this network.</summary>
    public bool MatchesHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (UpstreamAddresses.TryParse(host, out var literal)) return Contains(literal);
        var name = host.TrimEnd('.').ToLowerInvariant();
        return (Host is not null && name == Host) || (Suffix is not null && name.EndsWith(Suffix, StringComparison.Ordinal));
    }

    /// <summary>True when the address (as reached) is in this network.</summary>
    public bool Contains(IPAddress address) => Network is { } network && network.Contains(UpstreamAddresses.Reached(address));

    public override string ToString() => Text;
}
