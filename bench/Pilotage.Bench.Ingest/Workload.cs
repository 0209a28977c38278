using System.Globalization;
using System.Text.Json;
using Pilotage.Core.Evidence;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Bench.Ingest;

/// <summary>Where the interactions are recorded: the system's slug and its lifecycle position, read from the server.</summary>
internal sealed record SystemPosition(string Slug, string Phase, int Stage, int ConfigVersion);

/// <summary>
/// A deterministic workload: everything about interaction <c>i</c> except its id derives from a hash of
/// <c>i</c>, so a review written later rebuilds the same row (and roll-up key) without keeping a million
/// rows in memory. Interactions are spread in order over <see cref="Hours"/> hours ending at the start of
/// the current hour, a few hundred bytes of request and response content each.
/// </summary>
internal sealed class Workload
{
    public const int Hours = 24 * 60;
    public const int Users = 500;
    public const string Reviewer = "rita@example.org";

    /// <summary>The last interactions of the period are left unreviewed: the queue a team has not reached yet.</summary>
    public const int UnreviewedTail = 1_500;

    private static readonly string[] Topics =
    [
        "a parcel that has not arrived", "a refund for a damaged item", "changing the delivery address", "a duplicate charge on the card",
        "cancelling a subscription", "an invoice with the wrong VAT number", "a password reset that never arrives", "a missing part in the box",
    ];

    private static readonly string[] Openings =
    [
        "Thank you for contacting us, and sorry for the trouble.", "Hello, and thanks for your patience.",
        "Thanks for reaching out; I have looked into your account.", "I am sorry to hear about this.",
    ];

    private readonly int _count;
    private readonly SystemPosition _system;
    private readonly DateTimeOffset _start;
    private readonly string?[] _ids;

    /// <param name="count">How many interactions the period holds (rows beyond it wrap around the period).</param>
    /// <param name="capacity">How many ids to keep (the period's interactions and any extra run).</param>
    public Workload(SystemPosition system, int count, int capacity, DateTimeOffset now)
    {
        _system = system;
        _count = count;
        _ids = new string?[capacity];
        var hour = RollupKey.HourOf(now);
        _start = DateTimeOffset.FromUnixTimeSeconds((hour - Hours) * 3600);
    }

    public int Count => _count;

    public DateTimeOffset Start => _start;

    /// <summary>A new interaction record with a fresh id, remembered for its review.</summary>
    public InteractionRow NewInteraction(int i)
    {
        var row = Build(i, InteractionId.New());
        _ids[i] = row.Id;
        return row;
    }

    /// <summary>The same record as <see cref="NewInteraction"/> wrote (its id included).</summary>
    public InteractionRow Recorded(int i) => Build(i, _ids[i] ?? throw new InvalidOperationException($"interaction {i} was not written"));

    /// <summary>Served drafts are reviewed, except the most recent ones; about 70 % of all interactions.</summary>
    public bool IsReviewed(int i) => i < _count - UnreviewedTail && IsDraft(i) && OutcomeOf(i) == "served";

    public static bool IsDraft(int i) => Mix(i, 1) % 100 < 73;

    public static ReviewRow Review(InteractionRow row, int i)
    {
        var h = Mix(i, 7);
        var roll = h % 100;
        // 60 % accepted, 25 % edited, 10 % rejected, 5 % escalated.
        var outcome = roll < 60 ? ReviewOutcome.Accepted : roll < 85 ? ReviewOutcome.Edited : roll < 95 ? ReviewOutcome.Rejected : ReviewOutcome.Escalated;
        var answer = AnswerText(i);
        string? finalText = null;
        double? rework = null;
        double reworkSeconds = 0;
        if (outcome == ReviewOutcome.Edited)
        {
            finalText = answer.Replace("within two working days", "by tomorrow at the latest", StringComparison.Ordinal)
                + " If anything else comes up, just reply to this message.";
            rework = Rework.Between(answer, finalText);
            reworkSeconds = 30 + (double)(h / 100 % 240);
        }
        var outOfScope = outcome == ReviewOutcome.Rejected && h / 100 % 3 == 0;
        return new ReviewRow
        {
            InteractionId = row.Id,
            System = row.System,
            Outcome = outcome switch
            {
                ReviewOutcome.Accepted => "accepted",
                ReviewOutcome.Edited => "edited",
                ReviewOutcome.Rejected => "rejected",
                _ => "escalated",
            },
            FinalText = finalText,
            Reason = outcome == ReviewOutcome.Rejected ? "The answer promises a refund the policy does not allow." : null,
            Tags = outcome switch
            {
                ReviewOutcome.Rejected => outOfScope ? "[\"out_of_scope\"]" : "[\"policy\"]",
                ReviewOutcome.Edited => "[\"tone\"]",
                _ => null,
            },
            EscalatedTo = outcome == ReviewOutcome.Escalated ? "legal@example.org" : null,
            Reviewer = Reviewer,
            Seconds = 15 + (double)(h / 1000 % 165),
            Rework = rework,
            ReworkSeconds = reworkSeconds,
            ReviewedAt = row.CreatedAt.AddMinutes(5 + (double)(h / 7 % 235)),
            Source = "reviewer",
        };
    }

    /// <summary>What a review adds to the roll-ups: the same function ReviewService uses.</summary>
    public static EvidenceTotals TotalsOf(ReviewRow review) =>
        EvidenceTotals.ForReview(review.Outcome switch
        {
            "accepted" => ReviewOutcome.Accepted,
            "edited" => ReviewOutcome.Edited,
            "rejected" => ReviewOutcome.Rejected,
            _ => ReviewOutcome.Escalated,
        }, review.Seconds, review.Rework, review.ReworkSeconds, review.Tags?.Contains("\"out_of_scope\"", StringComparison.Ordinal) == true);

    private InteractionRow Build(int i, string id)
    {
        var h = Mix(i, 0);
        var position = i % _count;
        var hour = (long)position * Hours / _count;
        var createdAt = _start.AddSeconds(hour * 3600 + (long)(h % 3600));
        var user = (int)(Mix(i, 2) % Users) + 1;
        var outcome = OutcomeOf(i);
        var served = outcome == "served";
        var draft = IsDraft(i);
        var streamed = h % 3 == 0;
        var tokensIn = 180 + (int)(h / 3600 % 400);
        var tokensOut = served ? 60 + (int)(h / 1_440_000 % 300) : 0;
        var totalMs = served ? 250 + (double)(h / 7 % 4_000) + (h / 11 % 100) / 100.0 : outcome == "refused" ? 2.5 : 30_000;
        return new InteractionRow
        {
            Id = id,
            CreatedAt = createdAt,
            System = _system.Slug,
            Phase = _system.Phase,
            Stage = _system.Stage,
            ConfigVersion = _system.ConfigVersion,
            UserId = user,
            UserEmail = string.Create(CultureInfo.InvariantCulture, $"user{user}@example.org"),
            KeyId = string.Create(CultureInfo.InvariantCulture, $"key_{user:x16}"),
            Groups = "[\"support-pilot\"]",
            Endpoint = "chat",
            Mode = draft ? "draft" : "live",
            Outcome = outcome,
            RefusalCode = outcome == "refused" ? "data_boundary" : null,
            RefusalReason = outcome == "refused" ? "the request contains an IBAN" : null,
            Streamed = streamed,
            TokensIn = tokensIn,
            TokensOut = tokensOut,
            Cost = served ? Math.Round(tokensIn * 0.0000005m + tokensOut * 0.0000015m, 8) : 0m,
            FirstByteMs = served ? 120 + (double)(h / 13 % 600) : null,
            TotalMs = totalMs,
            UpstreamStatus = outcome switch { "served" => 200, "failed" => 504, _ => null },
            RequestHash = "sha256:" + Convert.ToHexStringLower(BitConverter.GetBytes(h)) + Convert.ToHexStringLower(BitConverter.GetBytes(~h)) + "00000000000000000000000000000000",
            ResponseHash = served ? "sha256:" + Convert.ToHexStringLower(BitConverter.GetBytes(Mix(i, 3))) + "000000000000000000000000000000000000000000000000" : null,
            RequestContent = RequestJson(i),
            // The gateway keeps a streamed answer as the text it assembled, a plain answer as the upstream's JSON.
            ResponseContent = !served ? null : streamed ? AnswerText(i) : ResponseJson(i, tokensIn, tokensOut),
            Error = outcome == "failed" ? "upstream timed out after 30 s" : null,
            Category = Topics[(int)(Mix(i, 4) % (ulong)Topics.Length)].Split(' ')[^1],
        };
    }

    /// <summary>96 % served, 2 % refused by a policy, 2 % failed upstream.</summary>
    private static string OutcomeOf(int i)
    {
        var roll = Mix(i, 5) % 100;
        return roll < 96 ? "served" : roll < 98 ? "refused" : "failed";
    }

    private static string RequestJson(int i)
    {
        var topic = Topics[(int)(Mix(i, 4) % (ulong)Topics.Length)];
        var order = 100_000 + (int)(Mix(i, 6) % 900_000);
        var question = string.Create(CultureInfo.InvariantCulture,
            $"Hello, I am writing about {topic} (order {order}). I contacted you last week and have not heard back. Could you tell me what happens next and how long it will take?");
        return "{\"model\":\"support-drafts\",\"temperature\":0.2,\"messages\":[{\"role\":\"system\",\"content\":\"You draft polite replies to support tickets.\"},{\"role\":\"user\",\"content\":"
            + JsonSerializer.Serialize(question, BenchJsonContext.Default.String) + "}]}";
    }

    private static string ResponseJson(int i, int tokensIn, int tokensOut) => string.Create(CultureInfo.InvariantCulture,
        $"{{\"id\":\"chatcmpl-{Mix(i, 8):x16}\",\"object\":\"chat.completion\",\"model\":\"support-drafts\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{JsonSerializer.Serialize(AnswerText(i), BenchJsonContext.Default.String)}}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":{tokensIn},\"completion_tokens\":{tokensOut},\"total_tokens\":{tokensIn + tokensOut}}}}}");

    private static string AnswerText(int i)
    {
        var topic = Topics[(int)(Mix(i, 4) % (ulong)Topics.Length)];
        var opening = Openings[(int)(Mix(i, 9) % (ulong)Openings.Length)];
        return $"{opening} Regarding {topic}: our team has opened a case and will get back to you within two working days. You do not need to do anything in the meantime; we will write to the address on your order.";
    }

    /// <summary>SplitMix64 of the index and a stream number: reproducible, no shared Random.</summary>
    private static ulong Mix(int i, int stream)
    {
        var z = (ulong)(uint)i * 0x9E3779B97F4A7C15UL + (ulong)stream * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class BenchJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
