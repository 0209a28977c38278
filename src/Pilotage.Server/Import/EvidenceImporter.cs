using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Evidence;
using Pilotage.Core.Import;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Turns validated import rows into evidence: <see cref="Add"/> checks them one by one against the data boundary and
/// builds their rows (ids, hashes, rework) into a slice without the database; <see cref="WriteAsync"/> records on the
/// caller's transaction the rows not recorded yet, with the roll-ups of exactly those rows.
/// </summary>
internal sealed class EvidenceImporter(AiSystemRow system, DataBoundaryPolicy? boundary) : IDisposable
{
    public const string Mode = "import";

    private const string NoFlush = "SET LOCAL synchronous_commit = off";

    /// <summary>Ids and e-mails looked up per query (one array parameter each).</summary>
    private const int QueryChunk = 10_000;

    private readonly bool _keepContent = SpecCanonicalJson.Deserialize(system.SpecJson).Evidence.Content != ContentRetention.Hashes;
    private readonly string _phase = system.Phase.ToLowerInvariant();
    // The same row twice in a file is one interaction, like the same row in two imports (ids of the whole file).
    // Ids as values, not strings: this set holds every row of the file until the import ends.
    private readonly HashSet<ImportId> _seen = [];
    // E-mail → user id (0: not a Pilotage user), looked up once per import.
    private readonly Dictionary<string, long> _users = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _usersLock = new(1, 1);
    // PostgreSQL: whether slices look up rows already recorded before copying (EvidenceBulkWriter).
    private readonly ExistingRowsHint _existing = new();
    // E-mails of the file, each held once by every row that names it (a file names few people many times): a slice's rows
    // live until they are written, and the garbage collector copies what lives. Prepare has one caller at a time.
    private readonly Dictionary<string, string> _emails = new(StringComparer.Ordinal);
    // Reused for every row's id: Prepare has one caller at a time.
    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Rows the data boundary refused, each with its row and column named.</summary>
    public List<ImportError> Refused { get; } = [];

    public int RefusedRows { get; private set; }

    /// <summary>
    /// Checks <paramref name="record"/> and adds its row to <paramref name="batch"/>; runs off the writer's thread (one
    /// caller at a time). Row by row, so a record read from the file lives only until its row is built.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ImportBatch batch, EvidenceRecord record)
    {
        batch.Read++;
        if (boundary is not null)
        {
            if (EvidenceFileBoundary.Check(record, boundary, Refused) is not { } kept)
            {
                RefusedRows++;
                return;
            }
            record = kept;
        }
        Span<byte> hash = stackalloc byte[Sha256Value.Bytes];
        var id = new ImportId(EvidenceCsv.InteractionIdParts(system.Slug, record, _sha256, hash), hash);
        if (!_seen.Add(id))
        {
            batch.Repeated++;
            return;
        }
        var user = record.User;
        if (user is not null)
        {
            if (_emails.TryGetValue(user, out var held)) user = held;
            else _emails[user] = user;
        }
        ref var row = ref batch.Add();
        row.Id = id;
        row.CreatedAt = record.Timestamp.ToUniversalTime();
        row.UserEmail = user;
        // Each text encoded once: hashed from the slice's buffer, and kept there to be written when content is kept.
        row.KeepsContent = _keepContent;
        row.RequestContent = batch.AddText(record.Prompt);
        row.RequestHash = Sha256Value.Of(batch.Text(row.RequestContent));
        if (!_keepContent) batch.DropText(row.RequestContent);
        row.ResponseContent = batch.AddText(record.Answer);
        row.ResponseHash = Sha256Value.Of(batch.Text(row.ResponseContent));
        if (!_keepContent) batch.DropText(row.ResponseContent);
        row.Category = record.Category;
        if (record.Outcome is { } outcome)
        {
            row.Reviewed = true;
            row.Outcome = outcome;
            row.ReviewSeconds = record.ReviewSeconds ?? 0;
            row.Rework = outcome == ReviewOutcome.Edited ? Pilotage.Core.Evidence.Rework.Between(record.Answer, record.FinalText ?? "") : null;
            row.FinalText = record.FinalText;
        }
        row.Rating = record.Rating;
    }

    /// <summary>Puts a slice's rows in key order once it is full: each table's primary-key index is then walked once from start to end instead of at random.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Seal(ImportBatch batch)
    {
        // Sorted by their ids alongside: a row is moved only when it is out of place, and never copied to be compared.
        var rows = batch.Rows;
        // A file in time order (the usual export) gives slices already in key order: checked in one pass here.
        if (InKeyOrder(rows)) return;
        var ids = System.Buffers.ArrayPool<ImportId>.Shared.Rent(rows.Length);
        try
        {
            for (var i = 0; i < rows.Length; i++) ids[i] = rows[i].Id;
            ids.AsSpan(0, rows.Length).Sort(rows);
        }
        finally
        {
            System.Buffers.ArrayPool<ImportId>.Shared.Return(ids);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool InKeyOrder(ReadOnlySpan<ImportRow> rows)
    {
        for (var i = 1; i < rows.Length; i++)
        {
            if (rows[i - 1].Id.CompareTo(rows[i].Id) > 0) return false;
        }
        return true;
    }

    /// <summary>
    /// Records the rows of <paramref name="batch"/> not recorded yet, with their roll-ups, on the open transaction.
    /// Slices may be written by several connections at once (PostgreSQL).
    /// </summary>
    public async Task<(int Imported, int AlreadyPresent)> WriteAsync(PilotageDbContext db, ImportBatch batch, SqlStatements statements, CancellationToken ct)
    {
        await _usersLock.WaitAsync(ct);
        try
        {
            // One look in the e-mails known so far per row (a case-insensitive hash is a cost at 10,000 rows a slice);
            // the rows of e-mails not seen yet wait for one query.
            var (unknown, waiting) = KnownUsers(batch.Rows);
            foreach (var chunk in (unknown ?? []).Chunk(QueryChunk))
            {
                foreach (var email in chunk) _users[email] = 0;
                foreach (var user in await db.Users.AsNoTracking().Where(u => chunk.Contains(u.Email)).Select(u => new { u.Email, u.Id }).ToListAsync(ct))
                {
                    _users[user.Email] = user.Id;
                }
            }
            foreach (var i in waiting ?? []) batch.Rows[i].UserId = _users[batch.Rows[i].UserEmail!];
        }
        finally
        {
            _usersLock.Release();
        }

        // Written in bulk (binary COPY, or a prepared insert stepped per row), not through the change tracker.
        var built = batch.Count;
        await EvidenceBulkWriter.WriteAsync(db, batch, new ImportPosition(system.Slug, _phase, system.Stage, system.ConfigVersion), _existing, ct);

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("an import must run inside a transaction");
        var delta = Rollups(batch.Rows);
        if (connection is not Npgsql.NpgsqlConnection)
        {
            await RollupWriter.ApplyAsync(connection, transaction, delta, statements, ct);
            return (batch.Count, built - batch.Count + batch.Repeated);
        }
        // PostgreSQL: the roll-ups in one round trip, and a commit that does not wait for the log to reach the disk —
        // the import's audit entry, committed durably afterwards, flushes the log with every slice in it.
        statements.Defer();
        try
        {
            statements.AddDeferred(NoFlush);
            await RollupWriter.ApplyAsync(connection, transaction, delta, statements, ct);
        }
        catch
        {
            await statements.DiscardDeferredAsync();
            throw;
        }
        await statements.RunDeferredAsync(transaction, ct);
        return (batch.Count, built - batch.Count + batch.Repeated);
    }

    /// <summary>Sets the user of every row whose e-mail is known; returns the e-mails not known yet and their rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (HashSet<string>? Unknown, List<int>? Waiting) KnownUsers(Span<ImportRow> rows)
    {
        HashSet<string>? unknown = null;
        List<int>? waiting = null;
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].UserEmail is not { } email) continue;
            if (_users.TryGetValue(email, out var userId)) rows[i].UserId = userId;
            else
            {
                (unknown ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(email);
                (waiting ??= []).Add(i);
            }
        }
        return (unknown, waiting);
    }

    /// <summary>
    /// The roll-ups of exactly the rows recorded now, summed in memory, in key order: two slices written at once take
    /// the roll-up rows they share in the same order, so one waits for the other instead of deadlocking. (A dictionary
    /// enumerates in the order keys were added when none is removed.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private RollupDelta Rollups(ReadOnlySpan<ImportRow> fresh)
    {
        // Every imported interaction adds the same, and a rating one of five: made once, not per row (EvidenceTotals.Add copies).
        // Not RollupDelta.AddInteraction: that would put every imported row in the latency
        // histogram at 0 ms and drag latency_p50/p95 of the real gateway traffic towards zero.
        var served = EvidenceTotals.ForInteraction(InteractionOutcomes.Served, null, false, 0, 0, 0m, 0);
        var ratings = new EvidenceTotals?[6];
        // Every row of an import has the same system, position (phase, stage, config version) and kind (an answer
        // served by the AI): its roll-up key is told by its hour, so rows are summed per hour (a number hashed, not a
        // key of strings) and the key is made once per hour.
        var hours = new Dictionary<long, (RollupKey Key, EvidenceTotals Sum)>();
        var days = new HashSet<(int Day, long User)>();
        // Rows in key order come hour by hour: the hour's entry is looked up when the hour changes, not for every row.
        var lastHour = long.MinValue;
        var sum = (EvidenceTotals?)null;
        foreach (ref readonly var row in fresh)
        {
            var hour = RollupKey.HourOf(row.CreatedAt);
            if (hour != lastHour || sum is null)
            {
                if (!hours.TryGetValue(hour, out var entry))
                {
                    hours[hour] = entry = (new RollupKey(system.Slug, _phase, system.Stage, system.ConfigVersion, hour, RollupKinds.Ai), new EvidenceTotals());
                }
                (lastHour, sum) = (hour, entry.Sum);
            }
            sum.Add(served);
            if (row.UserId != 0) days.Add((RollupKey.DayOf(row.CreatedAt), row.UserId));
            if (row.Reviewed) sum.AddReview(row.Outcome, row.ReviewSeconds, row.Rework, 0, outOfScope: false);
            if (row.Rating is { } rating)
            {
                sum.Add(rating is >= 0 and < 6 ? ratings[rating] ??= EvidenceTotals.ForFeedback(rating) : EvidenceTotals.ForFeedback(rating));
            }
        }
        // The few keys sorted, not the rows: the hour orders them.
        var keys = hours.Keys.ToArray();
        Array.Sort(keys);
        var ordered = new RollupDelta();
        foreach (var hour in keys) ordered.Add(hours[hour].Key, hours[hour].Sum);
        var active = days.ToArray();
        Array.Sort(active);
        foreach (var (day, user) in active) ordered.AddActiveUser(system.Slug, day, user);
        return ordered;
    }

    public void Dispose()
    {
        _usersLock.Dispose();
        _sha256.Dispose();
    }
}
