using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Pilotage.Core.Evidence;
using Pilotage.Core.Import;
using Pilotage.Core.Specs;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Import;

/// <summary>
/// Records validated import rows on the caller's transaction: an interaction per row (plus its
/// review and feedback when the row has them) and the roll-ups of exactly the rows that were new.
/// </summary>
internal static class EvidenceImporter
{
    public const string Mode = "import";

    /// <summary>Ids and e-mails looked up per query (one array parameter each).</summary>
    private const int QueryChunk = 5000;

    public static async Task<(int Imported, int AlreadyPresent)> WriteAsync(PilotageDbContext db, AiSystemRow system, IReadOnlyList<EvidenceRecord> records, CancellationToken ct)
    {
        var spec = SpecCanonicalJson.Deserialize(system.SpecJson);
        var keepContent = spec.Evidence.Content != ContentRetention.Hashes;
        var phase = system.Phase.ToLowerInvariant();

        // The same row twice in one file is one interaction, like the same row in two imports.
        var rows = new List<(string Id, EvidenceRecord Record)>(records.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            var id = EvidenceCsv.InteractionId(system.Slug, record);
            if (seen.Add(id)) rows.Add((id, record));
        }

        var existing = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chunk in rows.Select(r => r.Id).Chunk(QueryChunk))
        {
            existing.UnionWith(await db.Interactions.AsNoTracking().Where(i => chunk.Contains(i.Id)).Select(i => i.Id).ToListAsync(ct));
        }

        var users = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var chunk in records.Select(r => r.User).OfType<string>().Distinct(StringComparer.Ordinal).Chunk(QueryChunk))
        {
            foreach (var user in await db.Users.AsNoTracking().Where(u => chunk.Contains(u.Email)).Select(u => new { u.Email, u.Id }).ToListAsync(ct))
            {
                users[user.Email] = user.Id;
            }
        }

        var delta = new RollupDelta();
        var active = new HashSet<(int Day, long User)>();
        var interactions = new List<InteractionRow>(rows.Count);
        var reviews = new List<ReviewRow>();
        var feedbacks = new List<FeedbackRow>();
        var imported = 0;
        foreach (var (id, record) in rows)
        {
            if (existing.Contains(id)) continue;
            var userId = record.User is { } email ? users.GetValueOrDefault(email) : 0;
            var interaction = new InteractionRow
            {
                Id = id,
                CreatedAt = record.Timestamp.ToUniversalTime(),
                System = system.Slug,
                Phase = phase,
                Stage = system.Stage,
                ConfigVersion = system.ConfigVersion,
                UserId = userId,
                UserEmail = record.User ?? "",
                KeyId = "",
                Groups = "[]",
                Endpoint = "chat",
                Mode = Mode,
                Outcome = "served",
                RequestHash = Sha256(record.Prompt),
                ResponseHash = Sha256(record.Answer),
                RequestContent = keepContent ? record.Prompt : null,
                ResponseContent = keepContent ? record.Answer : null,
                Category = record.Category,
            };
            interactions.Add(interaction);
            // Not RollupDelta.AddInteraction: that would put every imported row in the latency
            // histogram at 0 ms and drag latency_p50/p95 of the real gateway traffic towards zero.
            var key = RollupKey.Of(interaction);
            delta.Add(key, EvidenceTotals.ForInteraction(interaction.Outcome, null, false, 0, 0, 0m, 0));
            if (userId != 0) active.Add((RollupKey.DayOf(interaction.CreatedAt), userId));

            if (record.Outcome is { } outcome)
            {
                var seconds = record.ReviewSeconds ?? 0;
                var rework = outcome == ReviewOutcome.Edited ? Pilotage.Core.Evidence.Rework.Between(record.Answer, record.FinalText ?? "") : (double?)null;
                var review = new ReviewRow
                {
                    InteractionId = id,
                    System = system.Slug,
                    Outcome = outcome.ToString().ToLowerInvariant(),
                    FinalText = record.FinalText,
                    Reviewer = record.User ?? Mode,
                    Seconds = seconds,
                    Rework = rework,
                    ReviewedAt = interaction.CreatedAt,
                    Source = Mode,
                };
                reviews.Add(review);
                delta.Add(key, EvidenceTotals.ForReview(outcome, seconds, rework, 0, outOfScope: false));
            }
            if (record.Rating is { } rating)
            {
                var feedback = new FeedbackRow { InteractionId = id, UserId = userId, System = system.Slug, Rating = rating, At = interaction.CreatedAt };
                feedbacks.Add(feedback);
                delta.Add(key, EvidenceTotals.ForFeedback(rating));
            }
            imported++;
        }
        // Written in bulk (binary COPY, or a prepared insert stepped per row), not through the change tracker.
        await EvidenceBulkWriter.WriteAsync(db, interactions, reviews, feedbacks, ct);

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("an import must run inside a control-plane command's transaction");
        await RollupWriter.ApplyAsync(connection, transaction, delta, ct);
        await WriteActiveUsersAsync(connection, transaction, system.Slug, active, ct);
        return (imported, records.Count - imported);
    }

    /// <summary>Who used the system on which day (adoption), as the gateway's roll-ups record it.</summary>
    private static async Task WriteActiveUsersAsync(DbConnection connection, DbTransaction transaction, string system, HashSet<(int Day, long User)> active, CancellationToken ct)
    {
        foreach (var (day, user) in active)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO active_users (system, day, user_id) VALUES (@system, @day, @user) ON CONFLICT (system, day, user_id) DO NOTHING";
            Parameter(command, "@system", system);
            Parameter(command, "@day", day);
            Parameter(command, "@user", user);
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
