using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Access;
using Pilotage.Core.Evidence;
using Pilotage.Core.Gateway;
using Pilotage.Core.Incidents;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Metrics;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Reports;

/// <summary>
/// Builds the evidence report of one system (design.md step 4, "Review the evidence"): every figure
/// from the roll-ups through <see cref="SystemMetrics"/>, the criteria verdicts and recommendation, the
/// readiness assessment and the six mistakes, with the records around them (eval cases, incidents,
/// refusals, pauses, decisions). No raw interaction is read: refusals and failures by reason come from
/// their roll-up too (<see cref="ByReasonAsync"/>).
/// </summary>
public sealed class EvidenceReportService(PilotageStore store, PolicyCache policy, SystemMetrics systemMetrics, TimeProvider time)
{
    /// <summary>Audit actions that show a control acting on the system (pauses, resumes, restrictions, pause rules).</summary>
    private static readonly string[] ControlActions =
        ["system.paused", "system.resumed", "system.rule_fired", "system.decision.restrict", "system.restricted"];

    /// <summary>Incidents listed by title in the report (newest first); all are counted.</summary>
    public const int RecentIncidents = 10;

    /// <summary>Days of daily trend kept (the most recent).</summary>
    public const int TrendDays = 366;

    /// <summary>The report of <paramref name="slug"/> now. Throws a 404 problem for an unknown system.</summary>
    public Task<EvidenceReport> BuildAsync(string slug, CancellationToken ct) => BuildAsync(slug, null, ct);

    /// <summary>
    /// The report, with an expansion being asked for taken into account by the "expanding too quickly"
    /// mistake (the decision endpoint passes the expansion it is about to record).
    /// </summary>
    public async Task<EvidenceReport> BuildAsync(string slug, ExpansionRequest? expansion, CancellationToken ct)
    {
        var (report, _) = await BuildWithFactsAsync(slug, expansion, ct);
        return report;
    }

    /// <summary>The readiness assessment alone (the same facts as the report's).</summary>
    public async Task<ReportReadiness> ReadinessAsync(string slug, CancellationToken ct) => (await BuildAsync(slug, ct)).Readiness;

    /// <summary>SHA-256 (lower-case hex) of a report's JSON rendering.</summary>
    public static string HashOf(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    internal async Task<(EvidenceReport Report, ReadinessFacts Facts)> BuildWithFactsAsync(string slug, ExpansionRequest? expansion, CancellationToken ct)
    {
        var snapshot = policy.Current;
        if (!snapshot.Systems.TryGetValue(slug, out var system))
        {
            throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");
        }
        var state = system.State;
        var spec = state.Spec;
        var now = time.GetUtcNow();
        var asOf = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);

        var view = await systemMetrics.ComputeAsync(slug, new MetricFilter(), ct);
        var metrics = StableMetrics(view.Metrics);

        await using var db = store.CreateDbContext();
        var row = await db.Systems.AsNoTracking().SingleOrDefaultAsync(s => s.Slug == slug, ct)
            ?? throw Problems.NotFound($"no system '{slug}'; 'pilotage status' lists them");

        var run = await db.EvalRuns.AsNoTracking()
            .Where(r => r.System == slug && r.ConfigVersion == state.ConfigVersion && r.Status != EvalRunStatus.Running.Name())
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct);
        var cases = run is null ? [] : await db.EvalResults.AsNoTracking().Where(r => r.RunId == run.Id).Select(r => new { r.Category, r.Verdict }).ToListAsync(ct);
        // Coverage counts the cases that ran to a verdict: an errored case tested nothing.
        var caseCategories = cases.Where(c => EvalNames.ParseVerdict(c.Verdict) != CaseVerdictKind.Error).Select(c => c.Category).ToList();
        var erroredCases = cases.Count - caseCategories.Count;

        var rollups = await db.Rollups.AsNoTracking().Where(r => r.System == slug && r.Kind == RollupKinds.Ai)
            .Select(r => new HourRow(r.Hour, r.Requests, r.Served, r.Refused, r.Reviewed, r.Accepted)).ToListAsync(ct);

        var incidents = await db.Incidents.AsNoTracking().Where(i => i.System == slug)
            .GroupBy(i => new { i.Kind, i.Severity, i.Status })
            .Select(g => new { g.Key.Kind, g.Key.Severity, g.Key.Status, Count = g.LongCount() }).ToListAsync(ct);
        var recent = await db.Incidents.AsNoTracking().Where(i => i.System == slug).OrderByDescending(i => i.Id).Take(RecentIncidents)
            .Select(i => new ReportIncident(i.Id, i.Kind, i.Severity, i.Status, i.Title, i.ReportedAt)).ToListAsync(ct);

        var refusals = await ByReasonAsync(db, slug, InteractionOutcome.Refused, ct);
        var failures = await ByReasonAsync(db, slug, InteractionOutcome.Failed, ct);
        var subject = $"system:{slug}";
        var controlEntries = await db.AuditEntries.AsNoTracking()
            .Where(a => a.Subject == subject && ControlActions.Contains(a.Action))
            .OrderBy(a => a.Sequence).ToListAsync(ct);
        var decisions = await db.Decisions.AsNoTracking().Where(d => d.SystemId == row.Id).OrderBy(d => d.Id).ToListAsync(ct);
        var answers = await db.ReadinessAnswers.AsNoTracking().Where(a => a.System == slug).ToListAsync(ct);

        var users = await db.Users.AsNoTracking().Select(u => new { u.Email, u.Role, u.Active }).ToListAsync(ct);
        var owner = users.FirstOrDefault(u => string.Equals(u.Email, spec.Owner, StringComparison.OrdinalIgnoreCase));
        var ownerStatus = owner is null ? OwnerStatus.Unknown : owner.Active ? OwnerStatus.Active : OwnerStatus.Inactive;
        var admins = users.Count(u => u.Active && u.Role == Role.Admin.ToName()
                                      && !string.Equals(u.Email, spec.Owner, StringComparison.OrdinalIgnoreCase));

        var scope = ServingPolicy.ScopeOf(spec, state.Lifecycle);
        var evaluation = spec.Pilot is { } pilot ? CriteriaEvaluator.EvaluatePilot(pilot, metrics) : null;

        var (incident, complaint, supportRequest) = (IncidentKind.Incident.ToName(), IncidentKind.Complaint.ToName(), IncidentKind.SupportRequest.ToName());
        var reviewed = IncidentStatus.Reviewed.ToName();
        var incidentFacts = new IncidentFacts(
            Incidents: incidents.Where(i => i.Kind == incident).Sum(i => i.Count),
            HighOrCritical: incidents.Where(i => i.Kind == incident && IsHigh(i.Severity)).Sum(i => i.Count),
            Unreviewed: incidents.Where(i => i.Kind == incident && i.Status != reviewed).Sum(i => i.Count),
            UnreviewedHighOrCritical: incidents.Where(i => i.Kind == incident && IsHigh(i.Severity) && i.Status != reviewed).Sum(i => i.Count),
            Complaints: incidents.Where(i => i.Kind == complaint).Sum(i => i.Count),
            UnreviewedComplaints: incidents.Where(i => i.Kind == complaint && i.Status != reviewed).Sum(i => i.Count));
        var supportRequests = incidents.Where(i => i.Kind == supportRequest).Sum(i => i.Count);

        var categoryCounts = MetricCatalogue.Categories.ToDictionary(c => c, c => (long)caseCategories.Count(x => x == c), StringComparer.Ordinal);
        var facts = ReadinessFacts.FromSpec(spec) with
        {
            OwnerStatus = ownerStatus,
            AdminCount = admins,
            Mode = scope?.Mode ?? ReadinessFacts.FromSpec(spec).Mode,
            Criteria = evaluation,
            ReviewForecast = view.ReviewForecast,
            TestCasesByCategory = categoryCounts,
            RealInteractions = view.Totals.Requests,
            Metrics = metrics,
            Incidents = incidentFacts,
            SupportRequests = supportRequests,
            Expansion = expansion,
            PersonAnswers = answers.ToDictionary(a => a.QuestionId, a => new PersonAnswer(a.Answer, a.AnsweredBy, a.AnsweredAt), StringComparer.Ordinal),
        };
        var readiness = ReadinessAssessment.Assess(facts);
        var found = PilotMistakes.Detect(facts);

        var days = SpanDays(rollups);
        var report = new EvidenceReport(
            EvidenceReport.CurrentSchemaVersion,
            asOf,
            Identity(row, state, scope, asOf),
            PilotOf(spec.Pilot),
            Realism(run, caseCategories, erroredCases, view, metrics),
            Quality(view.Totals, metrics),
            ReviewBurden(spec, view.ReviewForecast, metrics),
            Value(spec, view, metrics),
            Cost(spec, view.Totals, metrics, days),
            Adoption(metrics),
            Risk(incidents.Select(i => new ReportIncidentCount(i.Kind, i.Severity, i.Status, i.Count)).ToList(), incidentFacts, supportRequests, recent, view.Totals, metrics),
            Controls(refusals, failures, controlEntries),
            Criteria(evaluation, metrics),
            ReadinessOf(readiness),
            PilotMistakes.Catalogue.Select(m => found.FirstOrDefault(f => f.Id == m.Id) is { } hit
                ? new ReportMistake(m.Id, m.Title, true, hit.Detail, m.Why)
                : new ReportMistake(m.Id, m.Title, false, null, m.Why)).ToList(),
            decisions.Select(d => new ReportDecision(d.Id, d.Outcome, d.Reason, d.DecidedBy, d.DecidedAt, d.FromPhase.ToLowerInvariant(), d.FromStage,
                d.ToPhase.ToLowerInvariant(), d.ToStage, d.Override, d.EvidenceHash)).ToList(),
            Trend(rollups),
            new ReportOutcomeMix(view.Totals.Accepted, view.Totals.Edited, view.Totals.Rejected, view.Totals.Escalated,
                metrics.GetValueOrDefault("review_backlog")?.N ?? 0));
        return (report with { Sha256 = HashOf(ReportRenderer.Json(report)) }, facts);
    }

    /// <summary>
    /// Refusals (or upstream failures) by reason, from the code roll-up (<c>rollup_codes</c>: counts per
    /// system, hour, kind, outcome and code, written with each evidence batch): no raw interaction is read.
    /// </summary>
    internal static async Task<IReadOnlyList<ReportRefusal>> ByReasonAsync(PilotageDbContext db, string slug, InteractionOutcome outcome, CancellationToken ct)
    {
        var name = outcome.Name();
        var rows = await db.RollupCodes.AsNoTracking()
            .Where(r => r.System == slug && r.Outcome == name)
            .GroupBy(r => r.Code)
            .Select(g => new { Code = g.Key, Count = g.Sum(r => r.Count) })
            .ToListAsync(ct);
        return rows.Where(r => r.Count > 0).Select(r => new ReportRefusal(r.Code, r.Count))
            .OrderByDescending(r => r.Count).ThenBy(r => r.Code, StringComparer.Ordinal).ToList();
    }

    private sealed record HourRow(long Hour, long Requests, long Served, long Refused, long Reviewed, long Accepted);

    /// <summary>
    /// Figures rounded so that the same evidence gives the same bytes: six decimals everywhere (sums of
    /// doubles differ in the last bits with the order rows come back in), the backlog's age to a tenth
    /// of an hour (it grows with the clock, not with the evidence).
    /// </summary>
    private static Dictionary<string, MetricValue> StableMetrics(IReadOnlyDictionary<string, MetricValue> metrics)
    {
        var stable = new Dictionary<string, MetricValue>(StringComparer.Ordinal);
        foreach (var (name, value) in metrics)
        {
            var rounded = value with { Value = ReportFigure.Round(value.Value), Low = ReportFigure.Round(value.Low), High = ReportFigure.Round(value.High) };
            if (name == "review_backlog_hours" && rounded.Value is { } hours)
            {
                rounded = rounded with { Value = Math.Round(hours, 1, MidpointRounding.AwayFromZero) };
            }
            stable[name] = rounded;
        }
        return stable;
    }

    private static bool IsHigh(string severity) => SpecEnum.TryParse<IncidentSeverity>(severity, out var level) && level.NeedsReview();

    private static double SpanDays(IReadOnlyList<HourRow> rows)
    {
        if (rows.Count == 0) return 1;
        var first = rows.Min(r => r.Hour);
        var last = rows.Max(r => r.Hour);
        return Math.Max(1.0 / 24, (last - first + 1) / 24.0);
    }

    private static ReportSystem Identity(AiSystemRow row, SystemState state, ServingScope? scope, DateTimeOffset asOf)
    {
        var spec = state.Spec;
        var lifecycle = state.Lifecycle;
        var (stagePhase, stage) = lifecycle.Phase is LifecyclePhase.Paused or LifecyclePhase.Restricted && lifecycle.SuspendedPhase is { } suspended
            ? (suspended, lifecycle.SuspendedStage)
            : (lifecycle.Phase, lifecycle.Stage);
        var stageName = stagePhase == LifecyclePhase.Rollout && stage >= 0 && stage < spec.Rollout.Count ? spec.Rollout[stage].Name : null;
        var ends = state.PilotEnds;
        int? daysLeft = ends is { } end ? end.DayNumber - DateOnly.FromDateTime(asOf.UtcDateTime).DayNumber : null;
        var pilotLike = lifecycle.Phase == LifecyclePhase.Pilot || lifecycle.SuspendedPhase == LifecyclePhase.Pilot;
        return new ReportSystem(
            row.Slug,
            string.IsNullOrWhiteSpace(spec.Title) ? row.Title : spec.Title,
            spec.Owner,
            spec.Purpose,
            SpecEnum.ToName(spec.Risk),
            lifecycle.Phase.ToString().ToLowerInvariant(),
            stage,
            stageName,
            state.ConfigVersion,
            scope is null ? null : SpecEnum.ToName(scope.Mode),
            scope?.Label,
            scope?.Groups ?? [],
            ends,
            daysLeft,
            pilotLike && daysLeft < 0,
            state.Pause is { } pause ? new ReportPause(pause.By, pause.At, pause.Reason) : null);
    }

    private static ReportPilot PilotOf(PilotSpec? pilot) => pilot is null
        ? new ReportPilot(false, [], null, null, null, 0, 0)
        : new ReportPilot(true, pilot.Questions.Select(q => SpecEnum.ToName(q)).ToList(), pilot.Group, SpecEnum.ToName(pilot.Mode), pilot.Ends, pilot.MinSamples, pilot.Criteria.Count);

    private static ReportRealism Realism(EvalRunRow? run, List<string> categories, int errored, SystemMetricsView view, IReadOnlyDictionary<string, MetricValue> metrics)
    {
        var parsed = categories.Select(c => SpecEnum.TryParse<CaseCategory>(c, out var category) ? category : (CaseCategory?)null)
            .OfType<CaseCategory>().ToList();
        var coverage = TestSetCoverage.Of(parsed);
        var message = run is null ? "no finished evaluation run of the current config version: run 'pilotage eval' with a test set"
            : errored > 0 && categories.Count == 0 ? $"no case ran to a verdict: all {errored} errored (upstream failure, timeout or refusal by a control), so the run shows nothing about the system; fix the cause and run 'pilotage eval' again"
            : errored > 0 ? $"{coverage.Message}; {errored} more {(errored == 1 ? "case" : "cases")} errored and count nowhere: rerun them"
            : coverage.Message;
        var real = view.Totals.Requests;
        var evaluation = view.Evaluation?.Requests ?? 0;
        return new ReportRealism(
            run is null ? null : new ReportEvalRun(run.Id, run.TestSet, run.Status, run.ConfigVersion, run.StartedAt, run.Cases, categories.Count + errored, errored),
            MetricCatalogue.Categories.Select(c => new ReportCategoryCount(c, categories.Count(x => x == c), Fig(metrics, $"pass_rate.{c}"))).ToList(),
            coverage.Total,
            coverage.IsFlagged,
            coverage.Weak,
            message,
            real,
            evaluation,
            real + evaluation == 0 ? null : ReportFigure.Round((double)real / (real + evaluation)),
            errored);
    }

    private static ReportQuality Quality(EvidenceTotals ai, IReadOnlyDictionary<string, MetricValue> m) => new(
        ai.Reviewed,
        Fig(m, "acceptance_rate"),
        Fig(m, "edit_rate"),
        Fig(m, "rejection_rate"),
        Fig(m, "escalation_rate"),
        Fig(m, "rework"),
        Fig(m, "pass_rate"),
        MetricCatalogue.Categories.Select(c => new ReportNamedFigure(c, Fig(m, $"pass_rate.{c}"))).ToList(),
        Fig(m, "error_rate"));

    private static ReportReviewBurden ReviewBurden(SystemSpec spec, ReviewForecast forecast, IReadOnlyDictionary<string, MetricValue> m) => new(
        Fig(m, "review_minutes_per_task"),
        m.GetValueOrDefault("review_backlog")?.N ?? 0,
        m.GetValueOrDefault("review_backlog_hours")?.Value ?? 0,
        Fig(m, "review_capacity_utilisation"),
        spec.Review.MinutesPerDay,
        spec.Review.SlaHours,
        ReportFigure.Round(forecast.WaitHours),
        ReportFigure.Round(forecast.DaysUntilBreach),
        forecast.Summary);

    private static ReportValue Value(SystemSpec spec, SystemMetricsView view, IReadOnlyDictionary<string, MetricValue> m)
    {
        var net = Fig(m, "net_minutes_saved_per_task");
        var manual = view.Manual;
        var (baseline, source) = manual is { TaskCount: > 0 }
            ? (ReportFigure.Round(manual.TaskMinutes / manual.TaskCount), BaselineSource.Measured)
            : spec.Baseline.ManualMinutesPerTask is { } fromSpec ? ((double?)fromSpec, BaselineSource.Spec) : (null, BaselineSource.None);
        var sign = net.Value switch { null => ValueSign.Unknown, > 0 => ValueSign.Saves, < 0 => ValueSign.Costs, _ => ValueSign.Even };
        return new ReportValue(net, sign, baseline, source, manual?.TaskCount ?? 0, ReportText.NetMinutes(net, sign, source));
    }

    private static ReportCost Cost(SystemSpec spec, EvidenceTotals ai, IReadOnlyDictionary<string, MetricValue> m, double days)
    {
        var rate = spec.Review.HourlyRate;
        var labour = rate is { } r ? Math.Round((decimal)((ai.ReviewSeconds + ai.ReworkSeconds) / 3600) * r, 6) : 0m;
        var model = ai.Cost;
        var tasks = ai.Served + ai.Held;
        double? PerTask(decimal amount) => tasks > 0 ? ReportFigure.Round((double)amount / tasks) : null;
        double? PerDay(decimal amount) => ai.Requests > 0 ? ReportFigure.Round((double)amount / days) : null;
        return new ReportCost(
            model, labour, model + labour, rate is not null, rate, tasks, ReportFigure.Round(days),
            PerTask(model), rate is null ? null : PerTask(labour), Fig(m, "cost_per_task"),
            PerDay(model), rate is null ? null : PerDay(labour), Fig(m, "cost_per_day"),
            ai.TokensIn, ai.TokensOut);
    }

    private static ReportAdoption Adoption(IReadOnlyDictionary<string, MetricValue> m)
    {
        var adoption = Fig(m, "adoption");
        var active = adoption.Value is { } v ? (long)Math.Round(v * adoption.N) : 0;
        return new ReportAdoption(adoption, active, adoption.N, Fig(m, "feedback_mean"));
    }

    private static ReportRisk Risk(List<ReportIncidentCount> counts, IncidentFacts facts, long supportRequests, List<ReportIncident> recent, EvidenceTotals ai, IReadOnlyDictionary<string, MetricValue> m)
    {
        // Declaration order, the worst severity first.
        string[] kinds = [.. SpecEnum.Names<IncidentKind>()];
        string[] severities = [.. SpecEnum.Names<IncidentSeverity>().Reverse()];
        string[] statuses = [.. SpecEnum.Names<IncidentStatus>()];
        static int Rank(string[] order, string value) => Array.IndexOf(order, value) is var i and >= 0 ? i : order.Length;
        var ordered = counts
            .OrderBy(c => Rank(kinds, c.Kind)).ThenBy(c => c.Kind, StringComparer.Ordinal)
            .ThenBy(c => Rank(severities, c.Severity)).ThenBy(c => c.Severity, StringComparer.Ordinal)
            .ThenBy(c => Rank(statuses, c.Status)).ThenBy(c => c.Status, StringComparer.Ordinal)
            .ToList();
        return new ReportRisk(ordered, facts.Incidents, facts.HighOrCritical, facts.Unreviewed, facts.Complaints, supportRequests, recent,
            ai.Blocked, ai.Redacted, Fig(m, "blocked_rate"), Fig(m, "out_of_scope_rate"));
    }

    private static ReportControls Controls(IReadOnlyList<ReportRefusal> refusals, IReadOnlyList<ReportRefusal> failures, IReadOnlyList<AuditEntryRow> entries)
    {
        var kinds = entries.Select(e => KindOf(e.Action)).ToList();
        var events = entries.Select((e, i) => new ReportControlEvent(e.At, ReportVocabulary.Name(kinds[i]), e.Action, e.Actor, ReasonOf(e), Audit.AuditSentences.Describe(e.Action, e.Actor, e.After).Text)).ToList();
        return new ReportControls(refusals.Sum(r => r.Count), refusals, events,
            kinds.Count(k => k == ControlEventKind.Pause), kinds.Count(k => k == ControlEventKind.Resume), failures);
    }

    private static ControlEventKind KindOf(string action) => action switch
    {
        "system.paused" => ControlEventKind.Pause,
        "system.resumed" => ControlEventKind.Resume,
        "system.rule_fired" => ControlEventKind.Rule,
        _ => ControlEventKind.Restrict,
    };

    /// <summary>The reason recorded with a control event: a pause keeps it in the new state, a resume in its request.</summary>
    private static string? ReasonOf(AuditEntryRow entry)
    {
        if (string.IsNullOrEmpty(entry.After)) return null;
        try
        {
            using var doc = JsonDocument.Parse(entry.After);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            foreach (var name in new[] { "pauseReason", "reason", "message", "detail" })
            {
                if (doc.RootElement.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String) return value.GetString();
            }
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ReportCriteria Criteria(CriteriaEvaluation? evaluation, IReadOnlyDictionary<string, MetricValue> m)
    {
        if (evaluation is null)
        {
            return new ReportCriteria(false, [], new ReportRecommendation(
                ReportText.Name(RecommendationKind.InsufficientEvidence),
                "no pilot is defined (spec.pilot): there are no decision criteria to evaluate; define the pilot question and criteria (seed, steps 1 and 2)",
                [], [], null, null));
        }
        var verdicts = evaluation.Verdicts.Select(v =>
        {
            var figure = m.GetValueOrDefault(v.Metric);
            return new ReportVerdict(v.Metric, v.Min, v.Max, SpecEnum.ToName(v.Confidence), ReportFigure.Round(v.Value), ReportFigure.Round(v.Tested),
                figure?.Low, figure?.High, v.N, v.MinSamples, v.CountsTestCases, SpecEnum.ToName(v.Verdict),
                v.Else is { } e ? SpecEnum.ToName(e) : null, v.SamplesNeeded, v.Explanation);
        }).ToList();
        var r = evaluation.Recommendation;
        return new ReportCriteria(true, verdicts, new ReportRecommendation(ReportText.Name(r.Kind), r.Summary,
            r.Because.Select(v => v.Metric).ToList(), r.Pending.Select(v => v.Metric).ToList(), r.MoreSamplesNeeded, r.MoreTestCasesNeeded));
    }

    internal static ReportReadiness ReadinessOf(ReadinessReport readiness) => new(
        readiness.ReadyToProceed,
        readiness.Summary,
        readiness.Count(ReadinessStatus.Ok),
        readiness.Count(ReadinessStatus.Warning),
        readiness.Count(ReadinessStatus.Blocking),
        readiness.Count(ReadinessStatus.NeedsAnswer),
        readiness.Blockers,
        readiness.Answers.Select(a => new ReportReadinessAnswer(
            a.Question.Id,
            SpecEnum.ToName(a.Question.Group),
            ReadinessQuestions.Title(a.Question.Group),
            a.Question.Text,
            a.Question.Automatic,
            a.Question.BlocksProceed,
            SpecEnum.ToName(a.Status),
            a.Answer,
            a.Figure,
            a.Person is { } p ? new ReportPersonAnswer(p.Text, p.By, p.At) : null)).ToList());

    private static List<ReportTrendDay> Trend(IReadOnlyList<HourRow> rows)
    {
        if (rows.Count == 0) return [];
        var byDay = rows.GroupBy(r => (int)Math.Floor(r.Hour / 24.0)).ToDictionary(g => g.Key, g => g.ToList());
        var last = byDay.Keys.Max();
        var first = Math.Max(byDay.Keys.Min(), last - TrendDays + 1);
        var epoch = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        var days = new List<ReportTrendDay>();
        for (var day = first; day <= last; day++)
        {
            var hours = byDay.GetValueOrDefault(day) ?? [];
            var reviewed = hours.Sum(h => h.Reviewed);
            var accepted = hours.Sum(h => h.Accepted);
            days.Add(new ReportTrendDay(DateOnly.FromDayNumber(epoch + day), hours.Sum(h => h.Requests), hours.Sum(h => h.Served), hours.Sum(h => h.Refused),
                reviewed, accepted, reviewed > 0 ? ReportFigure.Round((double)accepted / reviewed) : null));
        }
        return days;
    }

    private static ReportFigure Fig(IReadOnlyDictionary<string, MetricValue> metrics, string name) => ReportFigure.From(metrics.GetValueOrDefault(name));
}

/// <summary>Sentences and names shared by the report's builder and renderers (invariant culture).</summary>
internal static class ReportText
{
    public const char Minus = '\u2212';

    public static string Name<T>(T value) where T : struct, Enum => SpecEnum.ToName(value);

    public static string Num(double value) =>
        value.ToString(Math.Abs(value) is > 0 and < 0.01 ? "0.######" : "0.##", CultureInfo.InvariantCulture);

    /// <summary>A signed number with a real minus sign: "+2.5", "−2.5".</summary>
    public static string Signed(double value) => value switch
    {
        > 0 => "+" + Num(value),
        < 0 => Minus + Num(-value),
        _ => "0",
    };

    public static string NetMinutes(ReportFigure net, ValueSign sign, BaselineSource baselineSource)
    {
        if (net.Value is not { } minutes)
        {
            return baselineSource == BaselineSource.None
                ? "unknown: no baseline (spec.baseline.manualMinutesPerTask or recorded manual task times)"
                : $"unknown: no reviewed tasks yet (n={net.N})";
        }
        var what = sign switch
        {
            ValueSign.Saves => "AI saves time",
            ValueSign.Costs => "AI costs time",
            _ => "AI neither saves nor costs time",
        };
        return $"{Signed(minutes)} min per task: {what} after review and rework (n={net.N}, baseline from {ReportVocabulary.Name(baselineSource)})";
    }
}
