using System.Globalization;
using Pilotage.Core.Metrics;
using Pilotage.Core.Pilots;

namespace Pilotage.Server.Reports;

/// <summary>
/// How the report's figures read as text, shared by the Markdown writer, the HTML components and the
/// dashboard: one wording per figure, invariant culture, no markup (each renderer encodes for itself).
/// </summary>
public static class ReportFormat
{
    /// <summary>Amounts carry no currency sign: they are in whatever currency the spec's prices are written in.</summary>
    public const string CostUnit = "Amounts are in the currency of the spec's prices (upstream.pricePer1kInput / pricePer1kOutput, review.hourlyRate).";

    public static string PhaseText(ReportSystem s) =>
        s.Phase + (s.StageName is { } stage ? $", stage {Whole(s.Stage + 1)} ({stage})" : "");

    public static string PilotEndText(ReportSystem s) => s.PilotEnds is not { } ends
        ? "no pilot end date"
        : s.DaysLeft switch
        {
            null => DayText(ends),
            < 0 when s.Expired => $"{DayText(ends)}: expired {Whole(-s.DaysLeft.Value)} days ago; the gateway refuses until a decision is recorded",
            < 0 => $"{DayText(ends)} (passed)",
            0 => $"{DayText(ends)}: last day",
            var d => $"{DayText(ends)}: {Whole(d.Value)} days left",
        };

    public static string PilotText(ReportPilot p) => !p.Defined
        ? "No pilot is defined (spec.pilot): the pilot question, group, mode, time box and criteria are missing."
        : $"Questions: {(p.Questions.Count == 0 ? "none named" : string.Join(", ", p.Questions))}. Group {p.Group}, {p.Mode} mode, ends {(p.Ends is { } e ? DayText(e) : "—")}, "
          + $"minimum sample {Whole(p.MinSamples)}, {Whole(p.Criteria)} decision {(p.Criteria == 1 ? "criterion" : "criteria")}.";

    public static string RealismText(ReportRealism r)
    {
        var run = r.EvalRun is { } e ? $"Latest evaluation: run {Whole(e.Id)} of '{e.TestSet}' ({e.Status}, config v{Whole(e.ConfigVersion)}), {Whole(r.TestCases)} cases: " : "";
        var share = r.RealShare is { } sh ? $"real traffic is {Pct(sh)}" : "nothing evaluated yet";
        return $"{run}{r.CoverageMessage}. {Whole(r.RealRequests)} real requests vs {Whole(r.EvaluationRequests)} evaluation requests: {share}.";
    }

    /// <summary>A run whose every case errored tested nothing: that is what the badge says, not "easy examples".</summary>
    public static (string Flag, string Label) RealismBadge(ReportRealism r) =>
        r.EvalRun is not null && r.TestCases == 0 && r.Errors > 0 ? ("bad", "not evaluated: every case errored")
        : r.Flagged ? ("bad", "easy examples only")
        : r.Weak ? ("warn", "weak coverage")
        : ("good", "coverage");

    public static string ValueText(ReportValue v)
    {
        var baseline = v.BaselineSource switch
        {
            BaselineSource.Measured => $"baseline {Num(v.BaselineMinutesPerTask ?? 0)} min per task, measured from {Whole(v.ManualTasks)} manual tasks",
            BaselineSource.Spec => $"baseline {Num(v.BaselineMinutesPerTask ?? 0)} min per task from the spec (spec.baseline.manualMinutesPerTask), not measured",
            _ => "no baseline",
        };
        return $"{v.Statement}; {baseline}.";
    }

    /// <summary>"+2.5 min", "−1 min" or "unknown": the value section's headline.</summary>
    public static string NetMinutesHeadline(ReportValue v) =>
        v.NetMinutesSavedPerTask.Value is { } minutes ? $"{ReportText.Signed(minutes)} min" : "unknown";

    public static string AdoptionText(ReportAdoption a) => a.Adoption.Value is { } v
        ? $"{Whole(a.ActiveUsers)} of {Whole(a.EligibleUsers)} eligible users ({Pct(v)}{Interval(a.Adoption)})"
        : $"no eligible users (n={Whole(a.EligibleUsers)})";

    public static string RiskText(ReportRisk r) =>
        $"{Whole(r.IncidentsTotal)} incidents ({Whole(r.HighOrCritical)} high or critical, {Whole(r.Unreviewed)} not yet reviewed), {Whole(r.Complaints)} complaints, "
        + $"{Whole(r.SupportRequests)} support requests. Data boundary: {Whole(r.Blocked)} blocked ({Rate(r.BlockedRate)}), {Whole(r.Redacted)} redacted. "
        + $"Out of scope: {Rate(r.OutOfScopeRate)}.";

    public static string OutcomeText(ReportOutcomeMix m) =>
        $"{Whole(m.Accepted)} accepted, {Whole(m.Edited)} edited, {Whole(m.Rejected)} rejected, {Whole(m.Escalated)} escalated of {Whole(m.Reviewed)} reviewed; {Whole(m.Pending)} waiting";

    public static string RecommendationTitle(string kind) =>
        ReportVocabulary.ParseRecommendation(kind) == Core.Pilots.RecommendationKind.InsufficientEvidence ? "keep collecting (insufficient evidence)" : kind;

    public static string Threshold(ReportVerdict v)
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

    public static string VerdictFigure(ReportVerdict v) => v.Value is not { } value
        ? "no figure"
        : Num(value) + UnitSuffix(v.Metric) + (v.Low is { } lo && v.High is { } hi ? $" (95% CI {Num(lo)}–{Num(hi)})" : "");

    public static string Sample(ReportVerdict v) => MetricUnits.SamplesAgainstMinimum(v.N, v.MinSamples, v.CountsTestCases);

    /// <summary>" min", " ms", " per day" after a figure in the spec's scale (the metric catalogue's unit); nothing for rates.</summary>
    public static string UnitSuffix(string metric) => MetricCatalogue.UnitOf(metric) is { } unit ? MetricUnits.Suffix(unit) : "";

    /// <summary>"84.2% (n=212, 95% CI 79.1–88.4%)", or "no figure yet (n=0)".</summary>
    public static string Rate(ReportFigure f) => f.Value is { } v
        ? $"{Pct(v)} (n={Whole(f.N)}{Errored(f)}{Interval(f)})"
        : $"no figure yet (n={Whole(f.N)}{Errored(f)})";

    private static string Errored(ReportFigure f) => f.Errors is > 0 and { } errors ? $", {Whole(errors)} errored, not counted" : "";

    private static string Interval(ReportFigure f) => f.Low is { } lo && f.High is { } hi ? $", 95% CI {Pct(lo)}–{Pct(hi)}" : "";

    /// <summary>"3.2 min (n=40)" for figures without an interval.</summary>
    public static string Mean(ReportFigure f, string unit) => f.Value is { } v
        ? $"{Num(v)}{unit} (n={Whole(f.N)})"
        : $"no figure yet (n={Whole(f.N)})";

    public static string Opt(double? value) => value is { } v ? Num(v) : "—";

    public static string Money(decimal value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    public static string Num(double value) => ReportText.Num(value);

    public static string Pct(double rate) => (rate * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    public static string Whole(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Px(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string DayText(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Groups(IReadOnlyList<string> groups) => groups.Count == 0 ? "everyone signed in" : string.Join(", ", groups);

    /// <summary>The first twelve characters of a hash, as tables show it.</summary>
    public static string ShortHash(string hash) => hash[..Math.Min(12, hash.Length)];

    /// <summary>"good", "bad", "warn" or "muted": the badge colour of a verdict, readiness status or value sign.</summary>
    public static string VerdictClass(string verdict) => ReportVocabulary.ParseVerdict(verdict) switch { Verdict.Pass => "good", Verdict.Fail => "bad", _ => "warn" };

    public static string StatusClass(string status) => ReportVocabulary.ParseReadiness(status) switch { ReadinessStatus.Ok => "good", ReadinessStatus.Blocking => "bad", ReadinessStatus.Warning => "warn", _ => "muted" };

    public static string SignClass(ValueSign sign) => sign switch { ValueSign.Saves => "good", ValueSign.Costs => "bad", _ => "muted" };

    public static string TrendCaption(IReadOnlyList<ReportTrendDay> trend) => trend.Count == 0
        ? "Daily trend: no real traffic yet."
        : $"Daily trend over {Whole(trend.Count)} UTC days{(trend.Count > TrendChartDays ? $" (last {TrendChartDays} shown)" : "")}: {Whole(trend.Sum(d => d.Requests))} requests, {Whole(trend.Sum(d => d.Reviewed))} reviewed.";

    /// <summary>The trend chart draws the most recent days only, so its bars stay readable.</summary>
    public const int TrendChartDays = 60;
}
