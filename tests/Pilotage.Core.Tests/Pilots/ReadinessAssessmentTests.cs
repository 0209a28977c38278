using Pilotage.Core.Evidence;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;
using Q = Pilotage.Core.Pilots.ReadinessQuestions;
using S = Pilotage.Core.Pilots.ReadinessStatus;

namespace Pilotage.Core.Tests.Pilots;

public sealed class ReadinessAssessmentTests
{
    [Fact]
    public void The_twenty_questions_are_the_seeds_in_its_four_groups_with_stable_ids()
    {
        // Copied from the seed (pilot-to-production, "readiness questions"): the wording is the contract.
        (ReadinessGroup Group, string Title, string[] Texts)[] seed =
        [
            (ReadinessGroup.PilotEvidence, "Pilot evidence questions",
                ["What did the pilot actually test?", "Were examples realistic or selected?", "What quality issues appeared?",
                 "How much human review was required?", "Did users apply AI only within the approved scope?"]),
            (ReadinessGroup.ProductionReadiness, "Production readiness questions",
                ["Who owns the AI system after rollout?", "What training will broader users receive?", "What monitoring will continue after launch?",
                 "How are incidents and complaints reviewed?", "Who can pause or restrict the deployment?"]),
            (ReadinessGroup.RolloutDesign, "Rollout design questions",
                ["Should rollout be limited to one team first?", "Should AI remain draft-only at first?", "Should access be read-only before write access?",
                 "Which tasks are too risky for early rollout?", "What must be true before expansion?"]),
            (ReadinessGroup.ValueAndCost, "Value and cost questions",
                ["Did AI save time after review and rework?", "Did it improve quality or only speed?", "What support burden appeared?",
                 "What hidden costs did the pilot reveal?", "Should the deployment continue at all?"]),
        ];
        var all = Q.All;

        Assert.Equal(seed.SelectMany(g => g.Texts.Select(t => (g.Group, t))), all.Select(q => (q.Group, q.Text)));
        Assert.Equal(seed.Select(g => g.Title), seed.Select(g => Q.Title(g.Group)));
        Assert.Equal(20, all.Select(q => q.Id).Distinct().Count());
        Assert.All(all, q => Assert.Same(q, Q.Find(q.Id)));
        Assert.Equal(
            ["pilot.what_tested", "pilot.examples_realistic", "pilot.quality_issues", "pilot.review_required", "pilot.within_scope",
             "production.owner", "production.training", "production.monitoring", "production.incidents", "production.who_can_pause",
             "rollout.one_team_first", "rollout.draft_first", "rollout.read_only_first", "rollout.risky_tasks", "rollout.expansion_conditions",
             "value.time_saved", "value.quality_or_speed", "value.support_burden", "value.hidden_costs", "value.continue"],
            all.Select(q => q.Id));
        Assert.Equal(
            [Q.Owner, Q.Monitoring, Q.Incidents, Q.WhoCanPause, Q.ExpansionConditions, Q.Continue],
            all.Where(q => q.BlocksProceed).Select(q => q.Id));
    }

    [Fact]
    public void A_well_run_pilot_answers_every_question_and_may_proceed()
    {
        var report = ReadinessAssessment.Assess(PilotFixtures.Ready());

        Assert.All(report.Answers, a => Assert.True(a.Status == S.Ok, $"{a.Question.Id}: {a.Status} {a.Answer}"));
        Assert.True(report.ReadyToProceed);
        Assert.Empty(report.Blockers);
        Assert.Equal("20 ok, 0 warnings, 0 blocking, 0 need an answer; nothing blocks a proceed decision", report.Summary);

        Assert.Equal("dana@example.org", report[Q.Owner].Figure);
        Assert.Equal("5 of 5 categories (normal, edge, unclear, missing_data, policy_boundary); 120 test cases, 250 real interactions (real 67.6%)", report[Q.ExamplesRealistic].Figure);
        Assert.Equal("3 pause rules on rejection_rate, incidents_high, cost_per_day; 15 metrics computed", report[Q.Monitoring].Figure);
        Assert.Equal("dana@example.org (owner) and 2 admins can pause or restrict; 3 pause rules act automatically", report[Q.WhoCanPause].Answer);
        Assert.Equal("+6.8 min per task (n=212)", report[Q.TimeSaved].Figure);
        Assert.Equal("team-a: acceptance_rate ≥ 0.85, review_backlog_hours ≤ 24, 14 days minimum; support: acceptance_rate ≥ 0.85", report[Q.ExpansionConditions].Figure);
        Assert.Equal("criteria recommend proceed", report[Q.Continue].Figure);
        Assert.Equal("Refunds over 500 EUR stay manual", report[Q.RiskyTasks].Answer);
        Assert.Equal("dana@example.org", report[Q.RiskyTasks].Person!.By);
        Assert.Equal("7 support requests (2.8 per 100 interactions); 2 complaints", report[Q.SupportBurden].Figure);
    }

    [Fact]
    public void An_unprepared_system_is_blocked_on_every_blocking_question()
    {
        var spec = PilotFixtures.Spec with { Owner = "", PauseRules = [], Rollout = [] };
        var facts = ReadinessFacts.FromSpec(spec) with
        {
            AdminCount = 0,
            Incidents = new IncidentFacts(Incidents: 2, HighOrCritical: 1, Unreviewed: 1, UnreviewedHighOrCritical: 1),
            Metrics = PilotFixtures.Metrics(),
        };

        var report = ReadinessAssessment.Assess(facts);

        Assert.False(report.ReadyToProceed);
        Assert.Equal(
            [Q.Owner, Q.Monitoring, Q.Incidents, Q.WhoCanPause, Q.ExpansionConditions, Q.Continue],
            report.Answers.Where(a => a.Status == S.Blocking).Select(a => a.Question.Id));
        Assert.Equal(6, report.Blockers.Count);
        Assert.Contains("Who owns the AI system after rollout? nobody: set spec.owner to the accountable person", report.Blockers);
        Assert.Equal("1 high or critical incident has not been reviewed", report[Q.Incidents].Answer);
        Assert.StartsWith("nobody: no active owner and no admin", report[Q.WhoCanPause].Answer, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_blocking_questions_ever_block()
    {
        var report = ReadinessAssessment.Assess(new ReadinessFacts());

        Assert.All(report.Answers.Where(a => a.Status == S.Blocking), a => Assert.True(a.Question.BlocksProceed, a.Question.Id));
    }

    public static TheoryData<string, string, S, string> Cases => new()
    {
        // question, what is changed, expected status, part of the answer
        { Q.WhatTested, "no pilot questions", S.Warning, "names no question" },
        { Q.WhatTested, "no criteria", S.Warning, "sets no decision criteria" },
        { Q.WhatTested, "neither", S.Warning, "tested nothing in particular" },
        { Q.ExamplesRealistic, "only normal cases", S.Warning, "test cases cover only normal examples (60)" },
        { Q.ExamplesRealistic, "two categories", S.Warning, "test cases cover 2 of 5 categories (at least 3 expected); missing unclear, missing_data, policy_boundary" },
        { Q.ExamplesRealistic, "four categories", S.Warning, "no test cases for policy_boundary" },
        { Q.ExamplesRealistic, "little real traffic", S.Warning, "real traffic is 7.7% of what was evaluated (10 real vs 120 test cases; at least 25% expected)" },
        { Q.ExamplesRealistic, "nothing evaluated", S.Warning, "nothing was evaluated" },
        { Q.QualityIssues, "acceptance fails", S.Warning, "quality criteria fail: acceptance_rate 0.7 (n=212) is below 0.8 → redesign" },
        { Q.QualityIssues, "high incident", S.Warning, "1 high or critical incident occurred" },
        { Q.QualityIssues, "no evidence", S.NeedsAnswer, "quality has not been measured" },
        { Q.ReviewRequired, "sla breaks soon", S.Warning, "more than reviewers can carry" },
        { Q.ReviewRequired, "no evidence", S.NeedsAnswer, "the draft mode expects review, but no review is recorded yet" },
        { Q.WithinScope, "out of scope", S.Warning, "use strays beyond scope: out of scope 10.4% of 212 reviewed" },
        { Q.WithinScope, "no evidence", S.NeedsAnswer, "no reviewed interactions" },
        { Q.Owner, "owner inactive", S.Blocking, "dana@example.org is no longer an active user" },
        { Q.Owner, "owner unknown", S.Blocking, "dana@example.org is not a known user" },
        { Q.Owner, "no owner", S.Blocking, "nobody" },
        { Q.Training, "not required", S.Warning, "acknowledgement is not required" },
        { Q.Training, "no training", S.Warning, "no training defined" },
        { Q.Monitoring, "no pause rules", S.Blocking, "no pause rules" },
        { Q.Monitoring, "cost pause rule only", S.Warning, "pause rules watch only cost_per_day: none would stop bad answers" },
        { Q.Incidents, "high incident unreviewed", S.Blocking, "1 high or critical incident has not been reviewed" },
        { Q.Incidents, "complaint unreviewed", S.Warning, "0 incidents and 1 complaint not yet reviewed" },
        { Q.WhoCanPause, "nobody can pause", S.Blocking, "nobody" },
        { Q.WhoCanPause, "only the owner", S.Warning, "only dana@example.org (owner) can pause" },
        { Q.OneTeamFirst, "two groups first", S.Warning, "opens to support-team-a, support-team-b at once" },
        { Q.OneTeamFirst, "no stages", S.Warning, "straight to production" },
        { Q.DraftFirst, "full first", S.Warning, "serves in full mode: answers reach users without review" },
        { Q.DraftFirst, "no stages", S.Warning, "no rollout stages" },
        { Q.ReadOnlyFirst, "tools in draft", S.Warning, "serves in draft mode, which leaves send_email able to act" },
        { Q.ReadOnlyFirst, "tools read only", S.Ok, "serves in read_only mode, so send_email cannot act unchecked" },
        { Q.RiskyTasks, "no person answer", S.NeedsAnswer, "a person must name the tasks" },
        { Q.ExpansionConditions, "no stages", S.Blocking, "no rollout stages" },
        { Q.ExpansionConditions, "no gates", S.Blocking, "no stage has gate criteria" },
        { Q.ExpansionConditions, "one stage ungated", S.Warning, "'support' has no gate criteria" },
        { Q.TimeSaved, "time lost", S.Warning, "each task takes 2.5 minutes more" },
        { Q.TimeSaved, "no baseline", S.NeedsAnswer, "no baseline" },
        { Q.QualityOrSpeed, "acceptance fails", S.Warning, "speed at best: acceptance_rate 0.7 (n=212) is below 0.8 → redesign" },
        { Q.QualityOrSpeed, "pass rate low", S.Warning, "pass_rate 0.5 (n=120) is below 0.7" },
        { Q.QualityOrSpeed, "no evidence", S.NeedsAnswer, "quality is unmeasured" },
        { Q.SupportBurden, "not counted", S.NeedsAnswer, "support requests are not counted" },
        { Q.HiddenCosts, "labour unpriced", S.Warning, "review labour, the usual hidden cost, is unpriced" },
        { Q.HiddenCosts, "labour unpriced", S.Warning, "cost per task 1.02 (currency) counts the model only" },
        { Q.HiddenCosts, "no evidence", S.NeedsAnswer, "no cost figure yet" },
        { Q.Continue, "acceptance fails", S.Blocking, "redesign: acceptance_rate 0.7 (n=212) is below 0.8 → redesign" },
        { Q.Continue, "too few samples", S.Blocking, "insufficient evidence" },
        { Q.Continue, "not evaluated", S.Blocking, "have not been evaluated" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_question_answers_from_the_facts(string id, string change, S expected, string answerPart)
    {
        var answer = ReadinessAssessment.Assess(Change(PilotFixtures.Ready(), change))[id];

        Assert.Equal(expected, answer.Status);
        Assert.Contains(answerPart, answer.Answer, StringComparison.Ordinal);
    }

    [Fact]
    public void A_person_answers_what_the_system_cannot_see_but_cannot_overrule_a_fact()
    {
        var note = new PersonAnswer("Fine, we trust them", "cto@example.org", PilotFixtures.Noon);
        var facts = Change(PilotFixtures.Ready(), "not counted") with
        {
            PersonAnswers = new Dictionary<string, PersonAnswer> { [Q.SupportBurden] = note with { Text = "About 3 tickets a week to the service desk" }, [Q.Owner] = note },
            OwnerStatus = OwnerStatus.Inactive,
        };

        var report = ReadinessAssessment.Assess(facts);

        Assert.Equal(S.Ok, report[Q.SupportBurden].Status);
        Assert.Equal("About 3 tickets a week to the service desk", report[Q.SupportBurden].Answer);
        Assert.Equal(S.Blocking, report[Q.Owner].Status);
        Assert.Equal(note, report[Q.Owner].Person);
        Assert.Equal(S.NeedsAnswer, report[Q.RiskyTasks].Status);
    }

    [Fact]
    public void From_spec_takes_what_the_spec_states_and_assumes_nothing_else()
    {
        var facts = ReadinessFacts.FromSpec(PilotFixtures.Spec);

        Assert.Equal("dana@example.org", facts.Owner);
        Assert.Equal(OwnerStatus.Unknown, facts.OwnerStatus);
        Assert.Equal(ServingMode.Draft, facts.Mode);
        Assert.Equal(4, facts.PilotCriteria.Count);
        Assert.Equal(3, facts.PauseRules.Count);
        Assert.Equal(2, facts.Rollout.Count);
        Assert.Equal(["credit_card", "iban"], facts.DataBoundaryBlocks);
        Assert.Null(facts.Criteria);
    }

    /// <summary>One named change to the ready fixture, so each case reads as a sentence.</summary>
    internal static ReadinessFacts Change(ReadinessFacts f, string change)
    {
        Dictionary<string, MetricValue> With(string metric, MetricValue value)
        {
            var m = new Dictionary<string, MetricValue>(f.Metrics, StringComparer.Ordinal) { [metric] = value };
            return m;
        }
        ReadinessFacts Reevaluate(ReadinessFacts g) => g with { Criteria = CriteriaEvaluator.Evaluate(g.PilotCriteria, g.Metrics, 200) };
        var spec = PilotFixtures.Spec;
        return change switch
        {
            "no pilot questions" => f with { PilotQuestions = [] },
            "no criteria" => f with { PilotCriteria = [] },
            "neither" => f with { PilotQuestions = [], PilotCriteria = [] },
            "only normal cases" => f with { TestCasesByCategory = new Dictionary<string, long> { ["normal"] = 60 } },
            "two categories" => f with { TestCasesByCategory = new Dictionary<string, long> { ["normal"] = 60, ["edge"] = 30 } },
            "four categories" => f with { TestCasesByCategory = new Dictionary<string, long> { ["normal"] = 60, ["edge"] = 30, ["unclear"] = 5, ["missing_data"] = 5 } },
            "little real traffic" => f with { RealInteractions = 10 },
            "nothing evaluated" => f with { RealInteractions = 0, TestCasesByCategory = new Dictionary<string, long>() },
            "acceptance fails" => Reevaluate(f with { Metrics = With("acceptance_rate", new MetricValue(0.7, 212, 0.64, 0.76)) }),
            "pass rate low" => f with { Metrics = With("pass_rate", MetricValue.Rate(60, 120)) },
            "high incident" => f with { Incidents = f.Incidents with { HighOrCritical = 1 } },
            "high incident unreviewed" => f with { Incidents = f.Incidents with { HighOrCritical = 1, Unreviewed = 1, UnreviewedHighOrCritical = 1 } },
            "complaint unreviewed" => f with { Incidents = f.Incidents with { UnreviewedComplaints = 1 } },
            "no evidence" => f with { Metrics = new Dictionary<string, MetricValue>(), ReviewForecast = null },
            "sla breaks soon" => f with { ReviewForecast = ReviewCapacity.Forecast(100, 10, 2, 150, 240, 24) },
            "out of scope" => f with { Metrics = With("out_of_scope_rate", MetricValue.Rate(22, 212)) },
            "owner inactive" => f with { OwnerStatus = OwnerStatus.Inactive },
            "owner unknown" => f with { OwnerStatus = OwnerStatus.Unknown },
            "no owner" => f with { Owner = null },
            "not required" => f with { Training = f.Training with { Required = false } },
            "no training" => f with { Training = new TrainingSpec() },
            "no pause rules" => f with { PauseRules = [] },
            "cost pause rule only" => f with { PauseRules = [spec.PauseRules[2]] },
            "nobody can pause" => f with { OwnerStatus = OwnerStatus.Inactive, AdminCount = 0 },
            "only the owner" => f with { AdminCount = 0 },
            "two groups first" => f with { Rollout = [spec.Rollout[0] with { Groups = ["support-team-a", "support-team-b"] }, spec.Rollout[1]] },
            "no stages" => f with { Rollout = [] },
            "full first" => f with { Rollout = [spec.Rollout[0] with { Mode = ServingMode.Full }, spec.Rollout[1]] },
            "tools in draft" => f with { SideEffectingTools = ["send_email"] },
            "tools read only" => f with { SideEffectingTools = ["send_email"], Rollout = [spec.Rollout[0] with { Mode = ServingMode.ReadOnly }, spec.Rollout[1]] },
            "no person answer" => f with { PersonAnswers = new Dictionary<string, PersonAnswer>() },
            "no gates" => f with { Rollout = [.. spec.Rollout.Select(s => s with { Gate = [] })] },
            "one stage ungated" => f with { Rollout = [spec.Rollout[0], spec.Rollout[1] with { Gate = [] }] },
            "time lost" => f with { Metrics = With("net_minutes_saved_per_task", new MetricValue(-2.5, 212)) },
            "no baseline" => f with { Metrics = With("net_minutes_saved_per_task", MetricValue.None(212)) },
            "not counted" => f with { SupportRequests = null },
            "labour unpriced" => f with { Review = f.Review with { HourlyRate = null } },
            "too few samples" => f with { Criteria = CriteriaEvaluator.Evaluate(f.PilotCriteria, f.Metrics, 1000) },
            "not evaluated" => f with { Criteria = null },
            _ => throw new ArgumentOutOfRangeException(nameof(change), change, "no such change"),
        };
    }
}
