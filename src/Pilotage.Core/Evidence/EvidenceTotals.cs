namespace Pilotage.Core.Evidence;

/// <summary>
/// Additive evidence counters: one roll-up row (a system, stage, config version, hour and kind), or
/// the sum of many. Every metric of the catalogue is computed from these plus a little context, so a
/// report reads a few hundred roll-up rows instead of every interaction. Mutable because it is an
/// accumulator; <see cref="Add"/> with a negative sign retracts an earlier contribution (a review
/// replaced by a newer one), which keeps roll-ups exact under corrections.
/// </summary>
public sealed class EvidenceTotals : IEquatable<EvidenceTotals>
{
    public long Requests { get; set; }
    public long Served { get; set; }
    public long Refused { get; set; }
    public long Failed { get; set; }
    public long Held { get; set; }
    public long Shadowed { get; set; }
    /// <summary>Refused by the data boundary.</summary>
    public long Blocked { get; set; }
    /// <summary>Sent with at least one value redacted.</summary>
    public long Redacted { get; set; }
    public long TokensIn { get; set; }
    public long TokensOut { get; set; }
    public decimal Cost { get; set; }
    public double LatencyMsSum { get; set; }
    public long Reviewed { get; set; }
    public long Accepted { get; set; }
    public long Edited { get; set; }
    public long Rejected { get; set; }
    public long Escalated { get; set; }
    public long OutOfScope { get; set; }
    public double ReviewSeconds { get; set; }
    /// <summary>Sum of normalised edit distances of edited answers (0 = untouched, 1 = rewritten).</summary>
    public double ReworkSum { get; set; }
    public double ReworkSeconds { get; set; }
    public long FeedbackCount { get; set; }
    public long FeedbackSum { get; set; }
    public long TaskCount { get; set; }
    public double TaskMinutes { get; set; }

    /// <summary>Adds <paramref name="other"/> times <paramref name="sign"/> (+1 or −1).</summary>
    public void Add(EvidenceTotals other, int sign = 1)
    {
        Requests += sign * other.Requests;
        Served += sign * other.Served;
        Refused += sign * other.Refused;
        Failed += sign * other.Failed;
        Held += sign * other.Held;
        Shadowed += sign * other.Shadowed;
        Blocked += sign * other.Blocked;
        Redacted += sign * other.Redacted;
        TokensIn += sign * other.TokensIn;
        TokensOut += sign * other.TokensOut;
        Cost += sign * other.Cost;
        LatencyMsSum += sign * other.LatencyMsSum;
        Reviewed += sign * other.Reviewed;
        Accepted += sign * other.Accepted;
        Edited += sign * other.Edited;
        Rejected += sign * other.Rejected;
        Escalated += sign * other.Escalated;
        OutOfScope += sign * other.OutOfScope;
        ReviewSeconds += sign * other.ReviewSeconds;
        ReworkSum += sign * other.ReworkSum;
        ReworkSeconds += sign * other.ReworkSeconds;
        FeedbackCount += sign * other.FeedbackCount;
        FeedbackSum += sign * other.FeedbackSum;
        TaskCount += sign * other.TaskCount;
        TaskMinutes += sign * other.TaskMinutes;
    }

    /// <summary>What one recorded interaction contributes.</summary>
    public static EvidenceTotals ForInteraction(string outcome, string? refusalCode, bool redacted, int tokensIn, int tokensOut, decimal cost, double totalMs)
    {
        var totals = new EvidenceTotals();
        totals.AddInteraction(outcome, refusalCode, redacted, tokensIn, tokensOut, cost, totalMs);
        return totals;
    }

    /// <summary>Adds what one recorded interaction contributes, in place (the evidence writer sums a batch without a new object per record).</summary>
    public void AddInteraction(string outcome, string? refusalCode, bool redacted, int tokensIn, int tokensOut, decimal cost, double totalMs)
    {
        Requests++;
        TokensIn += tokensIn;
        TokensOut += tokensOut;
        Cost += cost;
        if (redacted) Redacted++;
        switch (outcome)
        {
            case InteractionOutcomes.Served: Served++; LatencyMsSum += totalMs; break;
            case InteractionOutcomes.Refused:
                Refused++;
                if (RefusalCodes.IsBoundaryBlock(refusalCode)) Blocked++;
                break;
            case InteractionOutcomes.Failed: Failed++; break;
            case InteractionOutcomes.Held: Held++; LatencyMsSum += totalMs; break;
            case InteractionOutcomes.Shadowed: Shadowed++; break;
        }
    }

    /// <summary>What one review contributes (retract the old one with sign −1 when it is replaced).</summary>
    public static EvidenceTotals ForReview(ReviewOutcome outcome, double seconds, double? rework, double reworkSeconds, bool outOfScope)
    {
        var totals = new EvidenceTotals();
        totals.AddReview(outcome, seconds, rework, reworkSeconds, outOfScope);
        return totals;
    }

    /// <summary>Adds what one review contributes, in place (an import sums a slice's reviews without an object per review).</summary>
    public void AddReview(ReviewOutcome outcome, double seconds, double? rework, double reworkSeconds, bool outOfScope)
    {
        Reviewed++;
        if (outcome == ReviewOutcome.Accepted) Accepted++;
        if (outcome == ReviewOutcome.Edited) Edited++;
        if (outcome == ReviewOutcome.Rejected) Rejected++;
        if (outcome == ReviewOutcome.Escalated) Escalated++;
        if (outOfScope) OutOfScope++;
        ReviewSeconds += seconds;
        if (outcome == ReviewOutcome.Edited) ReworkSum += rework ?? 0;
        ReworkSeconds += reworkSeconds;
    }

    public static EvidenceTotals ForFeedback(int rating) => new() { FeedbackCount = 1, FeedbackSum = rating };

    public static EvidenceTotals ForTask(double minutes) => new() { TaskCount = 1, TaskMinutes = minutes };

    public bool Equals(EvidenceTotals? other) => other is not null
        && Requests == other.Requests && Served == other.Served && Refused == other.Refused && Failed == other.Failed
        && Held == other.Held && Shadowed == other.Shadowed && Blocked == other.Blocked && Redacted == other.Redacted
        && TokensIn == other.TokensIn && TokensOut == other.TokensOut && Cost == other.Cost
        && Close(LatencyMsSum, other.LatencyMsSum) && Reviewed == other.Reviewed && Accepted == other.Accepted
        && Edited == other.Edited && Rejected == other.Rejected && Escalated == other.Escalated && OutOfScope == other.OutOfScope
        && Close(ReviewSeconds, other.ReviewSeconds) && Close(ReworkSum, other.ReworkSum) && Close(ReworkSeconds, other.ReworkSeconds)
        && FeedbackCount == other.FeedbackCount && FeedbackSum == other.FeedbackSum && TaskCount == other.TaskCount && Close(TaskMinutes, other.TaskMinutes);

    public override bool Equals(object? obj) => Equals(obj as EvidenceTotals);

    public override int GetHashCode() => HashCode.Combine(Requests, Reviewed, Accepted, TokensIn, FeedbackCount, TaskCount);

    // Sums of doubles depend on the order they were added in; a millionth is far below any figure shown.
    private static bool Close(double a, double b) => Math.Abs(a - b) <= 1e-6 * Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(b)));

    public override string ToString() =>
        $"requests={Requests} served={Served} refused={Refused} reviewed={Reviewed} accepted={Accepted} edited={Edited} rejected={Rejected} escalated={Escalated} feedback={FeedbackCount} tasks={TaskCount}";
}

/// <summary>What a reviewer decided about an AI answer (or a piece of manual work).</summary>
public enum ReviewOutcome { Accepted, Edited, Rejected, Escalated }
