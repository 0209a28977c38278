using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Identity;

/// <summary>Why an access token is refused; <see cref="None"/> when it is accepted.</summary>
public enum TokenProblem { None, Disabled, Malformed, ForeignIssuer, UnknownKey, BadSignature, WrongAudience, Expired, NotYetValid, NoSubject, Deactivated, ProviderUnavailable }

/// <summary>The outcome of an access-token check: the grant the gateway and the API act on, or the problem and what to do.</summary>
public readonly record struct TokenCheck(KeyGrant? Grant, TokenProblem Problem, string Message)
{
    /// <summary>The error code the gateway answers with.</summary>
    public string Code => Problem switch
    {
        TokenProblem.Expired => "token_expired",
        TokenProblem.ForeignIssuer => "token_issuer_untrusted",
        TokenProblem.WrongAudience => "token_audience_invalid",
        TokenProblem.UnknownKey or TokenProblem.BadSignature => "token_signature_invalid",
        TokenProblem.Deactivated => "account_deactivated",
        TokenProblem.ProviderUnavailable => "identity_provider_unavailable",
        _ => "invalid_token",
    };

    /// <summary>The HTTP status: 503 when the provider's keys could not be read, else 401.</summary>
    public int Status => Problem == TokenProblem.ProviderUnavailable ? 503 : 401;
}

/// <summary>
/// JWT access tokens issued by the organisation's provider (docs/identity.md): signature against the provider's
/// published keys, issuer, audience and lifetime (clock skew at most 5 minutes). The token's e-mail (or subject)
/// names the person, its groups claim their groups. A validated token is remembered by its SHA-256 until it expires,
/// in a bounded cache, so a repeated token costs one hash and one lookup, about what a Pilotage key costs.
/// </summary>
public sealed class AccessTokens(OidcOptions? options, ProviderMetadata? metadata, DirectoryPeople? people, PolicyCache policy, TimeProvider time)
{
    /// <summary>The longest bearer token read as a JWT: directories with many groups make long tokens.</summary>
    public const int MaxLength = 8 * 1024;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly ConcurrentDictionary<(UInt128, UInt128), Remembered> _validated = new();

    /// <summary>A validated token: who it names and until when; the grant is rebuilt when the policy snapshot changes.</summary>
    private sealed record Remembered(string Name, DateTimeOffset Expires, KeyGrant Grant, long SnapshotVersion);

    /// <summary>Whether the server accepts access tokens (<c>--oidc-audience</c> given).</summary>
    public bool Enabled => options?.Audience is not null && metadata is not null && people is not null;

    /// <summary>A bearer token shaped like a JWT (three base64url parts), so it goes to token validation rather than the key check.</summary>
    public static bool LooksLikeJwt(string? token) =>
        token is { Length: > 16 and <= MaxLength } && token.StartsWith("eyJ", StringComparison.Ordinal) && token.AsSpan().Count('.') == 2;

    /// <summary>The id evidence and rate limits use for a person calling with access tokens (one bucket per person).</summary>
    public static string CredentialId(Principal person) => CredentialPrefix + person.Id.ToString(CultureInfo.InvariantCulture);

    /// <summary>What every credential id from the identity provider starts with; a Pilotage key id never does.</summary>
    public const string CredentialPrefix = "oidc:";

    /// <summary>The grant a person signed in through the provider acts with (dashboard sessions; tokens add their expiry).</summary>
    public static KeyGrant GrantFor(Principal person, DateTimeOffset? expires = null) => new(CredentialId(person), [], expires, false, person);

    public async ValueTask<TokenCheck> CheckAsync(string token, CancellationToken ct)
    {
        if (!Enabled) return new(null, TokenProblem.Disabled, "this server accepts Pilotage keys only; access tokens need 'serve --oidc-authority … --oidc-audience …'");
        var now = time.GetUtcNow();
        var hash = Hash(token);
        var snapshot = policy.Current;
        if (_validated.TryGetValue(hash, out var remembered))
        {
            if (remembered.Expires + options!.ClockSkew <= now)
            {
                _validated.TryRemove(hash, out _);
                return new(null, TokenProblem.Expired, $"the access token expired at {remembered.Expires:u}; get a new one from your identity provider");
            }
            if (remembered.SnapshotVersion == snapshot.Version) return Usable(remembered.Grant);
            if (snapshot.People.TryGetValue(remembered.Name, out var current))
            {
                var renewed = remembered with { Grant = GrantFor(current, remembered.Expires), SnapshotVersion = snapshot.Version };
                _validated[hash] = renewed;
                return Usable(renewed.Grant);
            }
        }
        var (check, seen) = await ValidateAsync(token, ct);
        if (seen is not var (name, groups, expires)) return check;
        var person = await people!.EnsureAsync(name, groups, ct);
        var grant = GrantFor(person, expires);
        Remember(hash, new Remembered(name, expires, grant, policy.Current.Version), now);
        return Usable(grant);
    }

    private static TokenCheck Usable(KeyGrant grant) =>
        grant.User.Active ? new(grant, TokenProblem.None, "") : new(null, TokenProblem.Deactivated, $"the account {grant.User.Email} is deactivated");


    /// <summary>Who a valid token names: the person, their groups, and when the token expires.</summary>
    private sealed record Seen(string Name, IReadOnlyList<string> Groups, DateTimeOffset Expires);

    /// <summary>Validates a token not seen before: who it names, or the problem.</summary>
    private async Task<(TokenCheck Check, Seen? Seen)> ValidateAsync(string token, CancellationToken ct)
    {
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return (Refused(TokenProblem.Malformed, "the bearer token is not a readable JWT; send a Pilotage key or an access token from your identity provider"), null);
        }
        var o = options!;
        // The issuer is read first: a token from another provider is refused without asking this one for keys.
        if (!string.Equals(jwt.Issuer?.TrimEnd('/'), o.Issuer, StringComparison.Ordinal))
        {
            return (Refused(TokenProblem.ForeignIssuer, $"the access token was issued by '{jwt.Issuer}'; this server trusts tokens from {o.Issuer} only"), null);
        }
        var configuration = await metadata!.CurrentAsync(ct);
        if (configuration is not null && !string.IsNullOrEmpty(jwt.Kid) && !metadata.Publishes(jwt.Kid))
        {
            configuration = await metadata.RefreshForUnknownKeyAsync(jwt.Kid, ct);
        }
        if (configuration is null)
        {
            return (Refused(TokenProblem.ProviderUnavailable, $"the identity provider's keys could not be read from {o.DiscoveryAddress}; try again shortly, or use a Pilotage key"), null);
        }
        if (!string.IsNullOrEmpty(jwt.Kid) && !metadata.Publishes(jwt.Kid))
        {
            return (Refused(TokenProblem.UnknownKey, $"the access token is signed with key '{jwt.Kid}', which {o.Issuer} does not publish; it was not issued by your identity provider"), null);
        }
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = configuration.Issuer,
            ValidAudience = o.Audience,
            IssuerSigningKeys = configuration.SigningKeys,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = o.ClockSkew,
            // Only asymmetric signatures: a token "signed" with the public key as an HMAC secret must never pass.
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512],
        };
        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid) return (Refused(ProblemOf(result.Exception), MessageOf(result.Exception, jwt, o)), null);

        var email = jwt.TryGetPayloadValue<string>("email", out var mail) && !string.IsNullOrWhiteSpace(mail) ? mail.Trim().ToLowerInvariant() : null;
        // An address the provider says it has not verified could be anyone's (someone typed it): it names nobody.
        if (email is not null && jwt.TryGetPayloadValue<bool>("email_verified", out var verified) && !verified)
        {
            return (Refused(TokenProblem.NoSubject, $"the access token's e-mail {email} is not verified by the identity provider (email_verified is false); verify it there"), null);
        }
        var name = email ?? (string.IsNullOrWhiteSpace(jwt.Subject) ? null : jwt.Subject.Trim());
        if (name is null || name.Length > 320)
        {
            return (Refused(TokenProblem.NoSubject, "the access token names nobody: it needs an 'email' or a 'sub' claim (at most 320 characters)"), null);
        }
        var groups = result.ClaimsIdentity.FindAll(o.GroupsClaim).Select(c => c.Value).Where(v => v.Length > 0).ToList();
        return (new TokenCheck(null, TokenProblem.None, ""), new Seen(name, groups, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero)));
    }

    private static TokenCheck Refused(TokenProblem problem, string message) => new(null, problem, message);

    private static TokenProblem ProblemOf(Exception? e) => e switch
    {
        SecurityTokenExpiredException => TokenProblem.Expired,
        SecurityTokenNotYetValidException => TokenProblem.NotYetValid,
        SecurityTokenInvalidAudienceException => TokenProblem.WrongAudience,
        SecurityTokenInvalidIssuerException => TokenProblem.ForeignIssuer,
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException or SecurityTokenInvalidAlgorithmException => TokenProblem.BadSignature,
        _ => TokenProblem.Malformed,
    };

    private static string MessageOf(Exception? e, JsonWebToken jwt, OidcOptions o) => ProblemOf(e) switch
    {
        TokenProblem.Expired => $"the access token expired at {jwt.ValidTo:u} (clock skew allowed: {o.ClockSkew.TotalSeconds:0} s); get a new one from your identity provider",
        TokenProblem.NotYetValid => $"the access token is not valid before {jwt.ValidFrom:u}",
        TokenProblem.WrongAudience => $"the access token is for audience '{string.Join("', '", jwt.Audiences)}', not '{o.Audience}': ask your identity provider for a token for Pilotage",
        TokenProblem.ForeignIssuer => $"the access token was issued by '{jwt.Issuer}'; this server trusts tokens from {o.Issuer} only",
        TokenProblem.BadSignature => "the access token's signature does not verify against the identity provider's keys; it was not issued by your identity provider",
        _ => "the access token is not valid: it must be signed, carry 'exp', and come from " + o.Issuer,
    };

    /// <summary>SHA-256 of the token's characters: the cache keeps no token, only its hash.</summary>
    private static (UInt128, UInt128) Hash(string token)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(MemoryMarshal.AsBytes(token.AsSpan()), hash);
        return (BinaryPrimitives.ReadUInt128LittleEndian(hash), BinaryPrimitives.ReadUInt128LittleEndian(hash[16..]));
    }

    /// <summary>Bounded: when full, expired entries go; if it is still full, everything goes (tokens then validate again).</summary>
    private void Remember((UInt128, UInt128) hash, Remembered entry, DateTimeOffset now)
    {
        if (_validated.Count >= options!.TokenCacheSize)
        {
            foreach (var (key, value) in _validated)
            {
                if (value.Expires + options.ClockSkew <= now) _validated.TryRemove(key, out _);
            }
            if (_validated.Count >= options.TokenCacheSize) _validated.Clear();
        }
        _validated[hash] = entry;
    }
}
