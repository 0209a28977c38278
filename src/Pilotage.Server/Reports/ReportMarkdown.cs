using System.Text;
using static Pilotage.Server.Reports.ReportFormat;

namespace Pilotage.Server.Reports;

/// <summary>The report as Markdown, for tickets and reviews: the same sections and wording as the HTML report.</summary>
public static class ReportMarkdown
{
    public static string Render(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var w = new Writer();
        var r = report;
        var s = r.System;

        w.Line($"# Evidence report: {Cell(s.Title)} (`{Cell(s.Slug)}`)");
        w.Line();
        w.Line($"As of {Time(r.AsOf)}. Recommendation: **{Cell(r.Criteria.Recommendation.Kind)}** — {Cell(r.Criteria.Recommendation.Summary)}");
        w.Line();

        w.Section("System");
        w.Head("", "");
        w.Row("Owner", s.Owner);
        w.Row("Purpose", s.Purpose);
        w.Row("Risk", s.Risk);
        w.Row("Phase", PhaseText(s));
        w.Row("Serving", s.Mode is null ? "not serving" : $"{s.Scope}, {s.Mode} mode, groups: {Groups(s.Groups)}");
        w.Row("Config version", Whole(s.ConfigVersion));
        w.Row("Pilot end", PilotEndText(s));
        if (s.Pause is { } pause) w.Row("Paused", $"by {pause.By} at {Time(pause.At)}: {pause.Reason}");
        w.Line();

        w.Section("What the pilot tested");
        w.Paragraph(PilotText(r.Pilot));

        w.Section("How realistic the evidence is");
        w.Paragraph(RealismText(r.Realism));
        w.Head("Category", "Test cases", "Errored", "Pass rate");
        foreach (var c in r.Realism.Categories) w.Row(c.Category, Whole(c.Cases), Whole(c.PassRate.Errors ?? 0), Rate(c.PassRate));
        w.Line();

        w.Section("Quality");
        w.Rows(ReportTables.Quality(r.Quality));
        w.Paragraph($"Outcome mix: {OutcomeText(r.Outcomes)}.");

        w.Section("Review burden");
        w.Rows(ReportTables.Review(r.Review));

        w.Section("Value");
        w.Paragraph(ValueText(r.Value));

        w.Section("Cost");
        w.Paragraph(CostUnit);
        w.Head("", "Per task", "Per day", "Total");
        foreach (var c in ReportTables.Cost(r.Cost)) w.Row(c.Label, c.PerTask, c.PerDay, c.Total);
        w.Line();

        w.Section("Adoption and feedback");
        w.Paragraph($"Adoption: {AdoptionText(r.Adoption)}. Feedback: {Mean(r.Adoption.FeedbackMean, " of 5")}.");

        Risk(w, r.Risk);
        Controls(w, r.Controls);
        Criteria(w, r.Criteria);
        Readiness(w, r.Readiness);

        w.Section("The six common mistakes");
        w.Head("Mistake", "Found", "Detail");
        foreach (var m in r.Mistakes) w.Row(m.Title, m.Found ? "**found**" : "not found", m.Detail ?? m.Why);
        w.Line();

        Decisions(w, r.Decisions);
        Trend(w, r.Trend);
        w.Line($"Report SHA-256 (of its JSON rendering): `{r.Sha256}`");
        return w.ToString();
    }

    private static void Risk(Writer w, ReportRisk risk)
    {
        w.Section("Risk");
        w.Paragraph(RiskText(risk));
        if (risk.Incidents.Count > 0)
        {
            w.Head("Kind", "Severity", "Status", "Count");
            foreach (var i in risk.Incidents) w.Row(i.Kind, i.Severity, i.Status, Whole(i.Count));
            w.Line();
        }
        if (risk.Recent.Count > 0)
        {
            w.Head("#", "Kind", "Severity", "Status", "Title", "Reported");
            foreach (var i in risk.Recent) w.Row(Whole(i.Id), i.Kind, i.Severity, i.Status, i.Title, Time(i.ReportedAt));
            w.Line();
        }
    }

    private static void Controls(Writer w, ReportControls controls)
    {
        w.Section("Whether controls worked");
        w.Paragraph($"{Whole(controls.Refused)} requests refused; {Whole(controls.Pauses)} pauses, {Whole(controls.Resumes)} resumes.");
        if (controls.RefusalsByReason.Count > 0)
        {
            w.Head("Refusal reason", "Count");
            foreach (var x in controls.RefusalsByReason) w.Row(x.Code, Whole(x.Count));
            w.Line();
        }
        if (controls.FailuresByReason.Count > 0)
        {
            w.Head("Upstream failure", "Count");
            foreach (var x in controls.FailuresByReason) w.Row(x.Code, Whole(x.Count));
            w.Line();
        }
        if (controls.Events.Count > 0)
        {
            w.Head("When", "What happened");
            foreach (var e in controls.Events) w.Row(Time(e.At), e.Text);
            w.Line();
        }
    }

    private static void Criteria(Writer w, ReportCriteria criteria)
    {
        w.Section("Criteria and recommendation");
        if (criteria.Verdicts.Count > 0)
        {
            w.Head("Metric", "Threshold", "Figure", "n", "Verdict", "Else", "Explanation");
            foreach (var v in criteria.Verdicts) w.Row(v.Metric, Threshold(v), VerdictFigure(v), Sample(v), v.Verdict, v.Else ?? "", v.Explanation);
            w.Line();
        }
        w.Paragraph($"**Recommendation: {Cell(criteria.Recommendation.Kind)}** — {Cell(criteria.Recommendation.Summary)}");
    }

    private static void Readiness(Writer w, ReportReadiness readiness)
    {
        w.Section("Readiness (the seed's 20 questions)");
        w.Paragraph(Cell(readiness.Summary));
        foreach (var group in readiness.Questions.GroupBy(q => q.GroupTitle))
        {
            w.Line($"### {Cell(group.Key)}");
            w.Line();
            w.Head("Question", "Status", "Answer", "Figure", "Person");
            foreach (var q in group) w.Row(q.Text, q.Status, q.Answer, q.Figure ?? "", q.Person is { } p ? $"{p.Text} ({p.By}, {Time(p.At)})" : "");
            w.Line();
        }
    }

    private static void Decisions(Writer w, IReadOnlyList<ReportDecision> decisions)
    {
        w.Section("Decisions so far");
        if (decisions.Count == 0)
        {
            w.Line("No decision recorded yet.");
        }
        else
        {
            w.Head("When", "Outcome", "By", "Move", "Reason", "Evidence");
            foreach (var d in decisions)
            {
                w.Row(Time(d.DecidedAt), d.Outcome + (d.Override ? " (override)" : ""), d.DecidedBy, $"{d.FromPhase} → {d.ToPhase}", d.Reason, d.EvidenceHash is { } h ? ShortHash(h) : "");
            }
        }
        w.Line();
    }

    private static void Trend(Writer w, IReadOnlyList<ReportTrendDay> trend)
    {
        w.Section("Daily trend (real traffic, UTC)");
        if (trend.Count == 0)
        {
            w.Line("No real traffic yet.");
        }
        else
        {
            w.Head("Day", "Requests", "Served", "Refused", "Reviewed", "Acceptance");
            foreach (var d in trend) w.Row(DayText(d.Day), Whole(d.Requests), Whole(d.Served), Whole(d.Refused), Whole(d.Reviewed), d.AcceptanceRate is { } a ? Pct(a) : "—");
        }
        w.Line();
    }

    /// <summary>A Markdown table cell: one line, pipes escaped, angle brackets encoded so no HTML gets through.</summary>
    private static string Cell(string? text) =>
        (text ?? "").Replace("\r", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    /// <summary>Lines end in "\n" on every platform, so the same evidence gives the same bytes.</summary>
    private sealed class Writer
    {
        private readonly StringBuilder _md = new();

        public void Line(string text = "") => _md.Append(text).Append('\n');

        public void Section(string title)
        {
            Line("## " + title);
            Line();
        }

        public void Paragraph(string text)
        {
            Line(text);
            Line();
        }

        public void Row(params string[] cells) => Line("| " + string.Join(" | ", cells.Select(Cell)) + " |");

        public void Head(params string[] cells)
        {
            Row(cells);
            Line("|" + string.Concat(cells.Select(_ => " --- |")));
        }

        /// <summary>A two-column "Figure | Value" table and the blank line after it.</summary>
        public void Rows(IReadOnlyList<ReportRow> rows)
        {
            Head("Figure", "Value");
            foreach (var row in rows) Row(row.Label, row.Text);
            Line();
        }

        public override string ToString() => _md.ToString();
    }
}
