using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Pilotage.Core.Audit.Checkpoints;

/// <summary>
/// A public key in the C2SP signed-note verifier key format, <c>name+hash+base64(0x01 || key)</c>: what
/// <c>pilotage audit public-key</c> prints and every offline check needs. Only Ed25519 (type 0x01).
/// </summary>
public sealed record NoteVerifier(string Name, uint KeyId, byte[] PublicKey)
{
    internal const byte Ed25519Type = 0x01;

    public string Encode() =>
        $"{Name}+{KeyId.ToString("x8", CultureInfo.InvariantCulture)}+{Convert.ToBase64String([Ed25519Type, .. PublicKey])}";

    public override string ToString() => Encode();

    /// <summary>Reads a verifier key; a malformed one is a <see cref="FormatException"/> saying what is wrong.</summary>
    public static NoteVerifier Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('+', 3);
        if (parts.Length != 3) throw new FormatException("a public key reads NAME+HASH+KEY (as 'pilotage audit public-key' prints it)");
        var (name, hash, key) = (parts[0], parts[1], parts[2]);
        NoteKeys.CheckName(name);
        if (hash.Length != 8 || !uint.TryParse(hash, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id))
        {
            throw new FormatException($"the public key's hash '{hash}' is not 8 hexadecimal digits");
        }
        var raw = NoteKeys.Base64(key, "public key");
        if (raw.Length != 33 || raw[0] != Ed25519Type) throw new FormatException("the public key is not an Ed25519 key (type 0x01, 32 bytes)");
        var verifier = new NoteVerifier(name, id, raw[1..]);
        if (NoteKeys.KeyId(name, verifier.PublicKey) != id) throw new FormatException("the public key's hash does not match its name and key: it was altered or mistyped");
        return verifier;
    }

    /// <summary>Whether <paramref name="signature"/> is this key's Ed25519 signature of <paramref name="message"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        var algorithm = SignatureAlgorithm.Ed25519;
        if (signature.Length != algorithm.SignatureSize) return false;
        if (!NSec.Cryptography.PublicKey.TryImport(algorithm, PublicKey, KeyBlobFormat.RawPublicKey, out var key) || key is null) return false;
        return algorithm.Verify(key, message, signature);
    }

    public bool Equals(NoteVerifier? other) =>
        other is not null && Name == other.Name && KeyId == other.KeyId && PublicKey.AsSpan().SequenceEqual(other.PublicKey);

    public override int GetHashCode() => HashCode.Combine(Name, KeyId);
}

/// <summary>
/// An Ed25519 signing key in the C2SP signed-note signer key format,
/// <c>PRIVATE+KEY+name+hash+base64(0x01 || seed)</c>: the content of the audit key file.
/// </summary>
public sealed class NoteSigner : IDisposable
{
    private readonly Key _key;

    private NoteSigner(string name, Key key)
    {
        _key = key;
        var publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        Verifier = new NoteVerifier(name, NoteKeys.KeyId(name, publicKey), publicKey);
    }

    public string Name => Verifier.Name;
    public NoteVerifier Verifier { get; }

    public static NoteSigner Generate(string name)
    {
        NoteKeys.CheckName(name);
        return new NoteSigner(name, Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport }));
    }

    /// <summary>Reads a signer key; a malformed one is a <see cref="FormatException"/> saying what is wrong.</summary>
    public static NoteSigner Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('+', 5);
        if (parts.Length != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY")
        {
            throw new FormatException("an audit key reads PRIVATE+KEY+NAME+HASH+KEY (the signed-note signer key format)");
        }
        NoteKeys.CheckName(parts[2]);
        var raw = NoteKeys.Base64(parts[4], "audit key");
        if (raw.Length != 33 || raw[0] != NoteVerifier.Ed25519Type) throw new FormatException("the audit key is not an Ed25519 key (type 0x01, 32 bytes)");
        var key = Key.Import(SignatureAlgorithm.Ed25519, raw.AsSpan(1), KeyBlobFormat.RawPrivateKey, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
        var signer = new NoteSigner(parts[2], key);
        if (!string.Equals(signer.Verifier.KeyId.ToString("x8", CultureInfo.InvariantCulture), parts[3], StringComparison.OrdinalIgnoreCase))
        {
            signer.Dispose();
            throw new FormatException("the audit key's hash does not match its name and key: the file was altered");
        }
        return signer;
    }

    public string Encode()
    {
        var seed = _key.Export(KeyBlobFormat.RawPrivateKey);
        try
        {
            return $"PRIVATE+KEY+{Name}+{Verifier.KeyId.ToString("x8", CultureInfo.InvariantCulture)}+{Convert.ToBase64String([NoteVerifier.Ed25519Type, .. seed])}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Signs a note's text (which must end in a newline) and returns the signed note.</summary>
    public string Sign(string text)
    {
        SignedNote.CheckText(text);
        var signature = SignatureAlgorithm.Ed25519.Sign(_key, Encoding.UTF8.GetBytes(text));
        var blob = new byte[4 + signature.Length];
        BinaryPrimitives.WriteUInt32BigEndian(blob, Verifier.KeyId);
        signature.CopyTo(blob, 4);
        return $"{text}\n{SignedNote.Dash} {Name} {Convert.ToBase64String(blob)}\n";
    }

    public void Dispose() => _key.Dispose();
}

internal static class NoteKeys
{
    /// <summary>The signed-note key hash: the first 4 bytes of SHA-256(name || "\n" || type || key), big-endian.</summary>
    public static uint KeyId(string name, ReadOnlySpan<byte> publicKey)
    {
        var input = new List<byte>(Encoding.UTF8.GetBytes(name)) { (byte)'\n', NoteVerifier.Ed25519Type };
        input.AddRange(publicKey.ToArray());
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(input.ToArray()));
    }

    public static void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('+') || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            throw new FormatException($"'{name}' is not a key name: it must be non-empty, without spaces or '+'");
        }
    }

    public static byte[] Base64(string text, string what)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw new FormatException($"the {what} is not valid base64");
        }
    }
}
