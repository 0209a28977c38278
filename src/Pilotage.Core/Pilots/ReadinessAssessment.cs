using System.Text.Json.Serialization;
using Pilotage.Core.Evidence;
using Pilotage.Core.Metrics;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

[JsonConverter(typeof(JsonStringEnumConverter<ReadinessStatus>))]
public enum ReadinessStatus
{
    Ok,
    Warning,
    /// <summary>Stops a proceed decision (only questions with <see cref="ReadinessQuestion.BlocksProceed"/>).</summary>
    Blocking,
    /// <summary>The system cannot answer from its own state and no person has yet.</summary>
    NeedsAnswer,
}

/// <summary>The answer to one readiness question.</summary>
/// <param name="Question">The question.</param>
/// <param name="Status">ok, warning, blocking or needs an answer.</param>
/// <param name="Answer">A sentence a person can read; for a person's answer, their text.</param>
/// <param name="Figure">The compact figure that answers it ("3 of 5 categories; real traffic 62%"), when there is one.</param>
/// <param name="Person">A person's answer or note, when given. It never turns a fact-based warning or block into
/// ok: the facts are what the gateway enforces, and a note cannot change them.</param>
public sealed record ReadinessAnswer(ReadinessQuestion Question, ReadinessStatus Status, string Answer, string? Figure, PersonAnswer? Person);

/// <summary>All twenty answers and whether a proceed decision is possible.</summary>
/// <param name="Answers">In the seed's order.</param>
/// <param name="ReadyToProceed">True when no answer is blocking.</param>
/// <param name="Blockers">"question: answer" for every blocking answer.</param>
public sealed record ReadinessReport(IReadOnlyList<ReadinessAnswer> Answers, bool ReadyToProceed, IReadOnlyList<string> Blockers)
{
    public ReadinessAnswer this[string id] => Answers.First(a => a.Question.Id == id);

    public int Count(ReadinessStatus status) => Answers.Count(a => a.Status == status);

    public string Summary =>
        $"{Count(ReadinessStatus.Ok)} ok, {Count(ReadinessStatus.Warning)} warnings, {Count(ReadinessStatus.Blocking)} blocking, "
        + $"{Count(ReadinessStatus.NeedsAnswer)} need an answer; "
        + (ReadyToProceed ? "nothing blocks a proceed decision" : "a proceed decision is blocked");
}

/// <summary>
/// The seed's twenty readiness questions answered from the system's own state where it can be, and by a
/// person otherwise (design.md, "Rules that are code"). Pure: every fact comes in through
/// <see cref="ReadinessFacts"/>.
/// </summary>
public static class ReadinessAssessment
{
    public static ReadinessReport Assess(ReadinessFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var answers = ReadinessQuestions.All.Select(q => Answer(q, facts)).ToArray();
        var blockers = answers
            .Where(a => a.Status == ReadinessStatus.Blocking)
            .Select(a => $"{a.Question.Text} {a.Answer}")
            .ToArray();
        return new ReadinessReport(answers, blockers.Length == 0, blockers);
    }

    private static ReadinessAnswer Answer(ReadinessQuestion question, ReadinessFacts facts)
    {
        var person = facts.PersonAnswers.GetValueOrDefault(question.Id);
        var (status, answer, figure) = question.Id switch
        {
            ReadinessQuestions.WhatTested => WhatTested(facts),
            ReadinessQuestions.ExamplesRealistic => ExamplesRealistic(facts),
            ReadinessQuestions.QualityIssues => QualityIssues(facts),
            ReadinessQuestions.ReviewRequired => ReviewRequired(facts),
            ReadinessQuestions.WithinScope => WithinScope(facts),
            ReadinessQuestions.Owner => Owner(facts),
            ReadinessQuestions.Training => Training(facts),
            ReadinessQuestions.Monitoring => Monitoring(facts),
            ReadinessQuestions.Incidents => Incidents(facts),
            ReadinessQuestions.WhoCanPause => WhoCanPause(facts),
            ReadinessQuestions.OneTeamFirst => OneTeamFirst(facts),
            ReadinessQuestions.DraftFirst => DraftFirst(facts),
            ReadinessQuestions.ReadOnlyFirst => ReadOnlyFirst(facts),
            ReadinessQuestions.RiskyTasks => RiskyTasks(facts),
            ReadinessQuestions.ExpansionConditions => ExpansionConditions(facts),
            ReadinessQuestions.TimeSaved => TimeSaved(facts),
            ReadinessQuestions.QualityOrSpeed => QualityOrSpeed(facts),
            ReadinessQuestions.SupportBurden => SupportBurden(facts),
            ReadinessQuestions.HiddenCosts => HiddenCosts(facts),
            ReadinessQuestions.Continue => Continue(facts),
            _ => Result.Need("no automatic answer", null),
        };
        // A person fills a gap the system cannot see into; their answer resolves "needs an answer" only.
        if (status == ReadinessStatus.NeedsAnswer && person is not null)
        {
            return new ReadinessAnswer(question, ReadinessStatus.Ok, person.Text, figure, person);
        }
        return new ReadinessAnswer(question, status, answer, figure, person);
    }

    private readonly record struct Result(ReadinessStatus Status, string Answer, string? Figure)
    {
        public static Result Ok(string answer, string? figure) => new(ReadinessStatus.Ok, answer, figure);
        public static Result Warn(string answer, string? figure) => new(ReadinessStatus.Warning, answer, figure);
        public static Result Block(string answer, string? figure) => new(ReadinessStatus.Blocking, answer, figure);
        public static Result Need(string answer, string? figure) => new(ReadinessStatus.NeedsAnswer, answer, figure);
    }

    // ---- pilot evidence ----

    private static Result WhatTested(ReadinessFacts f)
    {
        var questions = string.Join(", ", f.PilotQuestions.Select(q => SpecEnum.ToName(q)));
        var criteria = f.PilotCriteria.Count;
        var figure = $"questions: {(questions.Length == 0 ? "none" : questions)}; {Figures.Plural(criteria, "criterion", "criteria")}";
        if (f.PilotQuestions.Count == 0 && criteria == 0)
        {
            return Result.Warn("the pilot names no question and no decision criteria: it tested nothing in particular", figure);
        }
        if (f.PilotQuestions.Count == 0)
        {
            return Result.Warn($"the pilot names no question (spec.pilot.questions); it has {Figures.Plural(criteria, "criterion", "criteria")}", figure);
        }
        if (criteria == 0)
        {
            return Result.Warn($"the pilot tests {questions} but sets no decision criteria, so no result can decide it", figure);
        }
        return Result.Ok($"the pilot tests {questions}, judged by {Figures.Plural(criteria, "criterion", "criteria")} ({string.Join(", ", f.PilotCriteria.Select(c => c.Metric))})", figure);
    }

    private static Result ExamplesRealistic(ReadinessFacts f)
    {
        var coverage = Coverage.Of(f);
        var figure = coverage.Figure;
        if (coverage.TestCases == 0 && f.RealInteractions == 0)
        {
            return Result.Warn("nothing was evaluated: no test cases and no real traffic", figure);
        }
        var gaps = coverage.Gaps();
        return gaps.Count == 0
            ? Result.Ok($"realistic: test cases in all five categories and real traffic is {Figures.Percent(coverage.RealShare)} of what was evaluated", figure)
            : Result.Warn($"partly selected: {string.Join("; ", gaps)}", figure);
    }

    private static Result QualityIssues(ReadinessFacts f)
    {
        var reviewed = Figure(f, "acceptance_rate");
        var pass = Figure(f, "pass_rate");
        var parts = new List<string>();
        if (reviewed is { N: > 0 })
        {
            parts.Add($"of {Figures.Int(reviewed.N)} reviewed: accepted {Rate(f, "acceptance_rate")}, edited {Rate(f, "edit_rate")}, rejected {Rate(f, "rejection_rate")}, escalated {Rate(f, "escalation_rate")}");
        }
        if (pass is { Value: { } p, N: > 0 })
        {
            parts.Add($"pass rate {Figures.Percent(p)} of {Figures.Plural(pass.N, "test case", "test cases")}");
        }
        parts.Add($"{Figures.Plural(f.Incidents.HighOrCritical, "high or critical incident", "high or critical incidents")}");
        var figure = string.Join("; ", parts);
        var failing = (f.Criteria?.Verdicts ?? [])
            .Where(v => v.Verdict == Verdict.Fail && PilotThresholds.IsQualityMetric(v.Metric))
            .Select(v => v.Explanation)
            .ToArray();
        if (failing.Length > 0)
        {
            return Result.Warn($"quality criteria fail: {string.Join("; ", failing)}", figure);
        }
        if (f.Incidents.HighOrCritical > 0)
        {
            return Result.Warn($"{Figures.Plural(f.Incidents.HighOrCritical, "high or critical incident", "high or critical incidents")} occurred", figure);
        }
        if (reviewed is not { N: > 0 } && pass is not { N: > 0 })
        {
            return Result.Need("no reviews and no evaluations yet: quality has not been measured", figure);
        }
        return Result.Ok($"no quality criterion fails; {figure}", figure);
    }

    private static Result ReviewRequired(ReadinessFacts f)
    {
        var minutes = Figure(f, "review_minutes_per_task");
        if (minutes is not { Value: { } m, N: > 0 })
        {
            return Result.Need(PilotThresholds.NeedsReview(f.Mode)
                ? $"the {SpecEnum.ToName(f.Mode)} mode expects review, but no review is recorded yet"
                : "no review is recorded", null);
        }
        var figure = $"{Figures.Num(m)} review minutes per task over {Figures.Plural(minutes.N, "review", "reviews")}"
                     + (Figure(f, "rework") is { Value: { } r } ? $"; rework {MetricCatalogue.Format("rework", r)} of an answer" : "")
                     + (f.ReviewForecast is { Utilisation: { } u } ? $"; {Figures.Percent(u)} of review capacity" : "");
        if (f.ReviewForecast is { DaysUntilBreach: { } days } forecast && days <= PilotThresholds.ReviewBreachHorizonDays)
        {
            return Result.Warn($"more than reviewers can carry: {forecast.Summary}", figure);
        }
        return Result.Ok(f.ReviewForecast is { } fc ? $"{figure}; {fc.Summary}" : figure, figure);
    }

    private static Result WithinScope(ReadinessFacts f)
    {
        var oos = Figure(f, "out_of_scope_rate");
        if (oos is not { Value: { } rate, N: > 0 })
        {
            return Result.Need("no reviewed interactions to tell whether use stayed within scope", null);
        }
        var figure = $"out of scope {Figures.Percent(rate)} of {Figures.Int(oos.N)} reviewed"
                     + (Figure(f, "blocked_rate") is { Value: { } b } ? $"; data boundary blocked {Figures.Percent(b)} of requests" : "");
        return rate <= PilotThresholds.MaxOutOfScopeRate
            ? Result.Ok($"mostly within scope: {figure}", figure)
            : Result.Warn($"use strays beyond scope: {figure} (above {Figures.Percent(PilotThresholds.MaxOutOfScopeRate)})", figure);
    }

    // ---- production readiness ----

    private static Result Owner(ReadinessFacts f)
    {
        if (f.Owner is not { } owner)
        {
            return Result.Block("nobody: set spec.owner to the accountable person", "no owner");
        }
        return f.OwnerStatus switch
        {
            OwnerStatus.Active => Result.Ok($"{owner}, an active user", owner),
            OwnerStatus.Inactive => Result.Block($"{owner} is no longer an active user: name a new owner", $"{owner} (inactive)"),
            _ => Result.Block($"{owner} is not a known user: add them (pilotage users add) or name another owner", $"{owner} (unknown)"),
        };
    }

    private static Result Training(ReadinessFacts f)
    {
        var text = f.Training.Text;
        if (f.Training.Required && !string.IsNullOrWhiteSpace(text))
        {
            return Result.Ok($"users must acknowledge before use: \"{Shorten(text)}\"", "required, with text");
        }
        if (!string.IsNullOrWhiteSpace(text))
        {
            return Result.Warn($"training text exists but acknowledgement is not required (spec.training.required): \"{Shorten(text)}\"", "text, not required");
        }
        return Result.Warn("no training defined (spec.training): broader users get no guidance before use", "none");
    }

    private static Result Monitoring(ReadinessFacts f)
    {
        var rules = f.PauseRules;
        var watched = string.Join(", ", rules.Select(r => r.Metric).Distinct());
        var figure = $"{Figures.Plural(rules.Count, "pause rule", "pause rules")}{(rules.Count > 0 ? $" on {watched}" : "")}; "
                     + $"{Figures.Plural(f.Metrics.Count > 0 ? f.Metrics.Count : MetricCatalogue.Names.Count, "metric", "metrics")} computed";
        if (rules.Count == 0)
        {
            return Result.Block("figures are computed but nothing acts on them: no pause rules (spec.pauseRules)", figure);
        }
        if (!rules.Any(r => PilotThresholds.IsQualityMetric(r.Metric)))
        {
            return Result.Warn($"pause rules watch only {watched}: none would stop bad answers", figure);
        }
        return Result.Ok($"every catalogue metric is computed continuously and {Figures.Plural(rules.Count, "pause rule acts", "pause rules act")} on {watched}", figure);
    }

    private static Result Incidents(ReadinessFacts f)
    {
        var i = f.Incidents;
        var figure = $"{Figures.Plural(i.Incidents, "incident", "incidents")} ({Figures.Int(i.HighOrCritical)} high or critical), "
                     + $"{Figures.Plural(i.Complaints, "complaint", "complaints")}; {Figures.Int(i.Unreviewed + i.UnreviewedComplaints)} awaiting review";
        if (i.UnreviewedHighOrCritical > 0)
        {
            return Result.Block($"{Figures.Plural(i.UnreviewedHighOrCritical, "high or critical incident has", "high or critical incidents have")} not been reviewed", figure);
        }
        if (i.Unreviewed > 0 || i.UnreviewedComplaints > 0)
        {
            return Result.Warn($"reviews lag: {Figures.Plural(i.Unreviewed, "incident", "incidents")} and {Figures.Plural(i.UnreviewedComplaints, "complaint", "complaints")} not yet reviewed", figure);
        }
        return Result.Ok($"every incident and complaint has been reviewed by the owner; {figure}", figure);
    }

    private static Result WhoCanPause(ReadinessFacts f)
    {
        var ownerCan = f.Owner is not null && f.OwnerStatus == OwnerStatus.Active;
        var people = (ownerCan ? 1 : 0) + Math.Max(0, f.AdminCount);
        var who = new List<string>();
        if (ownerCan) who.Add($"{f.Owner} (owner)");
        if (f.AdminCount > 0) who.Add(Figures.Plural(f.AdminCount, "admin", "admins"));
        var automatic = f.PauseRules.Count > 0 ? $"; {Figures.Plural(f.PauseRules.Count, "pause rule acts", "pause rules act")} automatically" : "";
        var figure = $"{Figures.Plural(people, "person", "people")}{automatic}";
        if (people == 0)
        {
            return Result.Block($"nobody: no active owner and no admin{automatic}", figure);
        }
        if (people == 1)
        {
            return Result.Warn($"only {who[0]} can pause: nobody covers their absence{automatic}", figure);
        }
        return Result.Ok($"{string.Join(" and ", who)} can pause or restrict{automatic}", figure);
    }

    // ---- rollout design ----

    private static Result OneTeamFirst(ReadinessFacts f)
    {
        if (f.Rollout.Count == 0)
        {
            return Result.Warn("no rollout stages: a proceed decision leads straight to production", "no stages");
        }
        var first = f.Rollout[0];
        var figure = $"first stage '{first.Name}': {Figures.Plural(first.Groups.Count, "group", "groups")}";
        return first.Groups.Count switch
        {
            1 => Result.Ok($"yes: the first stage '{first.Name}' is limited to {first.Groups[0]}", figure),
            0 => Result.Warn($"the first stage '{first.Name}' names no group", figure),
            _ => Result.Warn($"the first stage '{first.Name}' opens to {string.Join(", ", first.Groups)} at once", figure),
        };
    }

    private static Result DraftFirst(ReadinessFacts f)
    {
        if (f.Rollout.Count == 0)
        {
            return Result.Warn("no rollout stages: nothing keeps early use draft-only", "no stages");
        }
        var first = f.Rollout[0];
        var mode = SpecEnum.ToName(first.Mode);
        var figure = $"first stage '{first.Name}': {mode}";
        return PilotThresholds.NeedsReview(first.Mode) || first.Mode == ServingMode.Shadow
            ? Result.Ok($"yes: the first stage '{first.Name}' serves in {mode} mode, so a person sees every answer before it counts", figure)
            : Result.Warn($"the first stage '{first.Name}' serves in {mode} mode: answers reach users without review", figure);
    }

    private static Result ReadOnlyFirst(ReadinessFacts f)
    {
        if (f.SideEffectingTools.Count == 0)
        {
            return Result.Ok("no side-effecting tools are declared: the AI has no write access to stage", "no side-effecting tools");
        }
        var tools = string.Join(", ", f.SideEffectingTools);
        if (f.Rollout.Count == 0)
        {
            return Result.Warn($"no rollout stages: {tools} can act from the start of broad use", $"{Figures.Plural(f.SideEffectingTools.Count, "side-effecting tool", "side-effecting tools")}; no stages");
        }
        var first = f.Rollout[0];
        var mode = SpecEnum.ToName(first.Mode);
        var figure = $"{Figures.Plural(f.SideEffectingTools.Count, "side-effecting tool", "side-effecting tools")}; first stage {mode}";
        // read_only strips the tools; approval holds every answer for a reviewer; shadow answers nobody.
        return first.Mode is ServingMode.ReadOnly or ServingMode.Approval or ServingMode.Shadow
            ? Result.Ok($"yes: the first stage '{first.Name}' serves in {mode} mode, so {tools} cannot act unchecked", figure)
            : Result.Warn($"the first stage '{first.Name}' serves in {mode} mode, which leaves {tools} able to act", figure);
    }

    private static Result RiskyTasks(ReadinessFacts f)
    {
        var hints = new List<string> { $"risk {SpecEnum.ToName(f.Risk)}" };
        if (f.DataBoundaryBlocks.Count > 0) hints.Add($"data boundary blocks {string.Join(", ", f.DataBoundaryBlocks)}");
        if (f.SideEffectingTools.Count > 0) hints.Add($"side-effecting tools {string.Join(", ", f.SideEffectingTools)}");
        return Result.Need("a person must name the tasks kept out of early rollout", string.Join("; ", hints));
    }

    private static Result ExpansionConditions(ReadinessFacts f)
    {
        if (f.Rollout.Count == 0)
        {
            return Result.Block("nothing: there are no rollout stages, so no gate stands before broad use", "no stages");
        }
        var described = f.Rollout.Select(DescribeGate).ToArray();
        var figure = string.Join("; ", described);
        var gated = f.Rollout.Count(s => s.Gate.Count > 0);
        if (gated == 0)
        {
            return Result.Block($"no stage has gate criteria (spec.rollout[].gate): expansion would rest on opinion; {figure}", figure);
        }
        var ungated = f.Rollout.Where(s => s.Gate.Count == 0).Select(s => $"'{s.Name}'").ToArray();
        return ungated.Length > 0
            ? Result.Warn($"{string.Join(", ", ungated)} {(ungated.Length == 1 ? "has" : "have")} no gate criteria; {figure}", figure)
            : Result.Ok(figure, figure);
    }

    private static string DescribeGate(RolloutStageSpec stage)
    {
        var parts = stage.Gate.Select(DescribeCriterion).ToList();
        if (stage.MinDays is { } d) parts.Add($"{Figures.Plural(d, "day", "days")} minimum");
        if (stage.MinSamples is { } s) parts.Add($"{Figures.Plural(s, "sample", "samples")} minimum");
        return $"{stage.Name}: {(parts.Count == 0 ? "no gate" : string.Join(", ", parts))}";
    }

    private static string DescribeCriterion(CriterionSpec c)
    {
        var bound = c.Confidence is "lower" or "upper" ? $" ({c.Confidence} bound)" : "";
        return (c.Min, c.Max) switch
        {
            ({ } min, { } max) => $"{c.Metric} {Figures.Num(min)}–{Figures.Num(max)}{bound}",
            ({ } min, null) => $"{c.Metric} ≥ {Figures.Num(min)}{bound}",
            (null, { } max) => $"{c.Metric} ≤ {Figures.Num(max)}{bound}",
            _ => c.Metric,
        };
    }

    // ---- value and cost ----

    private static Result TimeSaved(ReadinessFacts f)
    {
        var net = Figure(f, "net_minutes_saved_per_task");
        if (net is not { Value: { } minutes })
        {
            return Result.Need("unknown: no baseline (spec.baseline.manualMinutesPerTask or recorded manual task times) or no reviews", null);
        }
        var figure = $"{(minutes >= 0 ? "+" : "−")}{Figures.Num(Math.Abs(minutes))} min per task (n={Figures.Int(net.N)})";
        return minutes > 0
            ? Result.Ok($"yes: {Figures.Num(minutes)} minutes saved per task after review and rework (n={Figures.Int(net.N)})", figure)
            : Result.Warn($"no: each task takes {Figures.Num(-minutes)} minutes more than the manual baseline once review and rework are counted (n={Figures.Int(net.N)})", figure);
    }

    private static Result QualityOrSpeed(ReadinessFacts f)
    {
        var acceptance = Figure(f, "acceptance_rate");
        var pass = Figure(f, "pass_rate");
        var parts = new List<string>();
        if (acceptance is { Value: { } a, N: > 0 }) parts.Add($"acceptance {Figures.Percent(a)} (n={Figures.Int(acceptance.N)})");
        if (pass is { Value: { } p, N: > 0 }) parts.Add($"pass rate {Figures.Percent(p)} (n={Figures.Int(pass.N)})");
        if (parts.Count == 0)
        {
            return Result.Need("quality is unmeasured: no reviews and no evaluations", null);
        }
        var figure = string.Join(", ", parts);
        var weak = WeakQuality(f);
        return weak.Count > 0
            ? Result.Warn($"speed at best: {string.Join("; ", weak)}", figure)
            : Result.Ok($"quality holds ({figure}); whether it beats manual work needs a manual comparison", figure);
    }

    private static Result SupportBurden(ReadinessFacts f)
    {
        if (f.SupportRequests is not { } requests)
        {
            return Result.Need("support requests are not counted here", $"{Figures.Plural(f.Incidents.Complaints, "complaint", "complaints")}");
        }
        var per100 = f.RealInteractions > 0 ? $" ({Figures.Num(100.0 * requests / f.RealInteractions)} per 100 interactions)" : "";
        var figure = $"{Figures.Plural(requests, "support request", "support requests")}{per100}; {Figures.Plural(f.Incidents.Complaints, "complaint", "complaints")}";
        return Result.Ok(figure, figure);
    }

    private static Result HiddenCosts(ReadinessFacts f)
    {
        var cost = Figure(f, "cost_per_task");
        var review = Figure(f, "review_minutes_per_task");
        var reviewPart = review is { Value: { } rm } ? $"; {Figures.Num(rm)} review minutes per task" : "";
        if (cost is not { Value: { } c })
        {
            return Result.Need("no cost figure yet", review is null ? null : reviewPart.TrimStart(';', ' '));
        }
        if (f.Review.HourlyRate is not { } rate)
        {
            var figure = $"cost per task {MetricCatalogue.Format("cost_per_task", c)} (model only){reviewPart}";
            return Result.Warn($"cost per task {MetricCatalogue.Format("cost_per_task", c)} counts the model only; review labour, the usual hidden cost, is unpriced (spec.review.hourlyRate){reviewPart}", figure);
        }
        var priced = $"cost per task {MetricCatalogue.Format("cost_per_task", c)} including review labour at {Figures.Num((double)rate)} per hour{reviewPart}";
        return Result.Ok(priced, priced);
    }

    private static Result Continue(ReadinessFacts f)
    {
        if (f.Criteria is not { } evaluation)
        {
            return Result.Block("the pilot criteria have not been evaluated: no decision can rest on evidence yet", null);
        }
        var r = evaluation.Recommendation;
        var figure = $"criteria recommend {(r.Kind == RecommendationKind.InsufficientEvidence ? "keep collecting" : SpecEnum.ToName(r.Outcome!.Value))}";
        return r.Kind == RecommendationKind.Proceed
            ? Result.Ok(r.Summary, figure)
            : Result.Block(r.Summary, figure);
    }

    // ---- helpers shared with the mistake detector ----

    private static MetricValue? Figure(ReadinessFacts f, string metric) => f.Metrics.GetValueOrDefault(metric);

    private static string Rate(ReadinessFacts f, string metric) =>
        Figure(f, metric) is { Value: { } v } ? Figures.Percent(v) : "n/a";

    private static string Shorten(string text) => text.Length <= 80 ? text : string.Concat(text.AsSpan(0, 77), "…");

    /// <summary>
    /// Answer quality that falls short: a failing criterion on acceptance or pass rates, or, where no
    /// criterion covers the figure, acceptance_rate / pass_rate below <see cref="PilotThresholds.QualityFloor"/>.
    /// </summary>
    internal static List<string> WeakQuality(ReadinessFacts f)
    {
        var weak = new List<string>();
        var verdicts = f.Criteria?.Verdicts ?? [];
        weak.AddRange(verdicts.Where(v => v.Verdict == Verdict.Fail && PilotThresholds.IsAnswerQualityMetric(v.Metric)).Select(v => v.Explanation));
        foreach (var metric in new[] { "acceptance_rate", "pass_rate" })
        {
            var covered = verdicts.Any(v => v.Metric == metric) || f.PilotCriteria.Any(c => c.Metric == metric);
            if (!covered && f.Metrics.GetValueOrDefault(metric) is { Value: { } value, N: > 0 } figure && value < PilotThresholds.QualityFloor)
            {
                weak.Add($"{metric} {Figures.Num(value)} (n={Figures.Int(figure.N)}) is below {Figures.Num(PilotThresholds.QualityFloor)}");
            }
        }
        return weak;
    }
}

/// <summary>How well the test cases and real traffic cover the seed's "real conditions".</summary>
internal sealed record Coverage(IReadOnlyList<string> Covered, long TestCases, long Real)
{
    public static Coverage Of(ReadinessFacts f)
    {
        var covered = MetricCatalogue.Categories.Where(c => f.TestCasesByCategory.GetValueOrDefault(c) > 0).ToArray();
        var cases = MetricCatalogue.Categories.Sum(c => Math.Max(0, f.TestCasesByCategory.GetValueOrDefault(c)));
        return new Coverage(covered, cases, Math.Max(0, f.RealInteractions));
    }

    /// <summary>Real interactions over everything evaluated (real + test cases); 0 when nothing was.</summary>
    public double RealShare => TestCases + Real == 0 ? 0 : (double)Real / (TestCases + Real);

    public IReadOnlyList<string> Missing => MetricCatalogue.Categories.Except(Covered).ToArray();

    public string Figure =>
        $"{Covered.Count} of 5 categories{(Covered.Count > 0 ? $" ({string.Join(", ", Covered)})" : "")}; "
        + $"{Figures.Plural(TestCases, "test case", "test cases")}, {Figures.Plural(Real, "real interaction", "real interactions")}"
        + (TestCases + Real > 0 ? $" (real {Figures.Percent(RealShare)})" : "");

    /// <summary>What keeps the examples from being realistic, each with its figure.</summary>
    public List<string> Gaps()
    {
        var gaps = new List<string>();
        if (Covered.Count == 1 && Covered[0] == "normal")
        {
            gaps.Add($"test cases cover only normal examples ({Figures.Int(TestCases)})");
        }
        else if (Covered.Count < PilotThresholds.MinCategoriesCovered)
        {
            gaps.Add($"test cases cover {Covered.Count} of 5 categories (at least {PilotThresholds.MinCategoriesCovered} expected); missing {string.Join(", ", Missing)}");
        }
        else if (Covered.Count < 5)
        {
            gaps.Add($"no test cases for {string.Join(", ", Missing)}");
        }
        if (RealShare < PilotThresholds.MinRealTrafficShare)
        {
            gaps.Add($"real traffic is {Figures.Percent(RealShare)} of what was evaluated ({Figures.Int(Real)} real vs {Figures.Int(TestCases)} test cases; at least {Figures.Percent(PilotThresholds.MinRealTrafficShare)} expected)");
        }
        return gaps;
    }
}
