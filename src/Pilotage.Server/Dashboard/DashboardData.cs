using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Specs;
using Pilotage.Server.Audit;
using Pilotage.Server.Evidence;
using Pilotage.Server.Reports;
using Pilotage.Server.Storage;
using Pilotage.Server.Systems;

namespace Pilotage.Server.Dashboard;

/// <summary>One system on the portfolio page: where it stands and what needs a person's attention.</summary>
/// <param name="Ownership">Owner, orphaned, pending handover.</param>
/// <param name="Held">Under legal hold.</param>
public sealed record PortfolioRow(ReportSystem System, IReadOnlyList<HealthSignal> Health, IReadOnlyList<ReportMistake> Mistakes, string Recommendation,
    Changes.OwnershipView Ownership, bool Held);

/// <param name="Level">good, warn or bad.</param>
public sealed record HealthSignal(string Level, string Text);

/// <summary>One line of a system's lifecycle timeline (decisions, stage changes, pauses, config versions), from its audit trail, as a sentence.</summary>
public sealed record TimelineEntry(DateTimeOffset At, AuditSentence Event);

/// <summary>Everything the system page shows, gathered from the services the API uses.</summary>
public sealed record SystemPageData(
    EvidenceReport Report,
    SystemSpec Spec,
    IReadOnlyList<TimelineEntry> Timeline,
    IReadOnlyList<ConfigVersionView> Versions,
    IReadOnlyList<Incidents.IncidentView> Incidents,
    IReadOnlyList<Changes.ChangeRequestView> Changes,
    Changes.OwnershipView Ownership,
    Changes.LegalHoldView Hold,
    IReadOnlyList<Changes.VersionMetricsView> VersionMetrics,
    Pilotage.Core.Pilots.GateEvaluation? Gate)
{
    /// <summary>Open and approved requests first (they wait for someone), then the decided ones, newest first.</summary>
    public IEnumerable<Changes.ChangeRequestView> ChangesOpenFirst =>
        Changes.OrderBy(c => c.Status is "open" or "approved" ? 0 : 1).ThenByDescending(c => c.Id);
}

/// <summary>Reads what the pages show. Pages never query the store themselves; commands go through the same methods as the API.</summary>
public sealed class DashboardData(PilotageStore store, EvidenceReportService reports, AuditTrail audit, SystemMetrics metrics, DecisionEvidence decisions)
{
    /// <summary>A pause rule is "near" when its metric is within this share of the threshold.</summary>
    public const double NearThreshold = 0.2;

    public async Task<IReadOnlyList<PortfolioRow>> PortfolioAsync(CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        var systems = await db.Systems.AsNoTracking().OrderBy(s => s.Slug).Select(s => new { s.Slug, s.SpecJson, s.LegalHoldAt }).ToListAsync(ct);
        var rows = new List<PortfolioRow>();
        foreach (var system in systems)
        {
            var report = await reports.BuildAsync(system.Slug, ct);
            var spec = SpecCanonicalJson.Deserialize(system.SpecJson);
            var ownership = await Changes.OwnershipEndpoints.ReadAsync(system.Slug, store, ct);
            rows.Add(new PortfolioRow(report.System, Health(report, spec), report.Mistakes.Where(m => m.Found).ToList(), report.Criteria.Recommendation.Kind,
                ownership, system.LegalHoldAt is not null));
        }
        return rows;
    }

    public async Task<SystemPageData> SystemAsync(string slug, Access.Actor actor, CancellationToken ct)
    {
        var report = await reports.BuildAsync(slug, ct);
        await using var db = store.CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleAsync(s => s.Slug == slug, ct);
        var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
        var entries = await audit.ListAsync(0, 500, $"system:{slug}", ct);
        var timeline = entries.Select(e => new TimelineEntry(e.At, AuditSentences.Describe(e.Action, e.Actor, e.After))).Reverse().ToList();
        var versions = await ConfigVersionEndpoints.ListAsync(slug, store, ct);
        var incidents = await Incidents.IncidentEndpoints.ListIncidentsAsync(slug, null, null, actor, store, ct);
        var changes = await Changes.ChangeRequestEndpoints.ListAsync(slug, null, store, ct);
        var ownership = await Changes.OwnershipEndpoints.ReadAsync(slug, store, ct);
        var hold = new Changes.LegalHoldView(slug, row.LegalHoldAt is not null, row.LegalHoldBy, row.LegalHoldAt, row.LegalHoldReason);
        var byVersion = await Changes.ChangeRequestEndpoints.ByVersionAsync(slug, store, metrics, ct);
        var gate = await decisions.CurrentGateAsync(slug, ct);
        return new SystemPageData(report, spec, timeline, versions, incidents.Take(20).ToList(), changes, ownership, hold, byVersion, gate);
    }

    public async Task<bool> ExistsAsync(string slug, CancellationToken ct)
    {
        await using var db = store.CreateDbContext();
        return await db.Systems.AsNoTracking().AnyAsync(s => s.Slug == slug, ct);
    }

    /// <summary>The health column: pause rules close to firing, the review backlog against its SLA, the pilot's time box.</summary>
    internal static IReadOnlyList<HealthSignal> Health(EvidenceReport report, SystemSpec spec)
    {
        var signals = new List<HealthSignal>();
        if (report.System.Pause is { } pause) signals.Add(new("bad", $"paused by {pause.By}: {pause.Reason}"));
        foreach (var rule in spec.PauseRules)
        {
            var figure = FigureOf(report, rule.Metric);
            if (figure?.Value is not { } value) continue;
            var threshold = rule.Above ?? rule.Below;
            if (threshold is not { } t) continue;
            var crossed = rule.Above is { } above ? value > above : value < rule.Below!.Value;
            var near = !crossed && Math.Abs(value - t) <= Math.Abs(t) * NearThreshold;
            if (crossed || near)
            {
                signals.Add(new(crossed ? "bad" : "warn",
                    $"pause rule {rule.Metric} {(rule.Above is not null ? "above" : "below")} {Num(t)}: now {Num(value)}{(crossed ? " (past the threshold)" : " (near)")}"));
            }
        }
        var review = report.Review;
        if (review.SlaHours is { } sla && review.Backlog > 0)
        {
            var level = review.BacklogOldestHours >= sla ? "bad" : review.BacklogOldestHours >= sla * (1 - NearThreshold) ? "warn" : "good";
            signals.Add(new(level, $"review backlog {review.Backlog}, oldest {Num(review.BacklogOldestHours)} h of a {Num(sla)} h SLA"));
        }
        else if (review.Backlog > 0)
        {
            signals.Add(new("good", $"review backlog {review.Backlog} (no SLA set)"));
        }
        if (report.System.Expired) signals.Add(new("bad", "pilot expired: the gateway refuses until a decision"));
        else if (report.System.DaysLeft is <= 7 and { } days) signals.Add(new("warn", $"pilot ends in {days} day(s)"));
        if (signals.Count == 0) signals.Add(new("good", "nothing needs attention"));
        return signals;
    }

    private static ReportFigure? FigureOf(EvidenceReport report, string metric) => metric switch
    {
        "acceptance_rate" => report.Quality.Acceptance,
        "edit_rate" => report.Quality.Edit,
        "rejection_rate" => report.Quality.Rejection,
        "escalation_rate" => report.Quality.Escalation,
        "error_rate" => report.Quality.ErrorRate,
        "pass_rate" => report.Quality.PassRate,
        _ => null,
    };

    internal static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
