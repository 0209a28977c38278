using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pilotage.Core.Audit;

/// <summary>The content of one audit entry, as hashed into the chain.</summary>
public sealed record AuditRecord(
    long Sequence,
    DateTimeOffset At,
    string Actor,
    string Action,
    string Subject,
    string? Before,
    string? After,
    string PreviousHash);

/// <summary>
/// SHA-256 chaining of audit entries: each entry's hash covers its content and the previous
/// entry's hash, so altering, deleting or reordering any stored row breaks every hash after it.
/// </summary>
public static class AuditHasher
{
    /// <summary>The "previous hash" of the first entry.</summary>
    public static string Genesis { get; } = new('0', 64);

    /// <summary>
    /// Entries carry millisecond timestamps: PostgreSQL keeps microseconds and SQLite text keeps
    /// ticks, so rounding at creation makes the hashed value identical on every store.
    /// </summary>
    public static DateTimeOffset Normalise(DateTimeOffset at)
    {
        var utc = at.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    public static string Compute(AuditRecord entry) => Convert.ToHexStringLower(SHA256.HashData(Encode(entry)));

    /// <summary>
    /// The canonical encoding of an entry (docs/audit.md, "Canonical encoding"): a compact UTF-8 JSON array
    /// <c>["pilotage-audit/v1", sequence, at, actor, action, subject, before, after, previousHash]</c>, with
    /// <c>at</c> as <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>. The chain hash is SHA-256 of it and the Merkle leaf hash
    /// is SHA-256 of 0x00 followed by it, so one encoding serves both.
    /// </summary>
    public static byte[] Encode(AuditRecord entry)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer, entry);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the canonical encoding (<see cref="Encode"/>) with a writer the caller reuses.</summary>
    internal static void Write(Utf8JsonWriter writer, AuditRecord entry)
    {
        // A JSON array is an unambiguous encoding of the fields (no delimiter can be forged).
        writer.WriteStartArray();
        writer.WriteStringValue("pilotage-audit/v1");
        writer.WriteNumberValue(entry.Sequence);
        Span<char> at = stackalloc char[24];
        Normalise(entry.At).TryFormat(at, out var written, "yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
        writer.WriteStringValue(at[..written]);
        writer.WriteStringValue(entry.Actor);
        writer.WriteStringValue(entry.Action);
        writer.WriteStringValue(entry.Subject);
        if (entry.Before is null) writer.WriteNullValue(); else writer.WriteStringValue(entry.Before);
        if (entry.After is null) writer.WriteNullValue(); else writer.WriteStringValue(entry.After);
        writer.WriteStringValue(entry.PreviousHash);
        writer.WriteEndArray();
        writer.Flush();
    }

    /// <summary>The entry's leaf in the audit Merkle tree (RFC 9162 leaf hash of its canonical encoding).</summary>
    public static byte[] LeafHash(AuditRecord entry) => Merkle.MerkleHash.Leaf(Encode(entry));
}

/// <summary>Why an audit chain failed verification, naming the first bad entry.</summary>
public sealed record AuditBreak(long Sequence, string Reason);

/// <summary>
/// The result of walking the log from the first entry to the recorded head: the chain, then the Merkle tree
/// rebuilt from the entries (<paramref name="TreeSize"/>, <paramref name="RootHash"/>), then every signed
/// checkpoint compared with it (<paramref name="Checkpoints"/>; docs/audit.md says which are compared).
/// </summary>
public sealed record AuditVerification(bool Ok, long Entries, string? HeadHash, AuditBreak? FirstBad,
    long TreeSize = 0, string? RootHash = null, IReadOnlyList<Checkpoints.CheckpointCheck>? Checkpoints = null, string? TreeProblem = null);

/// <summary>
/// Walks entries in sequence order and reports the first one that does not chain. Fed one entry at a
/// time so a store can stream millions of rows without holding them.
/// </summary>
public sealed class AuditChainVerifier
{
    private long _expected = 1;
    private string _previous = AuditHasher.Genesis;
    private AuditBreak? _firstBad;
    private long _count;

    public bool Failed => _firstBad is not null;

    public void Add(AuditRecord entry, string storedHash) => Add(entry, storedHash, SHA256.HashData(AuditHasher.Encode(entry)));

    /// <summary>As <see cref="Add(AuditRecord, string)"/>, with the SHA-256 of the entry's encoding already computed (<see cref="AuditEntryHasher"/>).</summary>
    public void Add(AuditRecord entry, string storedHash, ReadOnlySpan<byte> contentHash)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(storedHash);
        if (_firstBad is not null) return;
        _count++;
        if (entry.Sequence != _expected)
        {
            _firstBad = entry.Sequence > _expected
                ? new AuditBreak(_expected, $"entry {_expected} is missing (the next stored entry is {entry.Sequence}): rows were deleted")
                : new AuditBreak(entry.Sequence, $"entry {entry.Sequence} appears out of order (expected {_expected})");
            return;
        }
        if (!string.Equals(entry.PreviousHash, _previous, StringComparison.Ordinal))
        {
            _firstBad = new AuditBreak(entry.Sequence, $"entry {entry.Sequence} does not chain to entry {entry.Sequence - 1}: rows were reordered, replaced or deleted");
            return;
        }
        Span<char> actual = stackalloc char[2 * SHA256.HashSizeInBytes];
        Convert.TryToHexStringLower(contentHash, actual, out _);
        if (!actual.SequenceEqual(storedHash))
        {
            _firstBad = new AuditBreak(entry.Sequence, $"entry {entry.Sequence} was altered: its content no longer matches its hash");
            return;
        }
        _previous = storedHash;
        _expected++;
    }

    /// <summary>Checks the walk against the head recorded with the last append, which catches a deleted tail.</summary>
    public AuditVerification Complete(long headSequence, string headHash)
    {
        if (_firstBad is null && headSequence != _expected - 1)
        {
            _firstBad = headSequence > _expected - 1
                ? new AuditBreak(_expected, $"entries {_expected}..{headSequence} are missing: the chain head records {headSequence} entries")
                : new AuditBreak(headSequence + 1, $"entry {headSequence + 1} is beyond the recorded head ({headSequence}): it was inserted directly");
        }
        else if (_firstBad is null && !string.Equals(headHash, _previous, StringComparison.Ordinal))
        {
            _firstBad = new AuditBreak(headSequence, $"the chain head does not match entry {headSequence}: the last entry was replaced");
        }
        return new AuditVerification(_firstBad is null, _count, _firstBad is null ? _previous : null, _firstBad);
    }
}
