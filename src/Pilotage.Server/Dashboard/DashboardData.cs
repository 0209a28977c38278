using System.Globalization;
using Pilotage.Core.Specs;
using Pilotage.Server.Attention;
using Pilotage.Server.Audit;
using Pilotage.Server.Reports;
using Pilotage.Server.Systems;

namespace Pilotage.Server.Dashboard;

/// <summary>One system on the portfolio page: where it stands and what needs a person's attention.</summary>
/// <param name="Attention">The system's attention items, worst first (the same as the API's and <c>pilotage status</c>'s).</param>
/// <param name="Ownership">Owner, orphaned, pending handover.</param>
/// <param name="Held">Under legal hold.</param>
public sealed record PortfolioRow(ReportSystem System, IReadOnlyList<AttentionItem> Attention, IReadOnlyList<ReportMistake> Mistakes, string Recommendation,
    Changes.OwnershipView Ownership, bool Held);

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
    Pilotage.Core.Pilots.GateEvaluation? Gate,
    IReadOnlyList<AttentionItem> Attention)
{
    /// <summary>Open and approved requests first (they wait for someone), then the decided ones, newest first.</summary>
    public IEnumerable<Changes.ChangeRequestView> ChangesOpenFirst =>
        Changes.OrderBy(c => Pilotage.Server.Changes.ChangeStatuses.IsPending(c.Status) ? 0 : 1).ThenByDescending(c => c.Id);
}

/// <summary>Reads what the pages show through the features' queries. Neither it nor the pages query the store; commands go through the same classes as the API.</summary>
public sealed class DashboardData(SystemCatalog catalog, ReportQueries reports, SystemQueries systems, Incidents.IncidentQueries incidentQueries,
    Changes.ChangeRequestQueries changeQueries, Changes.OwnershipCommands ownership, Changes.LegalHoldQueries holds, AuditTrail audit, DecisionEvidence decisions,
    AttentionService attention, Access.SystemScope scope)
{
    /// <summary>The systems the person may read (owners: theirs; reviewers: the ones they review; admins and auditors: all).</summary>
    public async Task<IReadOnlyList<PortfolioRow>> PortfolioAsync(Access.Actor actor, CancellationToken ct)
    {
        var readable = scope.Restriction(actor.Person);
        var systems = await catalog.ListAsync(readable, ct);
        var held = await holds.HeldAsync(ct);
        var items = await attention.PortfolioAsync(readable, ct);
        var rows = new List<PortfolioRow>();
        foreach (var system in systems)
        {
            var report = await reports.BuildAsync(system.Slug, ct);
            var owner = await ownership.ReadAsync(system.Slug, ct);
            rows.Add(new PortfolioRow(report.System, items.GetValueOrDefault(system.Slug) ?? [], report.Mistakes.Where(m => m.Found).ToList(), report.Criteria.Recommendation.Kind,
                owner, held.Contains(system.Slug)));
        }
        return rows;
    }

    public async Task<SystemPageData> SystemAsync(string slug, Access.Actor actor, CancellationToken ct)
    {
        var report = await reports.BuildAsync(slug, ct);
        var spec = await systems.SpecAsync(slug, ct);
        var entries = await audit.ListAsync(0, 500, $"system:{slug}", ct);
        var timeline = entries.Select(e => new TimelineEntry(e.At, AuditSentences.Describe(e.Action, e.Actor, e.After))).Reverse().ToList();
        var versions = await systems.VersionsAsync(slug, ct);
        var incidents = await incidentQueries.ListAsync(slug, null, null, actor, ct);
        var changes = await changeQueries.ListAsync(slug, null, null, ct);
        var owner = await ownership.ReadAsync(slug, ct);
        var hold = await holds.HoldAsync(slug, ct);
        var byVersion = await changeQueries.ByVersionAsync(slug, ct);
        var gate = await decisions.CurrentGateAsync(slug, ct);
        var items = await attention.SystemAsync(slug, ct);
        return new SystemPageData(report, spec, timeline, versions, incidents.Take(20).ToList(), changes, owner, hold, byVersion, gate, items);
    }

    public Task<bool> ExistsAsync(string slug, CancellationToken ct) => systems.ExistsAsync(slug, ct);

    internal static string Num(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
