using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Metrics;
using Pilotage.Server.Evidence;
using Pilotage.Server.Gateway;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Attention;

/// <summary>
/// What needs a person's attention, per system: a pause, pause rules near or past their threshold, the
/// review backlog against its SLA, upstream errors and refusals in the last hours, a pilot nobody uses,
/// a pilot past its end date without a decision. Everything is read from the policy snapshot and the
/// roll-ups (hourly counters, codes by reason), never from raw interactions, so the portfolio costs the
/// same whatever the traffic. The dashboard, the API (<c>/api/v1/attention</c>) and <c>pilotage status</c>
/// show the same items.
/// </summary>
public sealed class AttentionService(PilotageStore store, PolicyCache policy, SystemMetrics metrics, TimeProvider time, AttentionThresholds thresholds)
{
    private AttentionThresholds Limits => thresholds;

    /// <summary>Items of every system, by slug (a system with nothing to say has an empty list).</summary>
    /// <param name="readable">The systems the caller may read (read scoping); null for every system.</param>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<AttentionItem>>> PortfolioAsync(IReadOnlySet<string>? readable, CancellationToken ct) =>
        await ComputeAsync(policy.Current.Systems.Keys.Where(slug => readable is null || readable.Contains(slug)).Order(StringComparer.Ordinal).ToList(), ct);

    /// <summary>Items of one system; a 404 problem for an unknown one.</summary>
    public async Task<IReadOnlyList<AttentionItem>> SystemAsync(string slug, CancellationToken ct)
    {
        if (!policy.Current.Systems.ContainsKey(slug)) throw Access.SystemScope.NoSystem(slug);
        return (await ComputeAsync([slug], ct))[slug];
    }

    private async Task<Dictionary<string, IReadOnlyList<AttentionItem>>> ComputeAsync(IReadOnlyList<string> slugs, CancellationToken ct)
    {
        var snapshot = policy.Current;
        var now = time.GetUtcNow();
        // The current hour and the ones before it, WindowHours in all.
        var since = RollupKey.HourOf(now) - Limits.WindowHours + 1;
        await using var db = store.CreateDbContext();
        var recent = await db.Rollups.AsNoTracking()
            .Where(r => r.Hour >= since && r.Kind != RollupKinds.Manual && slugs.Contains(r.System))
            .GroupBy(r => new { r.System, r.Kind })
            .Select(g => new WindowCounts(g.Key.System, g.Key.Kind, g.Sum(r => r.Requests), g.Sum(r => r.Refused), g.Sum(r => r.Failed)))
            .ToListAsync(ct);
        var codes = await db.RollupCodes.AsNoTracking()
            .Where(r => r.Hour >= since && r.Kind != RollupKinds.Manual && slugs.Contains(r.System))
            .GroupBy(r => new { r.System, r.Kind, r.Outcome, r.Code })
            .Select(g => new WindowCode(g.Key.System, g.Key.Kind, g.Key.Outcome, g.Key.Code, g.Sum(r => r.Count)))
            .ToListAsync(ct);
        var pilots = slugs.Where(s => snapshot.Systems[s].State.Lifecycle.Phase == LifecyclePhase.Pilot).ToList();
        var started = await db.Systems.AsNoTracking().Where(s => pilots.Contains(s.Slug))
            .Select(s => new { s.Slug, Since = s.PhaseSince ?? s.CreatedAt }).ToDictionaryAsync(s => s.Slug, s => s.Since, ct);
        // The last hour with a real request, for running pilots only.
        var lastUse = await db.Rollups.AsNoTracking().Where(r => r.Kind == RollupKinds.Ai && r.Requests > 0 && pilots.Contains(r.System))
            .GroupBy(r => r.System).Select(g => new { System = g.Key, Hour = g.Max(r => r.Hour) }).ToDictionaryAsync(g => g.System, g => g.Hour, ct);

        var items = new Dictionary<string, IReadOnlyList<AttentionItem>>(StringComparer.Ordinal);
        foreach (var slug in slugs)
        {
            var state = snapshot.Systems[slug].State;
            var figures = (await metrics.ComputeAsync(slug, new MetricFilter(), ct)).Metrics;
            var list = new List<AttentionItem>();
            Lifecycle(list, state, now);
            PauseRules(list, state, figures);
            Backlog(list, state, figures);
            Upstream(list, state, recent.Where(r => r.System == slug).ToList(), codes.Where(c => c.System == slug && c.Outcome == InteractionOutcomes.Failed).ToList());
            Refusals(list, state, recent.FirstOrDefault(r => r.System == slug && r.Kind == RollupKinds.Ai), codes.Where(c => c.System == slug && c.Outcome == InteractionOutcomes.Refused && c.Kind == RollupKinds.Ai).ToList());
            // An expired pilot is already the worse news; it is quiet because the gateway refuses it.
            if (started.TryGetValue(slug, out var pilotSince) && list.All(i => i.Kind != AttentionKind.PilotExpired))
            {
                Stale(list, state, now, pilotSince, lastUse.TryGetValue(slug, out var hour) ? hour : null);
            }
            // Worst first, so the first line of a crowded cell is the one to act on.
            items[slug] = list.OrderByDescending(i => i.Level).ToList();
        }
        return items;
    }

    private sealed record WindowCounts(string System, string Kind, long Requests, long Refused, long Failed);

    private sealed record WindowCode(string System, string Kind, string Outcome, string Code, long Count);

    /// <summary>Paused or restricted; a pilot past its end date or about to end.</summary>
    private void Lifecycle(List<AttentionItem> list, SystemState state, DateTimeOffset now)
    {
        var slug = state.Slug;
        var lifecycle = state.Lifecycle;
        if (state.Pause is { } pause && lifecycle.Phase is LifecyclePhase.Paused or LifecyclePhase.Restricted)
        {
            var what = lifecycle.Phase == LifecyclePhase.Paused ? "Paused: the gateway refuses its requests" : "Restricted: every answer is held for approval";
            list.Add(new(slug, AttentionKind.Paused, AttentionLevel.Bad, $"{what}, since {Time(pause.At)} by {pause.By}: {pause.Reason}", null, null, $"/dashboard/systems/{slug}#h-control"));
        }
        var pilotLike = lifecycle.Phase == LifecyclePhase.Pilot || lifecycle.SuspendedPhase == LifecyclePhase.Pilot;
        if (!pilotLike || state.PilotEnds is not { } ends) return;
        var daysLeft = ends.DayNumber - DateOnly.FromDateTime(now.UtcDateTime).DayNumber;
        var decide = $"/dashboard/systems/{slug}/report#decide";
        if (daysLeft < 0)
        {
            list.Add(new(slug, AttentionKind.PilotExpired, AttentionLevel.Bad,
                $"The pilot ended on {Date(ends)}, {Days(-daysLeft)} ago, and no decision is recorded: the gateway refuses its requests until {state.Spec.Owner} decides (proceed, narrow, redesign, repilot, stop, or extend)",
                -daysLeft, "days", decide));
        }
        else if (daysLeft <= Limits.PilotEndingDays)
        {
            list.Add(new(slug, AttentionKind.PilotEnding, AttentionLevel.Warn,
                $"The pilot ends on {Date(ends)}, {(daysLeft == 0 ? "today" : "in " + Days(daysLeft))}: prepare the decision", daysLeft, "days", decide));
        }
    }

    /// <summary>Pause rules whose metric is past, or within <see cref="AttentionThresholds.NearShare"/> of, the threshold.</summary>
    private void PauseRules(List<AttentionItem> list, SystemState state, IReadOnlyDictionary<string, MetricValue> figures)
    {
        foreach (var rule in state.Spec.PauseRules)
        {
            if (figures.GetValueOrDefault(rule.Metric)?.Value is not { } value || (rule.Above ?? rule.Below) is not { } threshold) continue;
            var crossed = rule.Above is { } above ? value > above : value < rule.Below!.Value;
            // Near is a share of the threshold: a rule at 0 (no high incidents, say) is never "near" while the figure sits at 0.
            var near = !crossed && threshold != 0 && Math.Abs(value - threshold) <= Math.Abs(threshold) * Limits.NearShare;
            if (!crossed && !near) continue;
            var unit = MetricCatalogue.UnitOf(rule.Metric);
            list.Add(new(state.Slug, AttentionKind.PauseRule, crossed ? AttentionLevel.Bad : AttentionLevel.Warn,
                $"Pause rule {rule.Metric} {(rule.Above is not null ? "above" : "below")} {MetricCatalogue.Format(rule.Metric, threshold)}: now {MetricCatalogue.Format(rule.Metric, value)}{(crossed ? ", past the threshold" : ", near it")}",
                value, unit is { } u ? MetricUnits.Name(u) : null, $"/dashboard/systems/{state.Slug}#h-metrics"));
        }
    }

    /// <summary>The review backlog against the spec's SLA.</summary>
    private void Backlog(List<AttentionItem> list, SystemState state, IReadOnlyDictionary<string, MetricValue> figures)
    {
        var backlog = figures.GetValueOrDefault("review_backlog")?.N ?? 0;
        if (backlog == 0) return;
        var oldest = figures.GetValueOrDefault("review_backlog_hours")?.Value ?? 0;
        var items = backlog == 1 ? "1 answer waits" : $"{Count(backlog)} answers wait";
        if (state.Spec.Review.SlaHours is { } sla)
        {
            var level = oldest >= sla ? AttentionLevel.Bad : oldest >= sla * (1 - Limits.NearShare) ? AttentionLevel.Warn : AttentionLevel.Good;
            list.Add(new(state.Slug, AttentionKind.ReviewBacklog, level, $"{items} for review, the oldest for {Hours(oldest)} of a {Hours(sla)} SLA", oldest, "hours", "/dashboard/reviews"));
        }
        else
        {
            list.Add(new(state.Slug, AttentionKind.ReviewBacklog, AttentionLevel.Good, $"{items} for review, the oldest for {Hours(oldest)} (no SLA set)", oldest, "hours", "/dashboard/reviews"));
        }
    }

    /// <summary>Upstream calls that failed in the window (real and evaluation traffic), with the failure codes.</summary>
    private void Upstream(List<AttentionItem> list, SystemState state, List<WindowCounts> counts, List<WindowCode> failures)
    {
        var calls = counts.Sum(c => c.Requests - c.Refused);
        var failed = counts.Sum(c => c.Failed);
        if (calls < Limits.MinUpstreamCalls || failed == 0) return;
        var rate = (double)failed / calls;
        if (rate < Limits.UpstreamErrorWarn) return;
        var host = Uri.TryCreate(state.Spec.Upstream.BaseUrl, UriKind.Absolute, out var url) ? " to " + UpstreamFailures.HostOf(url) : "";
        list.Add(new(state.Slug, AttentionKind.UpstreamErrors, rate >= Limits.UpstreamErrorBad ? AttentionLevel.Bad : AttentionLevel.Warn,
            $"{Count(failed)} of {Count(calls)} upstream calls{host} failed in the last {Limits.WindowHours} h ({Percent(rate)}{ByCode(failures)}). Check that the model answers; the server log has each failure at Warning",
            rate, "ratio", $"/dashboard/systems/{state.Slug}/report?handler=Full#controls"));
    }

    /// <summary>Real requests refused in the window, by reason.</summary>
    private void Refusals(List<AttentionItem> list, SystemState state, WindowCounts? counts, List<WindowCode> refusals)
    {
        if (counts is null || counts.Requests == 0 || counts.Refused < Limits.MinRefusals) return;
        var rate = (double)counts.Refused / counts.Requests;
        if (rate < Limits.RefusedWarn) return;
        list.Add(new(state.Slug, AttentionKind.Refusals, rate >= Limits.RefusedBad ? AttentionLevel.Bad : AttentionLevel.Warn,
            $"{Count(counts.Refused)} of {Count(counts.Requests)} requests refused in the last {Limits.WindowHours} h ({Percent(rate)}{ByCode(refusals)})",
            rate, "ratio", $"/dashboard/systems/{state.Slug}/report?handler=Full#controls"));
    }

    /// <summary>A running pilot without a real request for <see cref="AttentionThresholds.StalePilotHours"/>.</summary>
    private void Stale(List<AttentionItem> list, SystemState state, DateTimeOffset now, DateTimeOffset started, long? lastHour)
    {
        // A request in hour h happened before the end of that hour: the quiet time counts from there.
        var last = lastHour is { } h ? DateTimeOffset.FromUnixTimeSeconds((h + 1) * 3600) : (DateTimeOffset?)null;
        var quietSince = last is { } l && l > started ? l : started;
        var quiet = (now - quietSince).TotalHours;
        if (quiet < Limits.StalePilotHours) return;
        var what = last is { } used && used > started
            ? $"No real request for {Days(quiet / 24)} (the last one before {Time(used)})"
            : $"No real request since the pilot started {Days(quiet / 24)} ago";
        var group = state.Spec.Pilot?.Group is { } g ? $"; ask the pilot group {g} whether they can use it (key, training, model name '{state.Slug}')" : "";
        list.Add(new(state.Slug, AttentionKind.StalePilot, AttentionLevel.Warn, $"{what}, although the pilot is running{group}",
            Math.Round(quiet, 1), "hours", $"/dashboard/systems/{state.Slug}/report?handler=Full#adoption"));
    }

    private static string ByCode(IEnumerable<WindowCode> codes)
    {
        var byCode = codes.GroupBy(c => c.Code).Select(g => (Code: g.Key, Count: g.Sum(c => c.Count)))
            .Where(c => c.Count > 0).OrderByDescending(c => c.Count).ThenBy(c => c.Code, StringComparer.Ordinal).ToList();
        return byCode.Count == 0 ? "" : "; " + string.Join(", ", byCode.Select(c => $"{c.Code} {Count(c.Count)}"));
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double rate) => MetricUnits.Format(MetricUnit.Ratio, rate);

    private static string Hours(double hours) => MetricUnits.Format(MetricUnit.Hours, Math.Round(hours, 1));

    private static string Days(double days)
    {
        var shown = Math.Floor(days * 10) / 10;
        return shown.ToString("0.#", CultureInfo.InvariantCulture) + (shown == 1 ? " day" : " days");
    }

    private static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
}
