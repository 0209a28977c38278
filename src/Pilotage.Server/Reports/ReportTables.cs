using static Pilotage.Server.Reports.ReportFormat;

namespace Pilotage.Server.Reports;

/// <summary>A labelled figure as a table row or a fact shows it.</summary>
public sealed record ReportRow(string Label, string Text);

/// <summary>One row of the cost table: per task, per day and in total.</summary>
public sealed record ReportCostRow(string Label, string PerTask, string PerDay, string Total);

/// <summary>
/// The report's tables as rows of text, built once from the <see cref="EvidenceReport"/> and laid out by
/// both the Markdown writer and the HTML components, so the two formats cannot disagree on a figure.
/// </summary>
public static class ReportTables
{
    public static IReadOnlyList<ReportRow> Quality(ReportQuality q) =>
    [
        new("Acceptance", Rate(q.Acceptance)),
        new("Edited", Rate(q.Edit)),
        new("Rejected", Rate(q.Rejection)),
        new("Escalated", Rate(q.Escalation)),
        new("Rework (edit distance of edited answers)", Mean(q.Rework, "")),
        new("Pass rate (latest evaluation)", Rate(q.PassRate)),
        .. q.PassRateByCategory.Select(c => new ReportRow($"Pass rate, {c.Name}", Rate(c.Figure))),
        new("Upstream error rate", Rate(q.ErrorRate)),
    ];

    public static IReadOnlyList<ReportRow> Review(ReportReviewBurden r) =>
    [
        new("Review minutes per task", Mean(r.MinutesPerTask, " min")),
        new("Backlog", $"{Whole(r.Backlog)} waiting, oldest {Num(r.BacklogOldestHours)} h"),
        new("Capacity utilisation", Rate(r.Utilisation)),
        new("Capacity", r.CapacityMinutesPerDay is { } cap ? $"{Whole(cap)} min/day" : "not set (spec.review.minutesPerDay)"),
        new("SLA", r.SlaHours is { } sla ? $"{Num(sla)} h" : "not set"),
        new("Forecast", r.Forecast),
    ];

    public static IReadOnlyList<ReportRow> Adoption(ReportAdoption a) =>
    [
        new("Adoption", AdoptionText(a)),
        new("Feedback", Mean(a.FeedbackMean, " of 5")),
    ];

    public static IReadOnlyList<ReportCostRow> Cost(ReportCost c) =>
    [
        new("Model", Opt(c.ModelCostPerTask), Opt(c.ModelCostPerDay), Money(c.ModelCost)),
        c.ReviewLabourPriced
            ? new("Review labour", Opt(c.ReviewLabourPerTask), Opt(c.ReviewLabourPerDay), Money(c.ReviewLabourCost))
            : new("Review labour", "unpriced", "unpriced", "unpriced (spec.review.hourlyRate)"),
        new("Total", Mean(c.CostPerTask, ""), Mean(c.CostPerDay, ""), Money(c.TotalCost)),
        new("Basis", $"{Whole(c.Tasks)} tasks", $"{Num(c.Days)} days", $"{Whole(c.TokensIn)} tokens in, {Whole(c.TokensOut)} out"),
    ];
}
