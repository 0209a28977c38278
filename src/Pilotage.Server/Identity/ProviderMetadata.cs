using System.Collections.Frozen;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace Pilotage.Server.Identity;

/// <summary>
/// The provider's discovery document and signing keys (JWKS), held as one immutable value. They are fetched when
/// first needed, again in the background once <see cref="OidcOptions.KeyRefreshInterval"/> has passed, and at once
/// when a token names a key Pilotage does not know (the provider rotated its keys), at most once per
/// <see cref="OidcOptions.MinimumKeyRefreshInterval"/>. IdentityModel's ConfigurationManager refreshes in the
/// background after a request for it, so the token that revealed the rotation would be refused; here it waits for
/// the keys and is accepted.
/// </summary>
public sealed class ProviderMetadata(OidcOptions options, IHttpClientFactory clients, TimeProvider time, ILogger<ProviderMetadata> logger) : IDisposable
{
    public const string HttpClientName = "pilotage-oidc";

    /// <summary>One fetch: the configuration and the ids of the keys it publishes.</summary>
    private sealed record Fetched(OpenIdConnectConfiguration Configuration, FrozenSet<string> KeyIds, DateTimeOffset At);

    private readonly SemaphoreSlim _fetching = new(1, 1);
    private Fetched? _current;
    private DateTimeOffset _lastAttempt = DateTimeOffset.MinValue;
    private int _backgroundRefresh;

    /// <summary>The configuration in force; fetched on first use. Null when the provider could not be reached yet.</summary>
    public async ValueTask<OpenIdConnectConfiguration?> CurrentAsync(CancellationToken ct)
    {
        var current = Volatile.Read(ref _current);
        if (current is null) return (await FetchAsync(null, ct))?.Configuration;
        if (time.GetUtcNow() - current.At > options.KeyRefreshInterval && Interlocked.Exchange(ref _backgroundRefresh, 1) == 0)
        {
            // Stale keys keep working while the new ones come: a slow provider must not stall the gateway.
            _ = Task.Run(async () =>
            {
                try { await FetchAsync(current, CancellationToken.None); }
                finally { Volatile.Write(ref _backgroundRefresh, 0); }
            }, CancellationToken.None);
        }
        return current.Configuration;
    }

    /// <summary>Whether the configuration in force publishes a key with this id.</summary>
    public bool Publishes(string kid) => Volatile.Read(ref _current)?.KeyIds.Contains(kid) == true;

    /// <summary>A token named a key not in the JWKS: fetch again now, unless a fetch happened moments ago.</summary>
    public async ValueTask<OpenIdConnectConfiguration?> RefreshForUnknownKeyAsync(string kid, CancellationToken ct)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && (current.KeyIds.Contains(kid) || time.GetUtcNow() - _lastAttempt < options.MinimumKeyRefreshInterval))
        {
            return current.Configuration;
        }
        return (await FetchAsync(current, ct))?.Configuration;
    }

    private async Task<Fetched?> FetchAsync(Fetched? seen, CancellationToken ct)
    {
        await _fetching.WaitAsync(ct);
        try
        {
            // Another caller fetched while this one waited: use theirs.
            var current = Volatile.Read(ref _current);
            if (current is not null && !ReferenceEquals(current, seen)) return current;
            // An unreachable provider is asked again only after a pause, not by every request meanwhile.
            if (current is null && time.GetUtcNow() - _lastAttempt < options.MinimumKeyRefreshInterval) return null;
            _lastAttempt = time.GetUtcNow();
            var retriever = new HttpDocumentRetriever(clients.CreateClient(HttpClientName)) { RequireHttps = !options.IsLoopback };
            var configuration = await OpenIdConnectConfigurationRetriever.GetAsync(options.DiscoveryAddress.AbsoluteUri, retriever, ct);
            if (!string.Equals(configuration.Issuer?.TrimEnd('/'), options.Issuer, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"the provider at {options.DiscoveryAddress} says its issuer is '{configuration.Issuer}', not '{options.Issuer}': set --oidc-authority to the issuer exactly");
            }
            var fetched = new Fetched(configuration, configuration.SigningKeys.Select(k => k.KeyId).OfType<string>().ToFrozenSet(StringComparer.Ordinal), _lastAttempt);
            Volatile.Write(ref _current, fetched);
            logger.LogInformation("Identity provider {Issuer}: {Keys} signing key(s)", options.Issuer, fetched.KeyIds.Count);
            return fetched;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            logger.LogWarning(e, "Could not read the identity provider's discovery document and keys at {Address}", options.DiscoveryAddress);
            return Volatile.Read(ref _current);
        }
        finally
        {
            _fetching.Release();
        }
    }

    public void Dispose() => _fetching.Dispose();
}
