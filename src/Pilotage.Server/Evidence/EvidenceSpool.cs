using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>
/// The local, append-only file that holds interaction records of <c>onStoreOutage: spool</c> systems
/// while the store cannot be reached. One record a line: <c>checksum TAB json LF</c>, where the checksum
/// is the first 16 hex digits of the SHA-256 of the JSON. An append is fsynced before it returns, which
/// is what lets the gateway release the answer. A line cut off by a crash (no LF, or a checksum that does
/// not match) was never acknowledged, so it is dropped when the file is opened.
/// </summary>
/// <remarks>Used only by the evidence writer's loop: no locking here.</remarks>
public sealed class EvidenceSpool : IDisposable
{
    public const string DirectoryVariable = "PILOTAGE_SPOOL_DIR";
    private const int ChecksumChars = 16;

    private FileStream? _file;

    private EvidenceSpool(string path) => FilePath = path;

    public string FilePath { get; }

    /// <summary>Records in the file, waiting to be replayed.</summary>
    public long Count { get; private set; }

    /// <summary>Torn or corrupt lines dropped when the file was opened.</summary>
    public long Dropped { get; private set; }

    /// <summary>Opens (or prepares, without creating) the spool at <paramref name="path"/>, cutting a torn tail off.</summary>
    public static EvidenceSpool Open(string path)
    {
        var spool = new EvidenceSpool(Path.GetFullPath(path));
        if (File.Exists(spool.FilePath))
        {
            var (records, validLength, dropped) = Scan(spool.FilePath);
            spool.Count = records.Count;
            spool.Dropped = dropped;
            using var file = new FileStream(spool.FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            if (file.Length != validLength)
            {
                file.SetLength(validLength);
                file.Flush(flushToDisk: true);
            }
        }
        return spool;
    }

    /// <summary>
    /// Where the spool lives: <paramref name="directory"/> (<c>PILOTAGE_SPOOL_DIR</c>) if given; else next to a
    /// SQLite file (<c>pilotage.db.evidence-spool</c>), else under the user's data folder
    /// (<c>~/.local/share/pilotage/spool</c>) named after the PostgreSQL host, port and database. Null for an
    /// in-memory SQLite store, which has nothing durable to protect.
    /// </summary>
    public static string? DefaultPath(StoreLocation location, string? directory)
    {
        ArgumentNullException.ThrowIfNull(location);
        string name;
        string? folder = string.IsNullOrWhiteSpace(directory) ? null : directory;
        if (location.Provider == StoreProvider.Sqlite)
        {
            var source = new SqliteConnectionStringBuilder(location.ConnectionString).DataSource;
            if (string.IsNullOrEmpty(source) || source == ":memory:" || source.StartsWith("file::memory:", StringComparison.Ordinal)
                || new SqliteConnectionStringBuilder(location.ConnectionString).Mode == SqliteOpenMode.Memory)
            {
                return null;
            }
            var full = Path.GetFullPath(source);
            name = Path.GetFileName(full) + ".evidence-spool";
            folder ??= Path.GetDirectoryName(full);
        }
        else
        {
            var pg = new NpgsqlConnectionStringBuilder(location.ConnectionString);
            name = Safe($"evidence-{pg.Host}-{pg.Port}-{pg.Database ?? pg.Username}.spool");
            folder ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "pilotage", "spool");
        }
        return Path.Combine(folder ?? ".", name);
    }

    private static string Safe(string name) =>
        string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_'));

    /// <summary>Appends the records and fsyncs; only then may their answers be released.</summary>
    public void Append(IReadOnlyList<InteractionRow> rows)
    {
        if (rows.Count == 0) return;
        if (_file is null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            _file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read, 64 * 1024, FileOptions.None);
        }
        var start = _file.Position;
        try
        {
            using (var buffer = new MemoryStream())
            {
                foreach (var row in rows) WriteLine(buffer, row);
                _file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
            }
            _file.Flush(flushToDisk: true);
        }
        catch
        {
            // Leave no half-appended frame behind a record that will be reported as not stored.
            TryTruncate(start);
            throw;
        }
        Count += rows.Count;
    }

    /// <summary>Every record in the file, in the order appended.</summary>
    public IReadOnlyList<InteractionRow> ReadAll()
    {
        _file?.Flush(flushToDisk: true);
        return File.Exists(FilePath) ? Scan(FilePath).Records : [];
    }

    /// <summary>Empties the file once its records are committed in the store.</summary>
    public void Clear()
    {
        if (_file is not null)
        {
            _file.SetLength(0);
            _file.Flush(flushToDisk: true);
        }
        else if (File.Exists(FilePath))
        {
            using var file = new FileStream(FilePath, FileMode.Open, FileAccess.Write, FileShare.Read);
            file.SetLength(0);
            file.Flush(flushToDisk: true);
        }
        Count = 0;
    }

    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
    }

    private void TryTruncate(long length)
    {
        try
        {
            _file?.SetLength(length);
            _file?.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // The disk itself is failing; the torn frame is dropped by its checksum when the file is next opened.
        }
    }

    private static void WriteLine(Stream output, InteractionRow row)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(row, SpoolJsonContext.Default.InteractionRow);
        output.Write(Encoding.ASCII.GetBytes(Checksum(json)));
        output.WriteByte((byte)'\t');
        output.Write(json);
        output.WriteByte((byte)'\n');
    }

    private static string Checksum(ReadOnlySpan<byte> json) =>
        Convert.ToHexStringLower(SHA256.HashData(json))[..ChecksumChars];

    private static (List<InteractionRow> Records, long ValidLength, long Dropped) Scan(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = new List<InteractionRow>();
        long valid = 0;
        long dropped = 0;
        var position = 0;
        while (position < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            if (end < 0)
            {
                dropped++; // a torn last frame: its append never returned
                break;
            }
            var line = bytes.AsSpan(position, end - position);
            position = end + 1;
            if (TryParse(line) is { } row)
            {
                records.Add(row);
                valid = position;
            }
            else
            {
                dropped++;
                // Only a tail can be torn by a crash; a bad line followed by good ones is damage, and the good ones still count.
                valid = position;
            }
        }
        return (records, valid, dropped);
    }

    private static InteractionRow? TryParse(ReadOnlySpan<byte> line)
    {
        if (line.Length <= ChecksumChars + 1 || line[ChecksumChars] != (byte)'\t') return null;
        var json = line[(ChecksumChars + 1)..];
        if (!Encoding.ASCII.GetString(line[..ChecksumChars]).Equals(Checksum(json), StringComparison.Ordinal)) return null;
        try
        {
            return JsonSerializer.Deserialize(json, SpoolJsonContext.Default.InteractionRow);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSerializable(typeof(InteractionRow))]
internal sealed partial class SpoolJsonContext : JsonSerializerContext;
