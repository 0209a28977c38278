using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pilotage.Core.Audit;

/// <summary>
/// Both hashes of an entry from one canonical encoding, into a buffer it reuses: the chain hash (SHA-256 of the
/// encoding) and the Merkle leaf hash (SHA-256 of 0x00 and the encoding). Verify runs one per core over millions
/// of entries, so nothing is allocated per entry. Not thread-safe: one per thread.
/// </summary>
public sealed class AuditEntryHasher : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _writer;

    public AuditEntryHasher() => _writer = new Utf8JsonWriter(_buffer);

    /// <param name="contentHash">32 bytes: the chain hash, as <see cref="AuditHasher.Compute"/> gives it in hex.</param>
    /// <param name="leafHash">32 bytes: as <see cref="AuditHasher.LeafHash"/>.</param>
    public void Hash(AuditRecord entry, Span<byte> contentHash, Span<byte> leafHash)
    {
        _buffer.ResetWrittenCount();
        _buffer.GetSpan(1)[0] = 0x00;
        _buffer.Advance(1);
        _writer.Reset(_buffer);
        AuditHasher.Write(_writer, entry);
        var written = _buffer.WrittenSpan;
        SHA256.HashData(written[1..], contentHash);
        SHA256.HashData(written, leafHash);
    }

    public void Dispose() => _writer.Dispose();
}
