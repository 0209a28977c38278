using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Audit;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Audit;

/// <summary>A run of stored entries in sequence order, with both hashes of each computed from its content.</summary>
internal sealed class AuditEntryPage
{
    public List<AuditRecord> Records { get; } = [];
    public List<string> StoredHashes { get; } = [];
    /// <summary>Per entry, 64 bytes: the chain hash (SHA-256 of the encoding), then the Merkle leaf hash.</summary>
    public byte[] Hashes { get; private set; } = [];

    public int Count => Records.Count;

    public ReadOnlySpan<byte> ContentHash(int i) => Hashes.AsSpan(i * 64, 32);
    public byte[] LeafHash(int i) => Hashes.AsSpan((i * 64) + 32, 32).ToArray();

    public void Hash()
    {
        Hashes = new byte[Count * 64];
        using var hasher = new AuditEntryHasher();
        for (var i = 0; i < Count; i++)
        {
            var hashes = Hashes.AsSpan(i * 64, 64);
            hasher.Hash(Records[i], hashes[..32], hashes[32..]);
        }
    }
}

/// <summary>
/// Reads every audit entry in order for verify, as fast as the store gives them: plain SQL (no tracking, no
/// materialiser) over runs of sequences, one connection a core, each run read and hashed while the caller checks
/// the one before. Short statements rather than one long reader, so SQLite writers are never held off.
/// </summary>
internal sealed class AuditEntryScan(PilotageStore store, long headSequence)
{
    private const long Run = 20_000;

    public async IAsyncEnumerable<AuditEntryPage> PagesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ahead = Math.Max(2, Environment.ProcessorCount);
        var reading = new Queue<Task<AuditEntryPage>>();
        long from = 0;
        var last = false;
        void Next()
        {
            // The last run has no upper bound: rows past the recorded head are read too, for verify to report.
            var start = from;
            last = start + Run >= headSequence;
            long? end = last ? null : start + Run;
            reading.Enqueue(Task.Run(() => ReadAsync(start, end, cancellationToken), cancellationToken));
            from = start + Run;
        }
        try
        {
            while (reading.Count < ahead && !last) Next();
            while (reading.TryDequeue(out var run))
            {
                var page = await run;
                if (!last) Next();
                yield return page;
            }
        }
        finally
        {
            // Reads still running when the caller stops early finish before their contexts go.
            foreach (var run in reading) await run.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    /// <summary>Entries with sequence in (after, until], or every one after when <paramref name="until"/> is null; hashed.</summary>
    private async Task<AuditEntryPage> ReadAsync(long after, long? until, CancellationToken cancellationToken)
    {
        var page = new AuditEntryPage();
        await using var db = store.CreateDbContext();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using (var command = db.Database.GetDbConnection().CreateCommand())
        {
            command.CommandText = until is null
                ? "SELECT sequence, at, actor, action, subject, before, after, previous_hash, hash FROM audit_entries WHERE sequence > @after ORDER BY sequence"
                : "SELECT sequence, at, actor, action, subject, before, after, previous_hash, hash FROM audit_entries WHERE sequence > @after AND sequence <= @until ORDER BY sequence";
            Add(command, "@after", after);
            if (until is { } end) Add(command, "@until", end);
            await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                page.Records.Add(new AuditRecord(
                    reader.GetInt64(0),
                    reader.GetFieldValue<DateTimeOffset>(1),
                    reader.GetString(2),
                    reader.GetString(3),
                    reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetString(6),
                    reader.GetString(7)));
                page.StoredHashes.Add(reader.GetString(8));
            }
        }
        page.Hash();
        return page;
    }

    private static void Add(DbCommand command, string name, long value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
