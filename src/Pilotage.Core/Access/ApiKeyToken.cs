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
