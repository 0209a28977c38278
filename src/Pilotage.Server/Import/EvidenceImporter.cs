using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Evidence;
using Pilotage.Core.Import;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>One imported row ready to write: its interaction, and its review and feedback when it has them.</summary>
/// <param name="Outcome">The review's outcome when there is a <paramref name="Review"/> (its roll-up is summed from it when written).</param>
internal sealed record ImportRow(InteractionRow Interaction, ReviewRow? Review, FeedbackRow? Feedback, ReviewOutcome Outcome);

/// <summary>Rows of one slice of a file, checked and built, and what was refused or repeated among them.</summary>
internal sealed record ImportBatch(List<ImportRow> Rows, int Repeated);

/// <summary>
/// Turns validated import rows into evidence: <see cref="Prepare"/> checks them against the data boundary and
/// builds their rows (ids, hashes, rework) without the database; <see cref="WriteAsync"/> records on the
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
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
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

    /// <summary>Checks and builds a slice; runs off the writer's thread (one caller at a time).</summary>
    public ImportBatch Prepare(ReadOnlySpan<EvidenceRecord> records)
    {
        var rows = new List<ImportRow>(records.Length);
        var repeated = 0;
        foreach (var given in records)
        {
            var record = given;
            if (boundary is not null)
            {
                if (EvidenceFileBoundary.Check(record, boundary, Refused) is not { } kept)
                {
                    RefusedRows++;
                    continue;
                }
                record = kept;
            }
            var id = EvidenceCsv.InteractionId(system.Slug, record, _sha256);
            if (!_seen.Add(id))
            {
                repeated++;
                continue;
            }
            rows.Add(Build(id, record));
        }
        // In key order, each table's primary-key index is walked once from start to end instead of at random.
        rows.Sort(static (a, b) => string.CompareOrdinal(a.Interaction.Id, b.Interaction.Id));
        return new ImportBatch(rows, repeated);
    }

    private ImportRow Build(string id, EvidenceRecord record)
    {
        var user = record.User;
        if (user is not null)
        {
            if (_emails.TryGetValue(user, out var held)) user = held;
            else _emails[user] = user;
        }
        var interaction = new InteractionRow
        {
            Id = id,
            CreatedAt = record.Timestamp.ToUniversalTime(),
            System = system.Slug,
            Phase = _phase,
            Stage = system.Stage,
            ConfigVersion = system.ConfigVersion,
            UserEmail = user ?? "",
            KeyId = "",
            Groups = "[]",
            Endpoint = InteractionEndpointNames.Chat,
            Mode = Mode,
            Outcome = InteractionOutcomes.Served,
            RequestHash = Sha256(record.Prompt),
            ResponseHash = Sha256(record.Answer),
            RequestContent = _keepContent ? record.Prompt : null,
            ResponseContent = _keepContent ? record.Answer : null,
            Category = record.Category,
        };
        ReviewRow? review = null;
        if (record.Outcome is { } outcome)
        {
            var seconds = record.ReviewSeconds ?? 0;
            var rework = outcome == ReviewOutcome.Edited ? Pilotage.Core.Evidence.Rework.Between(record.Answer, record.FinalText ?? "") : (double?)null;
            review = new ReviewRow
            {
                InteractionId = id,
                System = system.Slug,
                Outcome = outcome.Name(),
                FinalText = record.FinalText,
                Reviewer = user ?? Mode,
                Seconds = seconds,
                Rework = rework,
                ReviewedAt = interaction.CreatedAt,
                Source = Mode,
            };
        }
        var feedback = record.Rating is { } rating
            ? new FeedbackRow { InteractionId = id, System = system.Slug, Rating = rating, At = interaction.CreatedAt }
            : null;
        return new ImportRow(interaction, review, feedback, record.Outcome ?? default);
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
            HashSet<string>? unknown = null;
            List<ImportRow>? waiting = null;
            foreach (var row in batch.Rows)
            {
                var email = row.Interaction.UserEmail;
                if (email.Length == 0) continue;
                if (_users.TryGetValue(email, out var userId)) SetUser(row, userId);
                else
                {
                    (unknown ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(email);
                    (waiting ??= []).Add(row);
                }
            }
            foreach (var chunk in (unknown ?? []).Chunk(QueryChunk))
            {
                foreach (var email in chunk) _users[email] = 0;
                foreach (var user in await db.Users.AsNoTracking().Where(u => chunk.Contains(u.Email)).Select(u => new { u.Email, u.Id }).ToListAsync(ct))
                {
                    _users[user.Email] = user.Id;
                }
            }
            foreach (var row in waiting ?? []) SetUser(row, _users[row.Interaction.UserEmail]);
        }
        finally
        {
            _usersLock.Release();
        }

        // Written in bulk (binary COPY, or a prepared insert stepped per row), not through the change tracker.
        var fresh = await EvidenceBulkWriter.WriteAsync(db, batch.Rows, _existing, ct);

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("an import must run inside a transaction");
        var delta = Rollups(fresh);
        if (connection is not Npgsql.NpgsqlConnection)
        {
            await RollupWriter.ApplyAsync(connection, transaction, delta, statements, ct);
            return (fresh.Count, batch.Rows.Count - fresh.Count + batch.Repeated);
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
        return (fresh.Count, batch.Rows.Count - fresh.Count + batch.Repeated);
    }

    private static void SetUser(ImportRow row, long userId)
    {
        row.Interaction.UserId = userId;
        if (row.Feedback is { } feedback) feedback.UserId = userId;
    }

    /// <summary>
    /// The roll-ups of exactly the rows recorded now, summed in memory, in key order: two slices written at once take
    /// the roll-up rows they share in the same order, so one waits for the other instead of deadlocking. (A dictionary
    /// enumerates in the order keys were added when none is removed.)
    /// </summary>
    private RollupDelta Rollups(List<ImportRow> fresh)
    {
        // Every imported interaction adds the same, and a rating one of five: made once, not per row (EvidenceTotals.Add copies).
        // Not RollupDelta.AddInteraction: that would put every imported row in the latency
        // histogram at 0 ms and drag latency_p50/p95 of the real gateway traffic towards zero.
        var served = EvidenceTotals.ForInteraction(InteractionOutcomes.Served, null, false, 0, 0, 0m, 0);
        var ratings = new EvidenceTotals?[6];
        // Every row of an import has the same system, position (phase, stage, config version) and kind: its roll-up key
        // is told by its hour, so rows are summed per hour (a number hashed, not a key of strings) and the key is made
        // once per hour, from the first row of it.
        var hours = new Dictionary<long, (RollupKey Key, EvidenceTotals Sum)>();
        var days = new HashSet<(int Day, long User)>();
        foreach (var row in fresh)
        {
            var interaction = row.Interaction;
            var hour = RollupKey.HourOf(interaction.CreatedAt);
            if (!hours.TryGetValue(hour, out var at)) hours[hour] = at = (RollupKey.Of(interaction), new EvidenceTotals());
            at.Sum.Add(interaction.Outcome == InteractionOutcomes.Served ? served : EvidenceTotals.ForInteraction(interaction.Outcome, null, false, 0, 0, 0m, 0));
            if (interaction.UserId != 0) days.Add((RollupKey.DayOf(interaction.CreatedAt), interaction.UserId));
            if (row.Review is { } review) at.Sum.AddReview(row.Outcome, review.Seconds, review.Rework, review.ReworkSeconds, outOfScope: false);
            if (row.Feedback is { } feedback)
            {
                at.Sum.Add(feedback.Rating is >= 0 and < 6 ? ratings[feedback.Rating] ??= EvidenceTotals.ForFeedback(feedback.Rating) : EvidenceTotals.ForFeedback(feedback.Rating));
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

    private static string Sha256(string text)
    {
        // Hashed from a stack or pooled buffer: no byte array per value; in one call to the native library, not
        // three (append, finish, reset), each of which clears its error queue.
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = max > 4096 ? System.Buffers.ArrayPool<byte>.Shared.Rent(max) : null;
        try
        {
            Span<byte> buffer = rented ?? stackalloc byte[4096];
            var length = Encoding.UTF8.GetBytes(text, buffer);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(buffer[..length], hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
