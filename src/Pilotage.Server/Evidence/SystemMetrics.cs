using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Incidents;
using Pilotage.Core.TestSets;
using Pilotage.Server.Api;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Evidence;

/// <summary>Which evidence a figure covers: a lifecycle position, a config version, a period.</summary>
public sealed record MetricFilter(string? Phase = null, int? Stage = null, int? ConfigVersion = null, DateTimeOffset? From = null, DateTimeOffset? To = null);

/// <summary>Every catalogue figure of one system, with the review forecast and what it was computed from.</summary>
public sealed record SystemMetricsView(
    string System,
    DateTimeOffset ComputedAt,
    MetricFilter Filter,
    IReadOnlyDictionary<string, MetricValue> Metrics,
    ReviewForecast ReviewForecast,
    EvidenceTotals Totals,
    EvidenceTotals? Manual,
    EvidenceTotals? Evaluation);

/// <summary>
/// Computes a system's metrics from the roll-ups (a few rows per hour of evidence), never from raw
/// interactions, so the cost does not grow with the number of interactions.
/// </summary>
public sealed class SystemMetrics(PilotageStore store, PolicyCache policy, TimeProvider time)
{
    public async Task<SystemMetricsView> ComputeAsync(string slug, MetricFilter filter, CancellationToken ct)
    {
        if (!policy.Current.Systems.TryGetValue(slug, out var system))
        {
            throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        }
        var spec = system.State.Spec;
        var now = time.GetUtcNow();
        await using var db = store.CreateDbContext();

        var fromHour = filter.From is { } from ? RollupKey.HourOf(from) : long.MinValue;
        var toHour = filter.To is { } to ? RollupKey.HourOf(to) : long.MaxValue;
        var rollups = db.Rollups.AsNoTracking().Where(r => r.System == slug && r.Hour >= fromHour && r.Hour <= toHour);
        var latency = db.RollupLatency.AsNoTracking().Where(r => r.System == slug && r.Hour >= fromHour && r.Hour <= toHour);
        if (filter.Phase is { } phase)
        {
            rollups = rollups.Where(r => r.Phase == phase);
            latency = latency.Where(r => r.Phase == phase);
        }
        if (filter.Stage is { } stage)
        {
            rollups = rollups.Where(r => r.Stage == stage);
            latency = latency.Where(r => r.Stage == stage);
        }
        if (filter.ConfigVersion is { } version)
        {
            rollups = rollups.Where(r => r.ConfigVersion == version);
            latency = latency.Where(r => r.ConfigVersion == version);
        }
        // Summed by the store, one row per kind and one per latency bucket: a period of a year holds thousands of
        // hourly roll-up rows and tens of thousands of bucket rows, which were read one by one.
        var sums = await rollups.GroupBy(r => r.Kind).Select(g => new
        {
            FirstHour = g.Min(r => r.Hour),
            LastHour = g.Max(r => r.Hour),
            Totals = new RollupRow
            {
                System = slug, Phase = "", Kind = g.Key,
                Requests = g.Sum(r => r.Requests), Served = g.Sum(r => r.Served), Refused = g.Sum(r => r.Refused), Failed = g.Sum(r => r.Failed),
                Held = g.Sum(r => r.Held), Shadowed = g.Sum(r => r.Shadowed), Blocked = g.Sum(r => r.Blocked), Redacted = g.Sum(r => r.Redacted),
                TokensIn = g.Sum(r => r.TokensIn), TokensOut = g.Sum(r => r.TokensOut), CostNanos = g.Sum(r => r.CostNanos), LatencyMsSum = g.Sum(r => r.LatencyMsSum),
                Reviewed = g.Sum(r => r.Reviewed), Accepted = g.Sum(r => r.Accepted), Edited = g.Sum(r => r.Edited), Rejected = g.Sum(r => r.Rejected),
                Escalated = g.Sum(r => r.Escalated), OutOfScope = g.Sum(r => r.OutOfScope), ReviewSeconds = g.Sum(r => r.ReviewSeconds), ReworkSum = g.Sum(r => r.ReworkSum),
                ReworkSeconds = g.Sum(r => r.ReworkSeconds), FeedbackCount = g.Sum(r => r.FeedbackCount), FeedbackSum = g.Sum(r => r.FeedbackSum),
                TaskCount = g.Sum(r => r.TaskCount), TaskMinutes = g.Sum(r => r.TaskMinutes),
            },
        }).ToListAsync(ct);
        var ai = new EvidenceTotals();
        var manual = new EvidenceTotals();
        var eval = new EvidenceTotals();
        long firstHour = long.MaxValue, lastHour = long.MinValue;
        foreach (var sum in sums)
        {
            (sum.Totals.Kind switch { RollupKinds.Manual => manual, RollupKinds.Eval => eval, _ => ai }).Add(RollupWriter.ToTotals(sum.Totals));
            if (sum.Totals.Kind == RollupKinds.Ai)
            {
                firstHour = sum.FirstHour;
                lastHour = sum.LastHour;
            }
        }
        var buckets = new long[LatencyHistogram.Bounds.Count];
        foreach (var bucket in await latency.Where(r => r.Kind == RollupKinds.Ai).GroupBy(r => r.Bucket).Select(g => new { Bucket = g.Key, Count = g.Sum(r => r.Count) }).ToListAsync(ct))
        {
            if (bucket.Bucket >= 0 && bucket.Bucket < buckets.Length) buckets[bucket.Bucket] += bucket.Count;
        }

        var fromDay = filter.From is { } f ? RollupKey.DayOf(f) : int.MinValue;
        var toDay = filter.To is { } t ? RollupKey.DayOf(t) : int.MaxValue;
        var activeUsers = await db.ActiveUsers.AsNoTracking().Where(a => a.System == slug && a.Day >= fromDay && a.Day <= toDay)
            .Select(a => a.UserId).Distinct().CountAsync(ct);
        var eligible = EligibleUsers(policy.Current, system);

        var incidents = await db.Incidents.AsNoTracking().Where(i => i.System == slug)
            .GroupBy(i => new { i.Kind, i.Severity }).Select(g => new { g.Key.Kind, g.Key.Severity, Count = g.LongCount() }).ToListAsync(ct);
        var (incidentKind, complaintKind) = (IncidentKind.Incident.ToName(), IncidentKind.Complaint.ToName());
        // A queue nobody drains must not slow every report: the count is kept by the store as items are
        // enqueued and settled (review_backlog), and the oldest item is one index seek on (system, state, id).
        // Interaction ids start with their time, so the smallest id is the oldest (SQLite cannot order by DateTimeOffset).
        var backlogCount = await db.ReviewBacklog.AsNoTracking().Where(b => b.System == slug).Select(b => b.Pending).FirstOrDefaultAsync(ct);
        var oldest = backlogCount == 0 ? (DateTimeOffset?)null : await db.ReviewItems.AsNoTracking().Where(i => i.System == slug && i.State == ReviewItemStates.Pending)
            .OrderBy(i => i.InteractionId).Select(i => (DateTimeOffset?)i.EnqueuedAt).FirstOrDefaultAsync(ct);
        var oldestHours = oldest is { } first ? Math.Max(0, (now - first).TotalHours) : 0;

        // Manual work reviewed the same way gives a measured baseline; the spec's figure is the fallback.
        var baseline = manual.TaskCount > 0 ? manual.TaskMinutes / manual.TaskCount : spec.Baseline.ManualMinutesPerTask;
        var days = firstHour == long.MaxValue ? 1 : Math.Max(1.0 / 24, (lastHour - firstHour + 1) / 24.0);
        var minutesPerTask = ai.Reviewed > 0 ? (ai.ReviewSeconds + ai.ReworkSeconds) / 60 / ai.Reviewed : (double?)null;
        var reviewable = ai.Reviewed + backlogCount;
        var forecast = ReviewCapacity.Forecast(backlogCount, oldestHours, minutesPerTask, reviewable / days, spec.Review.MinutesPerDay, spec.Review.SlaHours);

        var passRates = await PassRatesAsync(db, slug, filter.ConfigVersion ?? system.State.ConfigVersion, ct);
        var context = new MetricContext
        {
            PassRates = passRates,
            BaselineMinutesPerTask = baseline,
            ReviewHourlyRate = spec.Review.HourlyRate,
            Days = days,
            ActiveUsers = activeUsers,
            EligibleUsers = eligible,
            IncidentsBySeverity = incidents.Where(i => i.Kind == incidentKind).GroupBy(i => i.Severity).ToDictionary(g => g.Key, g => g.Sum(i => i.Count)),
            Complaints = incidents.Where(i => i.Kind == complaintKind).Sum(i => i.Count),
            BacklogCount = backlogCount,
            BacklogOldestHours = oldestHours,
            ReviewUtilisation = forecast.Utilisation,
            LatencyBuckets = buckets,
        };
        var metrics = MetricCalculator.Compute(ai, context);
        return new SystemMetricsView(slug, now, filter, metrics, forecast, ai, manual.Requests > 0 ? manual : null, eval.Requests > 0 ? eval : null);
    }

    /// <summary>
    /// Pass rates from the latest finished (or interrupted) evaluation run of a config version. Cases a
    /// person grades count once reviewed: accepted passes, edited or rejected fails. Errored cases count
    /// apart (see <see cref="PassRatesOfRunAsync"/>).
    /// </summary>
    internal static async Task<IReadOnlyDictionary<string, CaseCounts>> PassRatesAsync(PilotageDbContext db, string slug, int configVersion, CancellationToken ct)
    {
        var run = await db.EvalRuns.AsNoTracking().Where(r => r.System == slug && r.ConfigVersion == configVersion && r.ChangeRequest == null && r.Status != EvalRunStatus.Running.Name())
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        return run is null ? new Dictionary<string, CaseCounts>(StringComparer.Ordinal) : await PassRatesOfRunAsync(db, run.Id, ct);
    }

    /// <summary>
    /// Case counts of one evaluation run ("" for all cases, else per category), graded as above. A case
    /// with an <c>error</c> verdict (upstream failure, timeout, refusal by a control) did not run to a
    /// verdict: it is counted in <see cref="CaseCounts.Errors"/>, never as a failure.
    /// </summary>
    internal static async Task<IReadOnlyDictionary<string, CaseCounts>> PassRatesOfRunAsync(PilotageDbContext db, long runId, CancellationToken ct)
    {
        var rates = new Dictionary<string, CaseCounts>(StringComparer.Ordinal);
        var results = await db.EvalResults.AsNoTracking().Where(r => r.RunId == runId).ToListAsync(ct);
        var graded = results.Where(r => EvalNames.ParseVerdict(r.Verdict) == CaseVerdictKind.NeedsHuman && r.InteractionId != null).Select(r => r.InteractionId!).ToList();
        var reviews = graded.Count == 0 ? new Dictionary<string, string>()
            : await db.Reviews.AsNoTracking().Where(r => graded.Contains(r.InteractionId)).ToDictionaryAsync(r => r.InteractionId, r => r.Outcome, ct);
        foreach (var result in results)
        {
            bool? passed;
            switch (EvalNames.ParseVerdict(result.Verdict))
            {
                case CaseVerdictKind.Pass: passed = true; break;
                case CaseVerdictKind.Fail: passed = false; break;
                case CaseVerdictKind.Error: passed = null; break;
                default:
                    // Waiting for a person: counted once graded.
                    var outcome = result.InteractionId is { } id && reviews.TryGetValue(id, out var stored) ? ReviewOutcomes.Parse(stored) : null;
                    if (outcome is not (ReviewOutcome.Accepted or ReviewOutcome.Edited or ReviewOutcome.Rejected)) continue;
                    passed = outcome == ReviewOutcome.Accepted;
                    break;
            }
            foreach (var key in new[] { "", result.Category })
            {
                rates[key] = (rates.GetValueOrDefault(key) ?? CaseCounts.None).Add(passed);
            }
        }
        return rates;
    }

    /// <summary>People who may use the system in its current scope (everyone signed in when it serves everyone).</summary>
    internal static long EligibleUsers(PolicySnapshot snapshot, GatewaySystem system)
    {
        var scope = ServingPolicy.ScopeOf(system.State.Spec, system.State.Lifecycle)
            ?? (system.State.Spec.Pilot is { } pilot ? new ServingScope([pilot.Group], pilot.Mode, "pilot") : null);
        var users = snapshot.Keys.Values.Select(k => k.User).DistinctBy(u => u.Id).Where(u => u.Active);
        if (scope is null) return 0;
        return scope.Everyone ? users.LongCount() : users.LongCount(u => scope.Groups.Any(u.Groups.Contains));
    }
}
