using System.Security.Cryptography;
using System.Text;

namespace Pilotage.Core.Access;

/// <summary>
/// API key secrets: <c>plt_{id}_{secret}</c>. Only the SHA-256 of the whole token is stored; the id
/// lets the store find the row without searching by secret. Keys are 256-bit random, so a plain
/// SHA-256 (not a slow password hash) is the right tool: nothing is left to brute-force.
/// </summary>
public static class ApiKeyToken
{
    private const string Prefix = "plt_";
    private const string Base32 = "abcdefghijklmnopqrstuvwxyz234567";

    /// <summary>The key id under which a bootstrap token that does not follow the format is stored.</summary>
    public const string BootstrapId = "bootstrap";

    /// <summary>
    /// Which bootstrap key an id names: 1 for <c>bootstrap</c>, n for <c>bootstrap-n</c> (minted when the operator set
    /// <c>PILOTAGE_ADMIN_TOKEN</c> to its n-th value); 0 for any other id.
    /// </summary>
    public static int BootstrapGeneration(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (id == BootstrapId) return 1;
        return id.StartsWith(BootstrapId + "-", StringComparison.Ordinal)
            && int.TryParse(id.AsSpan(BootstrapId.Length + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 1
            ? n
            : 0;
    }

    /// <summary>The id of the <paramref name="generation"/>-th bootstrap key.</summary>
    public static string BootstrapIdFor(int generation) =>
        generation <= 1 ? BootstrapId : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{BootstrapId}-{generation}");

    public static (string Id, string Token) Generate()
    {
        Span<byte> idBytes = stackalloc byte[10];
        RandomNumberGenerator.Fill(idBytes);
        var id = new StringBuilder(16);
        foreach (var b in idBytes[..8]) id.Append(Base32[b & 31]);
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (id.ToString(), $"{Prefix}{id}_{secret}");
    }

    /// <summary>The id a presented token claims; tokens of another shape map to the bootstrap key.</summary>
    public static string IdOf(string token)
    {
        if (token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var end = token.IndexOf('_', Prefix.Length);
            if (end > Prefix.Length) return token[Prefix.Length..end];
        }
        return BootstrapId;
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Constant-time comparison of a presented token with a stored hash.</summary>
    public static bool Matches(string token, ReadOnlySpan<byte> storedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(token), storedHash);

    private static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
