using System.Net;
using Pilotage.Core.Specs;

namespace Pilotage.Server.Upstreams;

/// <summary>Resolves a host name to the addresses the gateway may dial (tests replace it to play DNS rebinding).</summary>
public delegate Task<IPAddress[]> UpstreamResolver(string host, CancellationToken cancellationToken);

/// <summary>
/// Where the gateway may send a request, and with which key: checked when a spec is applied and again at every
/// upstream call (a spec stored before the operator's policy changed must not leak either), and the address actually
/// dialled is checked when each connection opens (<see cref="UpstreamConnector"/>), so a host name that resolves
/// elsewhere at call time than at apply time (DNS rebinding) gains nothing.
/// </summary>
public sealed class UpstreamPolicy(UpstreamSecrets secrets, IReadOnlyList<HostPattern> allowed, OwnListeners own, UpstreamResolver resolver)
{
    /// <summary>How long apply waits for a host name to resolve before it leaves the check to connection time.</summary>
    private static readonly TimeSpan ApplyResolveTimeout = TimeSpan.FromSeconds(5);

    private const string HowToAllow = "the operator allows addresses with 'pilotage serve --upstream-allow CIDR|HOST' (config Pilotage:UpstreamAllow)";

    public UpstreamSecrets Secrets => secrets;

    /// <summary>The operator's address list; empty: every address that is not refused outright (loopback and private ranges included).</summary>
    public IReadOnlyList<HostPattern> Allowed => allowed;

    public static Task<IPAddress[]> SystemResolver(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => resolver(host, ct);

    /// <summary>Why the variable may not be sent to this upstream; null when it may.</summary>
    public string? SecretRefusal(string variable, Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        return secrets.Refusal(variable, baseUrl.IdnHost);
    }

    /// <summary>
    /// Why the gateway may not connect to <paramref name="address"/>:<paramref name="port"/> for <paramref name="host"/>
    /// (link-local, unspecified, Pilotage's own listener, or outside the operator's list); null when it may.
    /// </summary>
    public string? AddressRefusal(string host, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        var reached = UpstreamAddresses.Reached(address);
        if (UpstreamAddresses.NeverAllowed(reached) is { } never) return $"{Shown(host, address)} is {never}, which is never an upstream";
        if (own.Reaches(reached, port)) return $"{Shown(host, address)} port {port} is Pilotage's own listener; an upstream is another server";
        if (allowed.Count > 0 && !allowed.Any(a => a.MatchesHost(host) || a.Contains(reached)))
        {
            return $"{Shown(host, address)} is not in this server's list of upstream addresses ({string.Join(", ", allowed)}); {HowToAllow}";
        }
        return null;
    }

    /// <summary>
    /// The apply-time check of a spec's upstream: errors at <c>spec.upstream.apiKeyEnv</c> and <c>spec.upstream.baseUrl</c>.
    /// A host name is resolved; one that does not resolve now is left to the check at connection time, unless the
    /// operator's list must vouch for it.
    /// </summary>
    public async Task<IReadOnlyList<SpecError>> CheckAsync(SystemSpec spec, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<SpecError>();
        var url = new Uri(spec.Upstream.BaseUrl);
        if (spec.Upstream.ApiKeyEnv is { } variable && SecretRefusal(variable, url) is { } secret)
        {
            errors.Add(Error(spec, "spec.upstream.apiKeyEnv", secret));
        }
        var host = url.IdnHost;
        IPAddress[] addresses;
        if (UpstreamAddresses.TryParse(host, out var literal))
        {
            addresses = [literal];
        }
        else
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ApplyResolveTimeout);
            try
            {
                addresses = await resolver(host, timeout.Token);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException or ArgumentException && !ct.IsCancellationRequested)
            {
                addresses = [];
            }
            if (addresses.Length == 0 && allowed.Count > 0 && !allowed.Any(a => a.MatchesHost(host)))
            {
                errors.Add(Error(spec, "spec.upstream.baseUrl", $"upstream.baseUrl host {host} does not resolve here, so it cannot be checked against this server's list of upstream addresses ({string.Join(", ", allowed)}); use a host that resolves, or {HowToAllow}"));
                return errors;
            }
        }
        foreach (var address in addresses)
        {
            if (AddressRefusal(host, address, url.Port) is { } refusal)
            {
                errors.Add(Error(spec, "spec.upstream.baseUrl", $"upstream.baseUrl: {refusal}"));
                break;
            }
        }
        return errors;
    }

    private static SpecError Error(SystemSpec spec, string path, string message) => new($"system '{spec.Name}'", path, message, 0, 0);

    private static string Shown(string host, IPAddress address) =>
        UpstreamAddresses.TryParse(host, out _) ? address.ToString() : $"{host} ({address})";
}
