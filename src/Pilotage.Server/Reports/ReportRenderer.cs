using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Pilotage.Core.Metrics;

namespace Pilotage.Server.Reports;

/// <summary>
/// Renders an <see cref="EvidenceReport"/> as JSON (what decisions store and hash), Markdown (for
/// tickets and reviews) or one self-contained HTML file (inline CSS and server-drawn SVG charts, no
/// script, no font or CDN: it opens offline, prints, and can be archived as it is).
/// </summary>
public static class ReportRenderer
{
    /// <summary>Allowed values of <c>?format=</c>.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["json", "md", "html"];

    public static string ContentType(string format) => format switch
    {
        "json" => "application/json; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "allowed formats: json, md, html"),
    };

    public static string Render(EvidenceReport report, string format) => format switch
    {
        "json" => Json(report),
        "md" => Markdown(report),
        "html" => Html(report),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "allowed formats: json, md, html"),
    };

    /// <summary>camelCase, indented, "\n" line ends, stable for the same evidence; <see cref="EvidenceReport.Sha256"/> is its hash.</summary>
    public static string Json(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.Serialize(report, ReportJsonContext.Default.EvidenceReport);
    }

    // ---------------------------------------------------------------- Markdown

    public static string Markdown(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var r = report;
        var s = r.System;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        void Row(params string[] cells) => Line("| " + string.Join(" | ", cells.Select(Cell)) + " |");
        void Head(params string[] cells)
        {
            Row(cells);
            Line("|" + string.Concat(cells.Select(_ => " --- |")));
        }

        Line($"# Evidence report: {Cell(s.Title)} (`{Cell(s.Slug)}`)");
        Line();
        Line($"As of {Time(r.AsOf)}. Recommendation: **{Cell(r.Criteria.Recommendation.Kind)}** — {Cell(r.Criteria.Recommendation.Summary)}");
        Line();

        Line("## System");
        Line();
        Head("", "");
        Row("Owner", s.Owner);
        Row("Purpose", s.Purpose);
        Row("Risk", s.Risk);
        Row("Phase", PhaseText(s));
        Row("Serving", s.Mode is null ? "not serving" : $"{s.Scope}, {s.Mode} mode, groups: {Groups(s.Groups)}");
        Row("Config version", Int(s.ConfigVersion));
        Row("Pilot end", PilotEndText(s));
        if (s.Pause is { } pause) Row("Paused", $"by {pause.By} at {Time(pause.At)}: {pause.Reason}");
        Line();

        Line("## What the pilot tested");
        Line();
        Line(PilotText(r.Pilot));
        Line();

        Line("## How realistic the evidence is");
        Line();
        Line(RealismText(r.Realism));
        Line();
        Head("Category", "Test cases", "Errored", "Pass rate");
        foreach (var c in r.Realism.Categories) Row(c.Category, Int(c.Cases), Int(c.PassRate.Errors ?? 0), Rate(c.PassRate));
        Line();

        Line("## Quality");
        Line();
        Head("Figure", "Value");
        Row("Acceptance", Rate(r.Quality.Acceptance));
        Row("Edited", Rate(r.Quality.Edit));
        Row("Rejected", Rate(r.Quality.Rejection));
        Row("Escalated", Rate(r.Quality.Escalation));
        Row("Rework (edit distance of edited answers)", Mean(r.Quality.Rework, ""));
        Row("Pass rate (latest evaluation)", Rate(r.Quality.PassRate));
        foreach (var c in r.Quality.PassRateByCategory) Row($"Pass rate, {c.Name}", Rate(c.Figure));
        Row("Upstream error rate", Rate(r.Quality.ErrorRate));
        Line();
        Line($"Outcome mix: {OutcomeText(r.Outcomes)}.");
        Line();

        Line("## Review burden");
        Line();
        Head("Figure", "Value");
        Row("Review minutes per task", Mean(r.Review.MinutesPerTask, " min"));
        Row("Backlog", $"{Int(r.Review.Backlog)} waiting, oldest {Num(r.Review.BacklogOldestHours)} h");
        Row("Capacity utilisation", Rate(r.Review.Utilisation));
        Row("Capacity", r.Review.CapacityMinutesPerDay is { } cap ? $"{Int(cap)} min/day" : "not set (spec.review.minutesPerDay)");
        Row("SLA", r.Review.SlaHours is { } sla ? $"{Num(sla)} h" : "not set");
        Row("Forecast", r.Review.Forecast);
        Line();

        Line("## Value");
        Line();
        Line(ValueText(r.Value));
        Line();

        Line("## Cost");
        Line();
        Line(CostUnit);
        Line();
        CostTable(r.Cost, Head, Row);
        Line();

        Line("## Adoption and feedback");
        Line();
        Line($"Adoption: {AdoptionText(r.Adoption)}. Feedback: {Mean(r.Adoption.FeedbackMean, " of 5")}.");
        Line();

        Line("## Risk");
        Line();
        Line(RiskText(r.Risk));
        Line();
        if (r.Risk.Incidents.Count > 0)
        {
            Head("Kind", "Severity", "Status", "Count");
            foreach (var i in r.Risk.Incidents) Row(i.Kind, i.Severity, i.Status, Int(i.Count));
            Line();
        }
        if (r.Risk.Recent.Count > 0)
        {
            Head("#", "Kind", "Severity", "Status", "Title", "Reported");
            foreach (var i in r.Risk.Recent) Row(Int(i.Id), i.Kind, i.Severity, i.Status, i.Title, Time(i.ReportedAt));
            Line();
        }

        Line("## Whether controls worked");
        Line();
        Line($"{Int(r.Controls.Refused)} requests refused; {Int(r.Controls.Pauses)} pauses, {Int(r.Controls.Resumes)} resumes.");
        Line();
        if (r.Controls.RefusalsByReason.Count > 0)
        {
            Head("Refusal reason", "Count");
            foreach (var x in r.Controls.RefusalsByReason) Row(x.Code, Int(x.Count));
            Line();
        }
        if (r.Controls.FailuresByReason.Count > 0)
        {
            Head("Upstream failure", "Count");
            foreach (var x in r.Controls.FailuresByReason) Row(x.Code, Int(x.Count));
            Line();
        }
        if (r.Controls.Events.Count > 0)
        {
            Head("When", "What happened");
            foreach (var e in r.Controls.Events) Row(Time(e.At), e.Text);
            Line();
        }

        Line("## Criteria and recommendation");
        Line();
        if (r.Criteria.Verdicts.Count > 0)
        {
            Head("Metric", "Threshold", "Figure", "n", "Verdict", "Else", "Explanation");
            foreach (var v in r.Criteria.Verdicts)
            {
                Row(v.Metric, Threshold(v), VerdictFigure(v), MetricUnits.SamplesAgainstMinimum(v.N, v.MinSamples, v.CountsTestCases),
                    v.Verdict, v.Else ?? "", v.Explanation);
            }
            Line();
        }
        Line($"**Recommendation: {Cell(r.Criteria.Recommendation.Kind)}** — {Cell(r.Criteria.Recommendation.Summary)}");
        Line();

        Line("## Readiness (the seed's 20 questions)");
        Line();
        Line(Cell(r.Readiness.Summary));
        Line();
        foreach (var group in r.Readiness.Questions.GroupBy(q => q.GroupTitle))
        {
            Line($"### {Cell(group.Key)}");
            Line();
            Head("Question", "Status", "Answer", "Figure", "Person");
            foreach (var q in group)
            {
                Row(q.Text, q.Status, q.Answer, q.Figure ?? "", q.Person is { } p ? $"{p.Text} ({p.By}, {Time(p.At)})" : "");
            }
            Line();
        }

        Line("## The six common mistakes");
        Line();
        Head("Mistake", "Found", "Detail");
        foreach (var m in r.Mistakes) Row(m.Title, m.Found ? "**found**" : "not found", m.Detail ?? m.Why);
        Line();

        Line("## Decisions so far");
        Line();
        if (r.Decisions.Count == 0)
        {
            Line("No decision recorded yet.");
        }
        else
        {
            Head("When", "Outcome", "By", "Move", "Reason", "Evidence");
            foreach (var d in r.Decisions)
            {
                Row(Time(d.DecidedAt), d.Outcome + (d.Override ? " (override)" : ""), d.DecidedBy, $"{d.FromPhase} → {d.ToPhase}", d.Reason, d.EvidenceHash is { } h ? h[..Math.Min(12, h.Length)] : "");
            }
        }
        Line();

        Line("## Daily trend (real traffic, UTC)");
        Line();
        if (r.Trend.Count == 0)
        {
            Line("No real traffic yet.");
        }
        else
        {
            Head("Day", "Requests", "Served", "Refused", "Reviewed", "Acceptance");
            foreach (var d in r.Trend) Row(d.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), Int(d.Requests), Int(d.Served), Int(d.Refused), Int(d.Reviewed), d.AcceptanceRate is { } a ? Pct(a) : "—");
        }
        Line();
        Line($"Report SHA-256 (of its JSON rendering): `{r.Sha256}`");
        return md.ToString();
    }

    /// <summary>Amounts carry no currency sign: they are in whatever currency the spec's prices are written in.</summary>
    private const string CostUnit = "Amounts are in the currency of the spec's prices (upstream.pricePer1kInput / pricePer1kOutput, review.hourlyRate).";

    private static void CostTable(ReportCost c, Action<string[]> head, Action<string[]> row)
    {
        head(["", "Per task", "Per day", "Total"]);
        row(["Model", Opt(c.ModelCostPerTask), Opt(c.ModelCostPerDay), Money(c.ModelCost)]);
        row(["Review labour", c.ReviewLabourPriced ? Opt(c.ReviewLabourPerTask) : "unpriced", c.ReviewLabourPriced ? Opt(c.ReviewLabourPerDay) : "unpriced",
            c.ReviewLabourPriced ? Money(c.ReviewLabourCost) : "unpriced (spec.review.hourlyRate)"]);
        row(["Total", Mean(c.CostPerTask, ""), Mean(c.CostPerDay, ""), Money(c.TotalCost)]);
        row(["Basis", $"{Int(c.Tasks)} tasks", $"{Num(c.Days)} days", $"{Int(c.TokensIn)} tokens in, {Int(c.TokensOut)} out"]);
    }

    // ---------------------------------------------------------------- HTML

    public static string Html(EvidenceReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var r = report;
        var s = r.System;
        var h = new StringBuilder(64 * 1024);
        void Add(string html) => h.Append(html).Append('\n');

        Add("<!DOCTYPE html>");
        Add("<html lang=\"en\">");
        Add("<head>");
        Add("<meta charset=\"utf-8\">");
        Add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        Add($"<title>Evidence report: {E(s.Title)} ({E(s.Slug)})</title>");
        Add("<link rel=\"icon\" href=\"data:,\">"); // self-contained: no favicon request (a 404 in the browser console)
        Add("<style>" + Css + "</style>");
        Add("</head>");
        Add("<body>");
        Add("<header>");
        Add($"<p class=\"kicker\">Pilotage evidence report · as of {E(Time(r.AsOf))}</p>");
        Add($"<h1>{E(s.Title)} <code>{E(s.Slug)}</code></h1>");
        Add($"<p class=\"purpose\">{E(s.Purpose)}</p>");
        var rec = r.Criteria.Recommendation;
        Add($"<div class=\"recommendation rec-{E(rec.Kind)}\" id=\"recommendation\"><span class=\"label\">Recommendation</span> <strong>{E(RecommendationTitle(rec.Kind))}</strong><p>{E(rec.Summary)}</p></div>");
        Add("<nav aria-label=\"Sections\"><ol>");
        foreach (var (id, title) in Sections) Add($"<li><a href=\"#{id}\">{E(title)}</a></li>");
        Add("</ol></nav>");
        Add("</header>");
        Add("<main>");

        Section(h, "system", "System", () =>
        {
            Add("<dl class=\"facts\">");
            Fact(h, "Owner", E(s.Owner));
            Fact(h, "Risk", E(s.Risk));
            Fact(h, "Phase", E(PhaseText(s)));
            Fact(h, "Serving", s.Mode is null ? "not serving" : $"{E(s.Scope)} · {E(s.Mode)} mode · groups: {E(Groups(s.Groups))}");
            Fact(h, "Config version", Int(s.ConfigVersion));
            Fact(h, "Pilot end", E(PilotEndText(s)) + (s.Expired ? " <span class=\"badge bad\">expired</span>" : ""));
            if (s.Pause is { } pause) Fact(h, "Paused", $"by {E(pause.By)} at {E(Time(pause.At))}: {E(pause.Reason)}");
            Add("</dl>");
        });

        Section(h, "tested", "What the pilot tested", () => Add($"<p>{E(PilotText(r.Pilot))}</p>"));

        Section(h, "realistic", "How realistic the evidence is", () =>
        {
            var (flag, label) = RealismBadge(r.Realism);
            var errored = r.Realism.Errors > 0 && r.Realism.TestCases > 0 ? $" <span class=\"badge warn\">{Int(r.Realism.Errors)} errored</span>" : "";
            Add($"<p><span class=\"badge {flag}\">{E(label)}</span>{errored} {E(RealismText(r.Realism))}</p>");
            Add("<table><caption>Test cases of the latest evaluation, by category (errored cases ran to no verdict and count in no pass rate)</caption><thead><tr><th scope=\"col\">Category</th><th scope=\"col\" class=\"num\">Test cases</th><th scope=\"col\" class=\"num\">Errored</th><th scope=\"col\">Pass rate</th></tr></thead><tbody>");
            foreach (var c in r.Realism.Categories)
            {
                Add($"<tr><th scope=\"row\">{E(c.Category)}</th><td class=\"num\">{Int(c.Cases)}</td><td class=\"num\">{Int(c.PassRate.Errors ?? 0)}</td><td>{E(Rate(c.PassRate))}</td></tr>");
            }
            Add("</tbody></table>");
        });

        Section(h, "quality", "Quality", () =>
        {
            Add("<table><caption>Review outcomes of real answers and evaluation pass rates (95 % Wilson intervals)</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\">Value</th></tr></thead><tbody>");
            FigureRow(h, "Acceptance", Rate(r.Quality.Acceptance));
            FigureRow(h, "Edited", Rate(r.Quality.Edit));
            FigureRow(h, "Rejected", Rate(r.Quality.Rejection));
            FigureRow(h, "Escalated", Rate(r.Quality.Escalation));
            FigureRow(h, "Rework (edit distance of edited answers)", Mean(r.Quality.Rework, ""));
            FigureRow(h, "Pass rate (latest evaluation)", Rate(r.Quality.PassRate));
            foreach (var c in r.Quality.PassRateByCategory) FigureRow(h, $"Pass rate, {c.Name}", Rate(c.Figure));
            FigureRow(h, "Upstream error rate", Rate(r.Quality.ErrorRate));
            Add("</tbody></table>");
            Add("<figure>");
            Add(OutcomeChart(r.Outcomes));
            Add($"<figcaption>Outcome mix: {E(OutcomeText(r.Outcomes))}.</figcaption>");
            Add("</figure>");
            Add("<figure>");
            Add(TrendChart(r.Trend));
            Add($"<figcaption>{E(TrendCaption(r.Trend))}</figcaption>");
            Add("</figure>");
        });

        Section(h, "review", "Review burden", () =>
        {
            Add("<dl class=\"facts\">");
            Fact(h, "Review minutes per task", E(Mean(r.Review.MinutesPerTask, " min")));
            Fact(h, "Backlog", $"{Int(r.Review.Backlog)} waiting, oldest {E(Num(r.Review.BacklogOldestHours))} h");
            Fact(h, "Capacity utilisation", E(Rate(r.Review.Utilisation)));
            Fact(h, "Capacity", r.Review.CapacityMinutesPerDay is { } cap ? $"{Int(cap)} min/day" : "not set (spec.review.minutesPerDay)");
            Fact(h, "SLA", r.Review.SlaHours is { } sla ? $"{E(Num(sla))} h" : "not set");
            Fact(h, "Forecast", E(r.Review.Forecast));
            Add("</dl>");
        });

        Section(h, "value", "Value", () =>
        {
            var cls = r.Value.Sign switch { "saves" => "good", "costs" => "bad", _ => "muted" };
            var big = r.Value.NetMinutesSavedPerTask.Value is { } v ? $"{ReportText.Signed(v)} min" : "unknown";
            Add($"<p class=\"big {cls}\" id=\"net-minutes\">{E(big)}</p>");
            Add($"<p>{E(ValueText(r.Value))}</p>");
        });

        Section(h, "cost", "Cost", () =>
        {
            Add($"<table><caption>Model cost and review labour. {E(CostUnit)}</caption><thead><tr><th scope=\"col\"></th><th scope=\"col\" class=\"num\">Per task</th><th scope=\"col\" class=\"num\">Per day</th><th scope=\"col\" class=\"num\">Total</th></tr></thead><tbody>");
            CostTable(r.Cost,
                _ => { },
                cells => Add($"<tr><th scope=\"row\">{E(cells[0])}</th>{string.Concat(cells.Skip(1).Select(c => $"<td class=\"num\">{E(c)}</td>"))}</tr>"));
            Add("</tbody></table>");
        });

        Section(h, "adoption", "Adoption and feedback", () =>
        {
            Add("<dl class=\"facts\">");
            Fact(h, "Adoption", E(AdoptionText(r.Adoption)));
            Fact(h, "Feedback", E(Mean(r.Adoption.FeedbackMean, " of 5")));
            Add("</dl>");
        });

        Section(h, "risk", "Risk", () =>
        {
            Add($"<p>{E(RiskText(r.Risk))}</p>");
            if (r.Risk.Incidents.Count > 0)
            {
                Add("<table><caption>Incidents, complaints and support requests by severity and status</caption><thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Severity</th><th scope=\"col\">Status</th><th scope=\"col\" class=\"num\">Count</th></tr></thead><tbody>");
                foreach (var i in r.Risk.Incidents)
                {
                    Add($"<tr><td>{E(i.Kind)}</td><td><span class=\"sev sev-{E(i.Severity)}\">{E(i.Severity)}</span></td><td>{E(i.Status)}</td><td class=\"num\">{Int(i.Count)}</td></tr>");
                }
                Add("</tbody></table>");
            }
            if (r.Risk.Recent.Count > 0)
            {
                Add("<table><caption>Most recent</caption><thead><tr><th scope=\"col\" class=\"num\">#</th><th scope=\"col\">Kind</th><th scope=\"col\">Severity</th><th scope=\"col\">Status</th><th scope=\"col\">Title</th><th scope=\"col\">Reported</th></tr></thead><tbody>");
                foreach (var i in r.Risk.Recent)
                {
                    Add($"<tr><td class=\"num\">{Int(i.Id)}</td><td>{E(i.Kind)}</td><td>{E(i.Severity)}</td><td>{E(i.Status)}</td><td>{E(i.Title)}</td><td>{E(Time(i.ReportedAt))}</td></tr>");
                }
                Add("</tbody></table>");
            }
        });

        Section(h, "controls", "Whether controls worked", () =>
        {
            Add($"<p>{Int(r.Controls.Refused)} requests refused by the gateway; {Int(r.Controls.Pauses)} pauses and {Int(r.Controls.Resumes)} resumes recorded in the audit trail.</p>");
            if (r.Controls.RefusalsByReason.Count > 0)
            {
                Add("<table id=\"refusals\"><caption>Refusals by reason</caption><thead><tr><th scope=\"col\">Reason</th><th scope=\"col\" class=\"num\">Count</th></tr></thead><tbody>");
                foreach (var x in r.Controls.RefusalsByReason) Add($"<tr><td><code>{E(x.Code)}</code></td><td class=\"num\">{Int(x.Count)}</td></tr>");
                Add("</tbody></table>");
            }
            if (r.Controls.FailuresByReason.Count > 0)
            {
                Add("<table id=\"failures\"><caption>Upstream failures by reason</caption><thead><tr><th scope=\"col\">Reason</th><th scope=\"col\" class=\"num\">Count</th></tr></thead><tbody>");
                foreach (var x in r.Controls.FailuresByReason) Add($"<tr><td><code>{E(x.Code)}</code></td><td class=\"num\">{Int(x.Count)}</td></tr>");
                Add("</tbody></table>");
            }
            if (r.Controls.Events.Count > 0)
            {
                Add("<table id=\"control-events\"><caption>Pauses, resumes and restrictions</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">What happened</th></tr></thead><tbody>");
                foreach (var e in r.Controls.Events) Add($"<tr><td>{E(Time(e.At))}</td><td>{E(e.Text)}</td></tr>");
                Add("</tbody></table>");
            }
        });

        Section(h, "criteria", "Criteria and recommendation", () =>
        {
            if (r.Criteria.Verdicts.Count > 0)
            {
                Add("<table id=\"verdicts\"><caption>Decision criteria</caption><thead><tr><th scope=\"col\">Metric</th><th scope=\"col\">Threshold</th><th scope=\"col\">Figure</th><th scope=\"col\">Sample</th><th scope=\"col\">Verdict</th><th scope=\"col\">Explanation</th></tr></thead><tbody>");
                foreach (var v in r.Criteria.Verdicts)
                {
                    var cls = v.Verdict switch { "pass" => "good", "fail" => "bad", _ => "warn" };
                    Add($"<tr><th scope=\"row\"><code>{E(v.Metric)}</code></th><td>{E(Threshold(v))}{(v.Else is { } e ? $" <small>else {E(e)}</small>" : "")}</td><td>{E(VerdictFigure(v))}</td>"
                        + $"<td>{E(MetricUnits.SamplesAgainstMinimum(v.N, v.MinSamples, v.CountsTestCases))}</td><td><span class=\"badge {cls}\">{E(v.Verdict.Replace('_', ' '))}</span></td><td>{E(v.Explanation)}</td></tr>");
                }
                Add("</tbody></table>");
            }
            else
            {
                Add("<p>No decision criteria are defined.</p>");
            }
            Add($"<p><strong>Recommendation: {E(RecommendationTitle(rec.Kind))}</strong> — {E(rec.Summary)}</p>");
            Add("<p class=\"note\">A recommendation is evidence for a person's decision, not the decision.</p>");
        });

        Section(h, "readiness", "Readiness: the seed's 20 questions", () =>
        {
            Add($"<p><span class=\"badge {(r.Readiness.ReadyToProceed ? "good" : "bad")}\">{(r.Readiness.ReadyToProceed ? "nothing blocks" : "blocked")}</span> {E(r.Readiness.Summary)}</p>");
            foreach (var group in r.Readiness.Questions.GroupBy(q => q.GroupTitle))
            {
                Add($"<table class=\"readiness\"><caption>{E(group.Key)}</caption><thead><tr><th scope=\"col\">Question</th><th scope=\"col\">Status</th><th scope=\"col\">Answer</th></tr></thead><tbody>");
                foreach (var q in group)
                {
                    var cls = q.Status switch { "ok" => "good", "blocking" => "bad", "warning" => "warn", _ => "muted" };
                    var person = q.Person is { } p ? $"<br><small>{E(p.By)}, {E(Time(p.At))}: “{E(p.Text)}”</small>" : "";
                    var figure = q.Figure is { } f ? $"<br><small class=\"figure\">{E(f)}</small>" : "";
                    Add($"<tr data-question=\"{E(q.Id)}\"><th scope=\"row\">{E(q.Text)}</th><td><span class=\"badge {cls}\">{E(q.Status.Replace('_', ' '))}</span></td><td>{E(q.Answer)}{figure}{person}</td></tr>");
                }
                Add("</tbody></table>");
            }
        });

        Section(h, "mistakes", "The six common mistakes", () =>
        {
            Add("<ul class=\"mistakes\">");
            foreach (var m in r.Mistakes)
            {
                Add($"<li class=\"{(m.Found ? "found" : "clear")}\" data-mistake=\"{E(m.Id)}\"><span class=\"badge {(m.Found ? "bad" : "good")}\">{(m.Found ? "found" : "not found")}</span> <strong>{E(m.Title)}</strong>"
                    + (m.Detail is { } d ? $"<p>{E(d)}</p>" : "") + $"<p class=\"why\">{E(m.Why)}</p></li>");
            }
            Add("</ul>");
        });

        Section(h, "decisions", "Decisions so far", () =>
        {
            if (r.Decisions.Count == 0)
            {
                Add("<p>No decision recorded yet.</p>");
                return;
            }
            Add("<table><caption>Recorded decisions</caption><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Outcome</th><th scope=\"col\">By</th><th scope=\"col\">Move</th><th scope=\"col\">Reason</th><th scope=\"col\">Evidence</th></tr></thead><tbody>");
            foreach (var d in r.Decisions)
            {
                Add($"<tr><td>{E(Time(d.DecidedAt))}</td><td>{E(d.Outcome)}{(d.Override ? " <span class=\"badge warn\">override</span>" : "")}</td><td>{E(d.DecidedBy)}</td><td>{E(d.FromPhase)} → {E(d.ToPhase)}</td><td>{E(d.Reason)}</td><td>{(d.EvidenceHash is { } eh ? $"<code title=\"{E(eh)}\">{E(eh[..Math.Min(12, eh.Length)])}</code>" : "")}</td></tr>");
            }
            Add("</tbody></table>");
        });

        Add("</main>");
        Add($"<footer><p>Report SHA-256 (of its JSON rendering): <code>{E(r.Sha256)}</code> · schema {Int(r.SchemaVersion)} · generated by Pilotage from the roll-ups, the audit trail and the records of this system.</p></footer>");
        Add("</body>");
        Add("</html>");
        return h.ToString();
    }

    private static readonly (string Id, string Title)[] Sections =
    [
        ("system", "System"), ("tested", "What the pilot tested"), ("realistic", "How realistic"), ("quality", "Quality"),
        ("review", "Review burden"), ("value", "Value"), ("cost", "Cost"), ("adoption", "Adoption and feedback"), ("risk", "Risk"),
        ("controls", "Controls"), ("criteria", "Criteria"), ("readiness", "Readiness"), ("mistakes", "Six mistakes"), ("decisions", "Decisions"),
    ];

    private static void Section(StringBuilder h, string id, string title, Action body)
    {
        h.Append("<section id=\"").Append(id).Append("\" aria-labelledby=\"h-").Append(id).Append("\">\n");
        h.Append("<h2 id=\"h-").Append(id).Append("\">").Append(E(title)).Append("</h2>\n");
        body();
        h.Append("</section>\n");
    }

    /// <summary>Appends a term and its already-encoded HTML description.</summary>
    private static void Fact(StringBuilder h, string term, string html) =>
        h.Append("<dt>").Append(E(term)).Append("</dt><dd>").Append(html).Append("</dd>\n");

    private static void FigureRow(StringBuilder h, string name, string text) =>
        h.Append("<tr><th scope=\"row\">").Append(E(name)).Append("</th><td>").Append(E(text)).Append("</td></tr>\n");

    private const string Css = """
        :root{--ink:#1d2330;--muted:#5b6473;--line:#d8dde6;--bg:#fff;--soft:#f4f6f9;--good:#1b7a3a;--bad:#b3261e;--warn:#8a5a00;--accent:#2456a6}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:60rem;padding:1.5rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
        h1{font-size:1.6rem;margin:.2rem 0}h1 code{font-size:1rem;color:var(--muted)}
        h2{font-size:1.2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;margin-top:2rem}
        .kicker{color:var(--muted);margin:0;font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
        .purpose{font-size:1.05rem;margin:.2rem 0 1rem}
        .recommendation{border-left:6px solid var(--accent);background:var(--soft);padding:.6rem 1rem;margin:1rem 0}
        .recommendation p{margin:.3rem 0 0}.recommendation .label{color:var(--muted);font-size:.85rem;text-transform:uppercase}
        .rec-proceed{border-color:var(--good)}.rec-stop,.rec-redesign{border-color:var(--bad)}.rec-narrow,.rec-repilot,.rec-insufficient_evidence{border-color:var(--warn)}
        nav ol{columns:3;font-size:.9rem;padding-left:1.2rem}
        table{border-collapse:collapse;width:100%;margin:.8rem 0;font-size:.92rem}
        caption{text-align:left;font-weight:600;padding:.3rem 0;color:var(--muted)}
        th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
        thead th{background:var(--soft)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dl.facts dt{font-weight:600;color:var(--muted)}dl.facts dd{margin:0}
        .badge{display:inline-block;border-radius:.8rem;padding:0 .55rem;font-size:.8rem;font-weight:600;border:1px solid currentColor;white-space:nowrap}
        .good{color:var(--good)}.bad{color:var(--bad)}.warn{color:var(--warn)}.muted{color:var(--muted)}
        .big{font-size:2rem;font-weight:700;margin:.2rem 0}
        .note,.why{color:var(--muted);font-size:.88rem}
        ul.mistakes{list-style:none;padding:0}ul.mistakes li{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .8rem;margin:.5rem 0}
        ul.mistakes li.found{border-color:var(--bad);background:#fdf3f2}ul.mistakes p{margin:.3rem 0}
        figure{margin:1rem 0}figcaption{color:var(--muted);font-size:.88rem}
        svg{max-width:100%;height:auto;display:block}svg text{font:12px system-ui,sans-serif;fill:#1d2330}
        .sev-high,.sev-critical{color:var(--bad);font-weight:600}
        footer{margin-top:2rem;border-top:1px solid var(--line);color:var(--muted);font-size:.8rem;word-break:break-all}
        @media print{
          body{max-width:none;padding:0;font-size:10pt}
          nav{display:none}
          a{color:inherit;text-decoration:none}
          section,figure,table,ul.mistakes li{break-inside:avoid}
          h2{break-after:avoid}
          .recommendation,ul.mistakes li.found,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
        }
        """;

    // ---------------------------------------------------------------- charts

    private static readonly (string Name, string Colour)[] OutcomeColours =
        [("accepted", "#1b7a3a"), ("edited", "#c98a00"), ("rejected", "#b3261e"), ("escalated", "#6a3d9a"), ("waiting", "#9aa3b0")];

    /// <summary>One stacked bar: reviewed outcomes plus what still waits, with a labelled legend.</summary>
    internal static string OutcomeChart(ReportOutcomeMix mix)
    {
        const int width = 720, barX = 10, barY = 34, barW = 700, barH = 36;
        long[] counts = [mix.Accepted, mix.Edited, mix.Rejected, mix.Escalated, mix.Pending];
        var total = counts.Sum();
        var svg = new StringBuilder();
        var description = total == 0
            ? "No answers reviewed or waiting yet."
            : string.Join(", ", OutcomeColours.Select((c, i) => $"{c.Name} {Int(counts[i])}")) + $" of {Int(total)} answers";
        svg.Append($"<svg class=\"chart\" id=\"chart-outcomes\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} 120\" width=\"{width}\" height=\"120\" role=\"img\" aria-labelledby=\"outcomes-title outcomes-desc\">");
        svg.Append("<title id=\"outcomes-title\">Outcome mix of reviewed answers</title>");
        svg.Append($"<desc id=\"outcomes-desc\">{E(description)}</desc>");
        svg.Append($"<text x=\"{barX}\" y=\"20\" font-weight=\"600\">Outcome mix (n={Int(mix.Reviewed)} reviewed, {Int(mix.Pending)} waiting)</text>");
        if (total == 0)
        {
            svg.Append($"<rect x=\"{barX}\" y=\"{barY}\" width=\"{barW}\" height=\"{barH}\" fill=\"#f4f6f9\" stroke=\"#d8dde6\"/>");
            svg.Append($"<text x=\"{barX + barW / 2}\" y=\"{barY + 23}\" text-anchor=\"middle\">no reviews yet</text>");
        }
        else
        {
            double x = barX;
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i] == 0) continue;
                var w = barW * (double)counts[i] / total;
                svg.Append($"<rect x=\"{Px(x)}\" y=\"{barY}\" width=\"{Px(w)}\" height=\"{barH}\" fill=\"{OutcomeColours[i].Colour}\"><title>{OutcomeColours[i].Name}: {Int(counts[i])} ({Pct((double)counts[i] / total)})</title></rect>");
                if (w >= 34)
                {
                    svg.Append($"<text x=\"{Px(x + w / 2)}\" y=\"{barY + 23}\" text-anchor=\"middle\" fill=\"#fff\" style=\"fill:#fff\">{Int(counts[i])}</text>");
                }
                x += w;
            }
        }
        double lx = barX;
        for (var i = 0; i < OutcomeColours.Length; i++)
        {
            var label = $"{OutcomeColours[i].Name} {Int(counts[i])}" + (total > 0 ? $" ({Pct((double)counts[i] / total)})" : "");
            svg.Append($"<rect x=\"{Px(lx)}\" y=\"92\" width=\"12\" height=\"12\" fill=\"{OutcomeColours[i].Colour}\"/>");
            svg.Append($"<text x=\"{Px(lx + 16)}\" y=\"103\">{E(label)}</text>");
            lx += 16 + label.Length * 6.6 + 14;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Bars of requests per UTC day (left axis) and a line of the day's acceptance rate (right axis, 0–100 %).</summary>
    internal static string TrendChart(IReadOnlyList<ReportTrendDay> trend)
    {
        const int width = 720, height = 260, left = 48, right = 52, top = 34, bottom = 40;
        const int plotW = width - left - right, plotH = height - top - bottom;
        var days = trend.Count > 60 ? trend.Skip(trend.Count - 60).ToList() : trend.ToList();
        var svg = new StringBuilder();
        var description = days.Count == 0
            ? "No real traffic yet."
            : $"{Int(days.Count)} days from {DayText(days[0].Day)} to {DayText(days[^1].Day)}: {Int(days.Sum(d => d.Requests))} requests, {Int(days.Sum(d => d.Reviewed))} reviewed, {Int(days.Sum(d => d.Accepted))} accepted.";
        svg.Append($"<svg class=\"chart\" id=\"chart-trend\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-labelledby=\"trend-title trend-desc\">");
        svg.Append("<title id=\"trend-title\">Daily trend: requests and acceptance rate per UTC day</title>");
        svg.Append($"<desc id=\"trend-desc\">{E(description)}</desc>");
        svg.Append($"<text x=\"{left}\" y=\"18\" font-weight=\"600\">Requests per day (bars) and acceptance rate (line)</text>");
        svg.Append($"<rect x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"#f9fafc\" stroke=\"#d8dde6\"/>");
        if (days.Count == 0)
        {
            svg.Append($"<text x=\"{left + plotW / 2}\" y=\"{top + plotH / 2}\" text-anchor=\"middle\">no real traffic yet</text>");
            svg.Append("</svg>");
            return svg.ToString();
        }
        var max = Math.Max(1, days.Max(d => d.Requests));
        var slot = (double)plotW / days.Count;
        var barW = Math.Max(1, slot * 0.7);
        // Axes: requests on the left, acceptance on the right, grid at half.
        svg.Append($"<line x1=\"{left}\" y1=\"{top + plotH / 2}\" x2=\"{left + plotW}\" y2=\"{top + plotH / 2}\" stroke=\"#e3e7ee\"/>");
        svg.Append($"<text x=\"{left - 6}\" y=\"{top + 4}\" text-anchor=\"end\">{Int(max)}</text>");
        svg.Append($"<text x=\"{left - 6}\" y=\"{top + plotH / 2 + 4}\" text-anchor=\"end\">{E(Num(max / 2.0))}</text>");
        svg.Append($"<text x=\"{left - 6}\" y=\"{top + plotH + 4}\" text-anchor=\"end\">0</text>");
        svg.Append($"<text x=\"{left + plotW + 6}\" y=\"{top + 4}\">100%</text>");
        svg.Append($"<text x=\"{left + plotW + 6}\" y=\"{top + plotH / 2 + 4}\">50%</text>");
        svg.Append($"<text x=\"{left + plotW + 6}\" y=\"{top + plotH + 4}\">0%</text>");
        var points = new List<string>();
        for (var i = 0; i < days.Count; i++)
        {
            var d = days[i];
            var x = left + slot * i + (slot - barW) / 2;
            var h = plotH * (double)d.Requests / max;
            var rate = d.AcceptanceRate is { } a ? $", acceptance {Pct(a)} of {Int(d.Reviewed)} reviewed" : ", none reviewed";
            svg.Append($"<rect x=\"{Px(x)}\" y=\"{Px(top + plotH - h)}\" width=\"{Px(barW)}\" height=\"{Px(h)}\" fill=\"#7fa2d6\"><title>{E(DayText(d.Day))}: {Int(d.Requests)} requests{E(rate)}</title></rect>");
            if (d.AcceptanceRate is { } acceptance)
            {
                var cx = left + slot * i + slot / 2;
                var cy = top + plotH * (1 - acceptance);
                points.Add($"{Px(cx)},{Px(cy)}");
                svg.Append($"<circle cx=\"{Px(cx)}\" cy=\"{Px(cy)}\" r=\"3.5\" fill=\"#1b7a3a\"><title>{E(DayText(d.Day))}: acceptance {Pct(acceptance)} (n={Int(d.Reviewed)})</title></circle>");
            }
        }
        if (points.Count > 1)
        {
            svg.Append($"<polyline points=\"{string.Join(' ', points)}\" fill=\"none\" stroke=\"#1b7a3a\" stroke-width=\"2\"/>");
        }
        // Day labels: first, middle and last.
        foreach (var i in new[] { 0, days.Count / 2, days.Count - 1 }.Distinct())
        {
            var x = left + slot * i + slot / 2;
            svg.Append($"<text x=\"{Px(x)}\" y=\"{top + plotH + 18}\" text-anchor=\"middle\">{E(DayText(days[i].Day))}</text>");
        }
        svg.Append($"<rect x=\"{left}\" y=\"{height - 12}\" width=\"12\" height=\"10\" fill=\"#7fa2d6\"/><text x=\"{left + 16}\" y=\"{height - 3}\">requests</text>");
        svg.Append($"<line x1=\"{left + 100}\" y1=\"{height - 7}\" x2=\"{left + 120}\" y2=\"{height - 7}\" stroke=\"#1b7a3a\" stroke-width=\"2\"/><text x=\"{left + 124}\" y=\"{height - 3}\">acceptance rate (UTC day)</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static string TrendCaption(IReadOnlyList<ReportTrendDay> trend) => trend.Count == 0
        ? "Daily trend: no real traffic yet."
        : $"Daily trend over {Int(trend.Count)} UTC days{(trend.Count > 60 ? " (last 60 shown)" : "")}: {Int(trend.Sum(d => d.Requests))} requests, {Int(trend.Sum(d => d.Reviewed))} reviewed.";

    // ---------------------------------------------------------------- shared text

    private static string PhaseText(ReportSystem s) =>
        s.Phase + (s.StageName is { } stage ? $", stage {Int(s.Stage + 1)} ({stage})" : "");

    private static string PilotEndText(ReportSystem s) => s.PilotEnds is not { } ends
        ? "no pilot end date"
        : s.DaysLeft switch
        {
            null => DayText(ends),
            < 0 when s.Expired => $"{DayText(ends)}: expired {Int(-s.DaysLeft.Value)} days ago; the gateway refuses until a decision is recorded",
            < 0 => $"{DayText(ends)} (passed)",
            0 => $"{DayText(ends)}: last day",
            var d => $"{DayText(ends)}: {Int(d.Value)} days left",
        };

    private static string PilotText(ReportPilot p) => !p.Defined
        ? "No pilot is defined (spec.pilot): the pilot question, group, mode, time box and criteria are missing."
        : $"Questions: {(p.Questions.Count == 0 ? "none named" : string.Join(", ", p.Questions))}. Group {p.Group}, {p.Mode} mode, ends {(p.Ends is { } e ? DayText(e) : "—")}, "
          + $"minimum sample {Int(p.MinSamples)}, {Int(p.Criteria)} decision {(p.Criteria == 1 ? "criterion" : "criteria")}.";

    private static string RealismText(ReportRealism r)
    {
        var run = r.EvalRun is { } e ? $"Latest evaluation: run {Int(e.Id)} of '{e.TestSet}' ({e.Status}, config v{Int(e.ConfigVersion)}), {Int(r.TestCases)} cases: " : "";
        var share = r.RealShare is { } sh ? $"real traffic is {Pct(sh)}" : "nothing evaluated yet";
        return $"{run}{r.CoverageMessage}. {Int(r.RealRequests)} real requests vs {Int(r.EvaluationRequests)} evaluation requests: {share}.";
    }

    private static string ValueText(ReportValue v)
    {
        var baseline = v.BaselineSource switch
        {
            "measured" => $"baseline {Num(v.BaselineMinutesPerTask ?? 0)} min per task, measured from {Int(v.ManualTasks)} manual tasks",
            "spec" => $"baseline {Num(v.BaselineMinutesPerTask ?? 0)} min per task from the spec (spec.baseline.manualMinutesPerTask), not measured",
            _ => "no baseline",
        };
        return $"{v.Statement}; {baseline}.";
    }

    private static string AdoptionText(ReportAdoption a) => a.Adoption.Value is { } v
        ? $"{Int(a.ActiveUsers)} of {Int(a.EligibleUsers)} eligible users ({Pct(v)}{Interval(a.Adoption)})"
        : $"no eligible users (n={Int(a.EligibleUsers)})";

    private static string RiskText(ReportRisk r) =>
        $"{Int(r.IncidentsTotal)} incidents ({Int(r.HighOrCritical)} high or critical, {Int(r.Unreviewed)} not yet reviewed), {Int(r.Complaints)} complaints, "
        + $"{Int(r.SupportRequests)} support requests. Data boundary: {Int(r.Blocked)} blocked ({Rate(r.BlockedRate)}), {Int(r.Redacted)} redacted. "
        + $"Out of scope: {Rate(r.OutOfScopeRate)}.";

    private static string OutcomeText(ReportOutcomeMix m) =>
        $"{Int(m.Accepted)} accepted, {Int(m.Edited)} edited, {Int(m.Rejected)} rejected, {Int(m.Escalated)} escalated of {Int(m.Reviewed)} reviewed; {Int(m.Pending)} waiting";

    private static string RecommendationTitle(string kind) => kind == "insufficient_evidence" ? "keep collecting (insufficient evidence)" : kind;

    private static string Threshold(ReportVerdict v)
    {
        var bound = v.Confidence is "lower" or "upper" ? $" ({v.Confidence} bound)" : "";
        var unit = UnitSuffix(v.Metric);
        return (v.Min, v.Max) switch
        {
            ({ } min, { } max) => $"{Num(min)}–{Num(max)}{unit}{bound}",
            ({ } min, null) => $"≥ {Num(min)}{unit}{bound}",
            (null, { } max) => $"≤ {Num(max)}{unit}{bound}",
            _ => "none",
        };
    }

    private static string VerdictFigure(ReportVerdict v) => v.Value is not { } value
        ? "no figure"
        : Num(value) + UnitSuffix(v.Metric) + (v.Low is { } lo && v.High is { } hi ? $" (95% CI {Num(lo)}–{Num(hi)})" : "");

    /// <summary>" min", " ms", " per day" after a figure in the spec's scale (the metric catalogue's unit); nothing for rates.</summary>
    internal static string UnitSuffix(string metric) => MetricCatalogue.UnitOf(metric) is { } unit ? MetricUnits.Suffix(unit) : "";

    /// <summary>"84.2% (n=212, 95% CI 79.1–88.4%)", or "no figure yet (n=0)".</summary>
    private static string Rate(ReportFigure f) => f.Value is { } v
        ? $"{Pct(v)} (n={Int(f.N)}{Errored(f)}{Interval(f)})"
        : $"no figure yet (n={Int(f.N)}{Errored(f)})";

    private static string Errored(ReportFigure f) => f.Errors is > 0 and { } errors ? $", {Int(errors)} errored, not counted" : "";

    /// <summary>A run whose every case errored tested nothing: that is what the badge says, not "easy examples".</summary>
    private static (string Flag, string Label) RealismBadge(ReportRealism r) =>
        r.EvalRun is not null && r.TestCases == 0 && r.Errors > 0 ? ("bad", "not evaluated: every case errored")
        : r.Flagged ? ("bad", "easy examples only")
        : r.Weak ? ("warn", "weak coverage")
        : ("good", "coverage");

    private static string Interval(ReportFigure f) => f.Low is { } lo && f.High is { } hi ? $", 95% CI {Pct(lo)}–{Pct(hi)}" : "";

    /// <summary>"3.2 min (n=40)" for figures without an interval.</summary>
    private static string Mean(ReportFigure f, string unit) => f.Value is { } v
        ? $"{Num(v)}{unit} (n={Int(f.N)})"
        : $"no figure yet (n={Int(f.N)})";

    private static string Opt(double? value) => value is { } v ? Num(v) : "—";

    private static string Money(decimal value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    private static string Num(double value) => ReportText.Num(value);

    private static string Pct(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Px(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string DayText(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Groups(IReadOnlyList<string> groups) => groups.Count == 0 ? "everyone signed in" : string.Join(", ", groups);

    /// <summary>HTML-encodes any text: everything people typed (purpose, reasons, titles, answers) passes here.</summary>
    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A Markdown table cell: one line, pipes escaped, angle brackets encoded so no HTML gets through.</summary>
    private static string Cell(string? text) =>
        (text ?? "").Replace("\r", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal)
            .Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
