using Pilotage.Core.Evidence;
using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.Pilots;

/// <summary>A well-run pilot, ready to proceed: each test breaks one thing in it.</summary>
internal static class PilotFixtures
{
    public static readonly DateTimeOffset Noon = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static SystemSpec Spec => new()
    {
        Name = "support-reply-drafts",
        Owner = "dana@example.org",
        Purpose = "Draft replies to customer support tickets",
        Upstream = new UpstreamSpec { BaseUrl = "http://127.0.0.1:11434/v1", Model = "llama3.1" },
        Training = new TrainingSpec { Required = true, Text = "Use for drafts only; never send card numbers." },
        Review = new ReviewSpec { Reviewers = ["support-leads"], MinutesPerDay = 240, SlaHours = 24, HourlyRate = 40 },
        DataBoundary = new DataBoundarySpec { Block = ["credit_card", "iban"] },
        Pilot = new PilotSpec
        {
            Questions = [PilotQuestion.Quality, PilotQuestion.ReviewBurden, PilotQuestion.Value],
            Group = "support-pilot",
            Mode = ServingMode.Draft,
            Ends = new DateOnly(2026, 12, 31),
            MinSamples = 200,
            Criteria =
            [
                new() { Metric = "acceptance_rate", Min = 0.8, Else = PilotOutcome.Redesign },
                new() { Metric = "net_minutes_saved_per_task", Min = 1, Else = PilotOutcome.Stop },
                new() { Metric = "incidents_high", Max = 0, Else = PilotOutcome.Stop },
                new() { Metric = "pass_rate.edge", Min = 0.7, Else = PilotOutcome.Narrow },
            ],
        },
        Rollout =
        [
            new() { Name = "team-a", Groups = ["support-team-a"], Mode = ServingMode.Draft, MinDays = 14,
                    Gate = [new() { Metric = "acceptance_rate", Min = 0.85 }, new() { Metric = "review_backlog_hours", Max = 24 }] },
            new() { Name = "support", Groups = ["support"], Mode = ServingMode.Full,
                    Gate = [new() { Metric = "acceptance_rate", Min = 0.85 }] },
        ],
        PauseRules =
        [
            new() { Metric = "rejection_rate", Over = 50, Above = 0.3, Action = PauseAction.Restrict, To = "approval" },
            new() { Metric = "incidents_high", Above = 0, Action = PauseAction.Pause },
            new() { Metric = "cost_per_day", Above = 200, Action = PauseAction.Pause },
        ],
    };

    public static Dictionary<string, MetricValue> Metrics() => new(StringComparer.Ordinal)
    {
        ["acceptance_rate"] = MetricValue.Rate(180, 212),
        ["edit_rate"] = MetricValue.Rate(24, 212),
        ["rejection_rate"] = MetricValue.Rate(6, 212),
        ["escalation_rate"] = MetricValue.Rate(2, 212),
        ["rework"] = new MetricValue(0.12, 24),
        ["review_minutes_per_task"] = new MetricValue(1.5, 212),
        ["net_minutes_saved_per_task"] = new MetricValue(6.8, 212),
        ["cost_per_task"] = new MetricValue(1.02, 240),
        ["feedback_mean"] = new MetricValue(4.4, 90),
        ["out_of_scope_rate"] = MetricValue.Rate(3, 212),
        ["blocked_rate"] = MetricValue.Rate(2, 250),
        ["incidents_high"] = MetricValue.Count(0),
        ["pass_rate"] = MetricValue.Rate(100, 120),
        ["pass_rate.edge"] = MetricValue.Rate(24, 30),
        ["samples"] = MetricValue.Count(250),
    };

    public static ReadinessFacts Ready()
    {
        var spec = Spec;
        var metrics = Metrics();
        return ReadinessFacts.FromSpec(spec) with
        {
            OwnerStatus = OwnerStatus.Active,
            AdminCount = 2,
            Criteria = CriteriaEvaluator.EvaluatePilot(spec.Pilot!, metrics),
            ReviewForecast = ReviewCapacity.Forecast(backlog: 4, oldestHours: 3, minutesPerTask: 1.5, inflowPerDay: 40, capacityMinutesPerDay: 240, slaHours: 24),
            TestCasesByCategory = new Dictionary<string, long>
            {
                ["normal"] = 60,
                ["edge"] = 30,
                ["unclear"] = 10,
                ["missing_data"] = 10,
                ["policy_boundary"] = 10,
            },
            RealInteractions = 250,
            Metrics = metrics,
            Incidents = new IncidentFacts(Incidents: 3, HighOrCritical: 0, Unreviewed: 0, UnreviewedHighOrCritical: 0, Complaints: 2, UnreviewedComplaints: 0),
            SupportRequests = 7,
            PersonAnswers = new Dictionary<string, PersonAnswer>
            {
                ["rollout.risky_tasks"] = new("Refunds over 500 EUR stay manual", "dana@example.org", Noon),
            },
        };
    }
}
