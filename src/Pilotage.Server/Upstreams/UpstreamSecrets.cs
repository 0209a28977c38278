using System.Text.RegularExpressions;

namespace Pilotage.Server.Upstreams;

/// <summary>A variable the operator allows specs to name in <c>upstream.apiKeyEnv</c>, and the hosts it may go to (none: any).</summary>
public sealed record UpstreamSecretGrant(string Name, IReadOnlyList<HostPattern> Hosts);

/// <summary>
/// Which environment variables a spec may name in <c>upstream.apiKeyEnv</c>: the gateway sends that variable's value
/// as a Bearer token to the spec's <c>upstream.baseUrl</c>, which the spec's owner chooses. So the operator lists the
/// variables (<c>pilotage serve --upstream-secret NAME[=HOST]</c>); with no list, names ending in <c>_API_KEY</c>.
/// Pilotage's own settings (<c>PILOTAGE_*</c>: the admin token, the webhook secret, the database) are never allowed.
/// </summary>
public sealed partial class UpstreamSecrets
{
    public const string DefaultSuffix = "_API_KEY";
    public const string OwnPrefix = "PILOTAGE_";
    private const string HowToAllow = "the operator allows a variable with 'pilotage serve --upstream-secret NAME' (config Pilotage:UpstreamSecrets)";

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex VariableName();

    private UpstreamSecrets(IReadOnlyList<UpstreamSecretGrant> grants) => Grants = grants;

    /// <summary>The operator's list; empty: the default rule (names ending in <c>_API_KEY</c>).</summary>
    public IReadOnlyList<UpstreamSecretGrant> Grants { get; }

    /// <summary>
    /// Reads the operator's entries, each <c>NAME</c> or <c>NAME=HOST[,HOST…]</c> (a host name, <c>*.domain</c>, an
    /// address or a network); throws <see cref="ArgumentException"/> for one that cannot be read or that names a
    /// <c>PILOTAGE_*</c> variable.
    /// </summary>
    public static UpstreamSecrets Parse(IEnumerable<string> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var grants = new List<UpstreamSecretGrant>();
        foreach (var raw in entries.Where(e => !string.IsNullOrWhiteSpace(e)))
        {
            var entry = raw.Trim();
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? entry : entry[..equals]).Trim();
            if (!VariableName().IsMatch(name))
            {
                throw new ArgumentException($"--upstream-secret '{raw}': write the name of an environment variable (letters, digits, '_'), optionally followed by =HOST, such as OPENAI_API_KEY=api.openai.com");
            }
            if (IsOwn(name))
            {
                throw new ArgumentException($"--upstream-secret {name}: variables named {OwnPrefix}* are Pilotage's own settings (its admin token, webhook secret, database) and are never sent to an upstream; give the upstream key another name");
            }
            var hosts = equals < 0 ? [] : entry[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(h => HostPattern.Parse(h, $"--upstream-secret {name}")).ToList();
            if (equals >= 0 && hosts.Count == 0) throw new ArgumentException($"--upstream-secret '{raw}': name at least one host after '=', or leave '=' out to allow any host");
            grants.Add(new UpstreamSecretGrant(name, hosts));
        }
        return new UpstreamSecrets(grants);
    }

    /// <summary>Why <paramref name="name"/> may not be sent to <paramref name="host"/>, naming how to allow it; null when it may.</summary>
    public string? Refusal(string name, string host)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(host);
        if (IsOwn(name))
        {
            return $"upstream.apiKeyEnv names {name}, one of Pilotage's own settings ({OwnPrefix}*), which are never sent to an upstream; name the variable that holds the model provider's key instead, such as OPENAI_API_KEY; the operator allows others with 'pilotage serve --upstream-secret NAME' (config Pilotage:UpstreamSecrets)";
        }
        if (Grants.Count == 0)
        {
            return name.EndsWith(DefaultSuffix, StringComparison.Ordinal)
                ? null
                : $"upstream.apiKeyEnv names {name}; this server sends only variables whose names end in {DefaultSuffix} (such as OPENAI_API_KEY) unless {HowToAllow}";
        }
        var grant = Grants.FirstOrDefault(g => string.Equals(g.Name, name, StringComparison.Ordinal));
        if (grant is null)
        {
            return $"upstream.apiKeyEnv names {name}, which this server does not send to upstreams (it allows {string.Join(", ", Grants.Select(g => g.Name))}); {HowToAllow}";
        }
        if (grant.Hosts.Count > 0 && !grant.Hosts.Any(h => h.MatchesHost(host)))
        {
            return $"upstream.apiKeyEnv names {name}, which this server sends only to {string.Join(", ", grant.Hosts)}, not to {host} (upstream.baseUrl); {HowToAllow.Replace("NAME", "NAME=HOST", StringComparison.Ordinal)}";
        }
        return null;
    }

    /// <summary>Compared without case: on Windows, <c>pilotage_admin_token</c> reads the same variable.</summary>
    private static bool IsOwn(string name) => name.StartsWith(OwnPrefix, StringComparison.OrdinalIgnoreCase);
}
