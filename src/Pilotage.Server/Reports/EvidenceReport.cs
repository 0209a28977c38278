using System.Text.Json.Serialization;
using Pilotage.Core.Evidence;

namespace Pilotage.Server.Reports;

// The evidence report of design.md step 4 ("Review the evidence"), as immutable records. Its JSON
// rendering (ReportRenderer.Json) is what a decision stores with its SHA-256, so the shape is a
// contract: names are camelCase, lists are in a fixed order, time is the minute the report was built
// (AsOf) and every double is rounded to six decimals so the same evidence always gives the same bytes.

/// <summary>The whole evidence report of one system; see docs/report.md for each section.</summary>
/// <param name="SchemaVersion">Bumped when the shape changes, so a stored report can be read later (2: errored evaluation cases counted apart).</param>
/// <param name="AsOf">When the report was built, truncated to the minute (UTC): the clock every time-based figure uses.</param>
public sealed record EvidenceReport(
    int SchemaVersion,
    DateTimeOffset AsOf,
    ReportSystem System,
    ReportPilot Pilot,
    ReportRealism Realism,
    ReportQuality Quality,
    ReportReviewBurden Review,
    ReportValue Value,
    ReportCost Cost,
    ReportAdoption Adoption,
    ReportRisk Risk,
    ReportControls Controls,
    ReportCriteria Criteria,
    ReportReadiness Readiness,
    IReadOnlyList<ReportMistake> Mistakes,
    IReadOnlyList<ReportDecision> Decisions,
    IReadOnlyList<ReportTrendDay> Trend,
    ReportOutcomeMix Outcomes)
{
    public const int CurrentSchemaVersion = 2;

    /// <summary>
    /// SHA-256 (lower-case hex) of <see cref="ReportRenderer.Json"/> of this report: not part of the JSON
    /// itself, so hashing the stored JSON gives this value back.
    /// </summary>
    [JsonIgnore]
    public string Sha256 { get; init; } = "";
}

/// <summary>One catalogue figure as the report shows it: value, sample, 95 % Wilson bounds for rates.</summary>
/// <param name="Errors">For pass rates only: evaluation cases that errored, counted apart from <paramref name="N"/>.</param>
public sealed record ReportFigure(double? Value, long N, double? Low, double? High,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Errors = null)
{
    public static ReportFigure From(MetricValue? value) => value is null
        ? new ReportFigure(null, 0, null, null)
        : new ReportFigure(Round(value.Value), value.N, Round(value.Low), Round(value.High), value.Errors);

    internal static double? Round(double? value) => value is { } v ? Round(v) : null;

    /// <summary>Six decimals: far below anything shown, far above the noise of summing doubles in another order.</summary>
    internal static double Round(double value) =>
        double.IsFinite(value) ? Math.Round(value, 6, MidpointRounding.AwayFromZero) : 0;
}

/// <summary>Who and what the system is, and where it stands in its lifecycle.</summary>
/// <param name="Phase">proposed, pilot, decided, rollout, production, paused, restricted or retired.</param>
/// <param name="Stage">Rollout stage index (0-based) when in rollout.</param>
/// <param name="StageName">The rollout stage's name, when in rollout.</param>
/// <param name="Mode">The mode the gateway serves in now; null when the system does not serve.</param>
/// <param name="Scope">What the gateway serves now, e.g. "pilot" or "rollout stage 1 (team-a)".</param>
/// <param name="DaysLeft">Days until the pilot's end date (0 on the last day); null when there is no pilot end.</param>
/// <param name="Expired">True when the pilot's end date has passed (the gateway refuses until a decision).</param>
public sealed record ReportSystem(
    string Slug,
    string Title,
    string Owner,
    string Purpose,
    string Risk,
    string Phase,
    int Stage,
    string? StageName,
    int ConfigVersion,
    string? Mode,
    string? Scope,
    IReadOnlyList<string> Groups,
    DateOnly? PilotEnds,
    int? DaysLeft,
    bool Expired,
    ReportPause? Pause);

public sealed record ReportPause(string By, DateTimeOffset At, string Reason);

/// <summary>What the pilot tested: its questions, group, mode, time box and criteria count.</summary>
public sealed record ReportPilot(
    bool Defined,
    IReadOnlyList<string> Questions,
    string? Group,
    string? Mode,
    DateOnly? Ends,
    int MinSamples,
    int Criteria);

/// <summary>How realistic the evidence is: test case categories of the latest evaluation, and real traffic vs test cases.</summary>
/// <param name="EvalRun">The evaluation run the categories come from (latest finished run of the current config version).</param>
/// <param name="Categories">Cases per category, in catalogue order (all five, 0 when none).</param>
/// <param name="Flagged">True when the run tests only easy examples (no case outside <c>normal</c>).</param>
/// <param name="Weak">True when fewer than three categories have a case.</param>
/// <param name="CoverageMessage">What is wrong with the coverage and what to add, or that it is complete.</param>
/// <param name="RealRequests">Real requests through the gateway (roll-ups, kind <c>ai</c>).</param>
/// <param name="EvaluationRequests">Evaluation test cases sent through the gateway (roll-ups, kind <c>eval</c>).</param>
/// <param name="RealShare">Real requests over real + evaluation requests; null when there were none.</param>
/// <param name="TestCases">Cases of the run that ran to a verdict (errored ones are not coverage).</param>
/// <param name="Errors">Cases of the run that errored (upstream failure, timeout, refusal by a control): in no count above, no pass rate.</param>
public sealed record ReportRealism(
    ReportEvalRun? EvalRun,
    IReadOnlyList<ReportCategoryCount> Categories,
    int TestCases,
    bool Flagged,
    bool Weak,
    string CoverageMessage,
    long RealRequests,
    long EvaluationRequests,
    double? RealShare,
    int Errors = 0);

/// <param name="Recorded">Cases recorded, errored ones included.</param>
/// <param name="Errors">Recorded cases that errored.</param>
public sealed record ReportEvalRun(long Id, string TestSet, string Status, int ConfigVersion, DateTimeOffset StartedAt, int Cases, int Recorded, int Errors = 0);

/// <param name="Cases">Cases of the category that ran to a verdict.</param>
/// <param name="PassRate">pass_rate.&lt;category&gt; of the same run (its <c>errors</c> are the category's errored cases).</param>
public sealed record ReportCategoryCount(string Category, int Cases, ReportFigure PassRate);

/// <summary>Review outcomes of real traffic and evaluation pass rates.</summary>
public sealed record ReportQuality(
    long Reviewed,
    ReportFigure Acceptance,
    ReportFigure Edit,
    ReportFigure Rejection,
    ReportFigure Escalation,
    ReportFigure Rework,
    ReportFigure PassRate,
    IReadOnlyList<ReportNamedFigure> PassRateByCategory,
    ReportFigure ErrorRate);

public sealed record ReportNamedFigure(string Name, ReportFigure Figure);

/// <summary>How much human review the AI needs and whether reviewers keep up.</summary>
/// <param name="DaysUntilBreach">0 when the review SLA is already broken; null when it is not expected to break.</param>
public sealed record ReportReviewBurden(
    ReportFigure MinutesPerTask,
    long Backlog,
    double BacklogOldestHours,
    ReportFigure Utilisation,
    int? CapacityMinutesPerDay,
    double? SlaHours,
    double? WaitHours,
    double? DaysUntilBreach,
    string Forecast);

/// <summary>Whether the AI saves time once review and rework are counted.</summary>
/// <param name="Sign">saves, costs, even, or unknown (no baseline or no reviews).</param>
/// <param name="BaselineSource">measured (manual work recorded in Pilotage), spec (spec.baseline.manualMinutesPerTask) or none.</param>
/// <param name="Statement">One line: "+2.5 min per task: AI saves time" or "−2.5 min per task: AI costs time".</param>
public sealed record ReportValue(
    ReportFigure NetMinutesSavedPerTask,
    ValueSign Sign,
    double? BaselineMinutesPerTask,
    BaselineSource BaselineSource,
    long ManualTasks,
    string Statement);

/// <summary>Model cost and review labour, per task, per day and in total.</summary>
/// <param name="Days">The span the evidence covers, in days (first to last hour with real traffic).</param>
/// <param name="Tasks">Answers served or held (the denominator of cost per task).</param>
/// <param name="ReviewLabourPriced">False when spec.review.hourlyRate is unset: review labour is then not in the figures.</param>
public sealed record ReportCost(
    decimal ModelCost,
    decimal ReviewLabourCost,
    decimal TotalCost,
    bool ReviewLabourPriced,
    decimal? HourlyRate,
    long Tasks,
    double Days,
    double? ModelCostPerTask,
    double? ReviewLabourPerTask,
    ReportFigure CostPerTask,
    double? ModelCostPerDay,
    double? ReviewLabourPerDay,
    ReportFigure CostPerDay,
    long TokensIn,
    long TokensOut);

/// <param name="ActiveUsers">People who used the system (adoption's numerator).</param>
/// <param name="EligibleUsers">People who may use it in its current scope (adoption's n).</param>
public sealed record ReportAdoption(ReportFigure Adoption, long ActiveUsers, long EligibleUsers, ReportFigure FeedbackMean);

/// <summary>Risk signals: incidents, complaints, support requests, the data boundary and out-of-scope use.</summary>
public sealed record ReportRisk(
    IReadOnlyList<ReportIncidentCount> Incidents,
    long IncidentsTotal,
    long HighOrCritical,
    long Unreviewed,
    long Complaints,
    long SupportRequests,
    IReadOnlyList<ReportIncident> Recent,
    long Blocked,
    long Redacted,
    ReportFigure BlockedRate,
    ReportFigure OutOfScopeRate);

/// <param name="Kind">incident, complaint or support_request.</param>
public sealed record ReportIncidentCount(string Kind, string Severity, string Status, long Count);

public sealed record ReportIncident(long Id, string Kind, string Severity, string Status, string Title, DateTimeOffset ReportedAt);

/// <summary>Whether the controls worked in practice: what the gateway refused and the pauses and resumes.</summary>
/// <param name="Refused">All refused requests of the system (real and evaluation).</param>
/// <param name="FailuresByReason">Requests that failed upstream (real and evaluation), by code: <c>upstream_unreachable</c>, <c>upstream_timeout</c>…</param>
public sealed record ReportControls(
    long Refused,
    IReadOnlyList<ReportRefusal> RefusalsByReason,
    IReadOnlyList<ReportControlEvent> Events,
    int Pauses,
    int Resumes,
    IReadOnlyList<ReportRefusal> FailuresByReason);

/// <param name="Code">The refusal or failure code (e.g. <c>data_boundary_blocked</c>, <c>not_in_allowed_group</c>, <c>system_paused</c>, <c>upstream_timeout</c>).</param>
public sealed record ReportRefusal(string Code, long Count);

/// <param name="Kind">pause, resume, restrict or rule (a pause rule fired).</param>
/// <param name="Text">The event as a sentence ("Paused by the pause rule on rejection_rate: …"), from <see cref="Audit.AuditSentences"/>.</param>
public sealed record ReportControlEvent(DateTimeOffset At, string Kind, string Action, string Actor, string? Reason, string Text);

/// <summary>The pilot criteria verdicts and what they recommend.</summary>
public sealed record ReportCriteria(
    bool Evaluated,
    IReadOnlyList<ReportVerdict> Verdicts,
    ReportRecommendation Recommendation);

/// <param name="Verdict">pass, fail or insufficient_evidence.</param>
/// <param name="Else">The outcome the criterion names when it fails.</param>
public sealed record ReportVerdict(
    string Metric,
    double? Min,
    double? Max,
    string Confidence,
    double? Value,
    double? Tested,
    double? Low,
    double? High,
    long N,
    long MinSamples,
    bool CountsTestCases,
    string Verdict,
    string? Else,
    long? SamplesNeeded,
    string Explanation);

/// <param name="Kind">proceed, narrow, repilot, redesign, stop or insufficient_evidence.</param>
/// <param name="Because">Metrics of the verdicts that decided it.</param>
public sealed record ReportRecommendation(
    string Kind,
    string Summary,
    IReadOnlyList<string> Because,
    IReadOnlyList<string> Pending,
    long? MoreSamplesNeeded,
    long? MoreTestCasesNeeded);

/// <summary>The seed's twenty readiness questions, answered.</summary>
public sealed record ReportReadiness(
    bool ReadyToProceed,
    string Summary,
    int Ok,
    int Warnings,
    int Blocking,
    int NeedsAnswer,
    IReadOnlyList<string> Blockers,
    IReadOnlyList<ReportReadinessAnswer> Questions);

/// <param name="Group">pilot_evidence, production_readiness, rollout_design or value_and_cost.</param>
/// <param name="Status">ok, warning, blocking or needs_answer.</param>
public sealed record ReportReadinessAnswer(
    string Id,
    string Group,
    string GroupTitle,
    string Text,
    bool Automatic,
    bool BlocksProceed,
    string Status,
    string Answer,
    string? Figure,
    ReportPersonAnswer? Person);

public sealed record ReportPersonAnswer(string Text, string By, DateTimeOffset At);

/// <summary>One of the seed's six common mistakes: always listed, found or not.</summary>
public sealed record ReportMistake(string Id, string Title, bool Found, string? Detail, string Why);

public sealed record ReportDecision(
    long Id,
    string Outcome,
    string Reason,
    string DecidedBy,
    DateTimeOffset DecidedAt,
    string FromPhase,
    int FromStage,
    string ToPhase,
    int ToStage,
    bool Override,
    string? EvidenceHash);

/// <summary>Real traffic of one UTC day, from the hourly roll-ups.</summary>
/// <param name="AcceptanceRate">Accepted over reviewed that day; null when nothing was reviewed.</param>
public sealed record ReportTrendDay(DateOnly Day, long Requests, long Served, long Refused, long Reviewed, long Accepted, double? AcceptanceRate);

/// <summary>What reviewers decided about real answers, plus what still waits.</summary>
public sealed record ReportOutcomeMix(long Accepted, long Edited, long Rejected, long Escalated, long Pending)
{
    public long Reviewed => Accepted + Edited + Rejected + Escalated;
}
