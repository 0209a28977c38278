using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

/// <summary>One of the seed's six common pilot-to-production mistakes, found in a system's state.</summary>
/// <param name="Id">Stable id (<see cref="PilotMistakes"/> constants).</param>
/// <param name="Title">The seed's title.</param>
/// <param name="Detail">What was found, with the figures.</param>
/// <param name="Why">The seed's explanation of why it matters.</param>
public sealed record MistakeWarning(string Id, string Title, string Detail, string Why);

/// <summary>
/// Detects the seed's six common mistakes (design.md, "Rules that are code") as warnings. Pure: all
/// facts come in through <see cref="ReadinessFacts"/>, including the expansion being asked for.
/// </summary>
public static class PilotMistakes
{
    public const string JudgingByExcitement = "judging_by_excitement";
    public const string SkippingOwnership = "skipping_ownership";
    public const string TestingOnlyEasyExamples = "testing_only_easy_examples";
    public const string IgnoringReviewCapacity = "ignoring_review_capacity";
    public const string ExpandingTooQuickly = "expanding_too_quickly";
    public const string MissingPauseRules = "missing_pause_rules";

    /// <summary>The six, in the seed's order: id, title, and the seed's reason.</summary>
    public static IReadOnlyList<(string Id, string Title, string Why)> Catalogue { get; } =
    [
        (JudgingByExcitement, "Judging by excitement",
            "Pilot users may like the AI tool, but enthusiasm is not enough. Production decisions need evidence about quality, cost, risk, workflow fit, and review burden."),
        (SkippingOwnership, "Skipping ownership",
            "A pilot team may own the experiment, but production needs a long-term system owner responsible for monitoring, changes, incidents, support, and retirement."),
        (TestingOnlyEasyExamples, "Testing only easy examples",
            "Clean examples can hide real problems. Production planning should test messy inputs, unclear cases, missing data, and policy boundaries."),
        (IgnoringReviewCapacity, "Ignoring human review capacity",
            "AI may create output quickly, but people still need time and authority to review it. If review workload is ignored, quality may suffer."),
        (ExpandingTooQuickly, "Expanding too quickly",
            "Giving broad access before the pilot evidence is reviewed can spread weak practices, unclear data use, and support problems across the organization."),
        (MissingPauseRules, "Missing pause rules",
            "A production deployment should have a practical way to pause, restrict, roll back, or return to manual work when conditions change."),
    ];

    /// <summary>Every mistake found, in the seed's order; empty when none.</summary>
    public static IReadOnlyList<MistakeWarning> Detect(ReadinessFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var found = new List<MistakeWarning>();
        Add(found, JudgingByExcitement, Excitement(facts));
        Add(found, SkippingOwnership, Ownership(facts));
        Add(found, TestingOnlyEasyExamples, EasyExamples(facts));
        Add(found, IgnoringReviewCapacity, ReviewCapacityIgnored(facts));
        Add(found, ExpandingTooQuickly, TooQuick(facts));
        Add(found, MissingPauseRules, PauseRulesMissing(facts));
        return found;
    }

    private static void Add(List<MistakeWarning> found, string id, string? detail)
    {
        if (detail is null) return;
        var (_, title, why) = Catalogue.First(m => m.Id == id);
        found.Add(new MistakeWarning(id, title, detail, why));
    }

    /// <summary>Users are pleased (feedback ≥ 4) while answer quality falls short.</summary>
    private static string? Excitement(ReadinessFacts f)
    {
        if (f.Metrics.GetValueOrDefault("feedback_mean") is not { Value: { } mean, N: > 0 } feedback
            || mean < PilotThresholds.ExcitementFeedbackMean)
        {
            return null;
        }
        var weak = ReadinessAssessment.WeakQuality(f);
        return weak.Count == 0
            ? null
            : $"feedback averages {Figures.Num(mean)} of 5 (n={Figures.Int(feedback.N)}), but {string.Join("; ", weak)}";
    }

    private static string? Ownership(ReadinessFacts f) => (f.Owner, f.OwnerStatus) switch
    {
        (null, _) => "no owner is set (spec.owner): nobody is accountable for monitoring, changes, incidents, support and retirement",
        (_, OwnerStatus.Active) => null,
        ({ } o, OwnerStatus.Inactive) => $"the owner {o} is no longer an active user",
        ({ } o, _) => $"the owner {o} is not a known user of this installation",
    };

    /// <summary>Only normal cases, fewer than three categories, or too little real traffic.</summary>
    private static string? EasyExamples(ReadinessFacts f)
    {
        var c = Coverage.Of(f);
        var problems = new List<string>();
        if (c.Covered.Count == 1 && c.Covered[0] == "normal")
        {
            problems.Add($"all {Figures.Plural(c.TestCases, "test case is", "test cases are")} normal; none edge, unclear, missing_data or policy_boundary");
        }
        else if (c.Covered.Count < PilotThresholds.MinCategoriesCovered)
        {
            problems.Add($"test cases cover {c.Covered.Count} of 5 categories{(c.Covered.Count > 0 ? $" ({string.Join(", ", c.Covered)})" : "")}; missing {string.Join(", ", c.Missing)}");
        }
        if (c.TestCases + c.Real > 0 && c.RealShare < PilotThresholds.MinRealTrafficShare)
        {
            problems.Add($"real traffic is {Figures.Percent(c.RealShare)} of what was evaluated ({Figures.Int(c.Real)} real interactions vs {Figures.Int(c.TestCases)} test cases)");
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    /// <summary>The SLA breaks within the horizon (or already has), or review is expected and unplanned.</summary>
    private static string? ReviewCapacityIgnored(ReadinessFacts f)
    {
        if (f.ReviewForecast is { DaysUntilBreach: { } days } forecast && days <= PilotThresholds.ReviewBreachHorizonDays)
        {
            return days <= 0
                ? $"the review SLA is already broken: {forecast.Summary}"
                : $"the review SLA breaks in {Figures.Num(days)} days at the current rate: {forecast.Summary}";
        }
        var reviewModes = new[] { f.Mode }.Concat(f.Rollout.Select(s => s.Mode)).Where(PilotThresholds.NeedsReview).Distinct().ToArray();
        if (reviewModes.Length > 0 && f.Review.MinutesPerDay is not > 0)
        {
            return $"{string.Join(" and ", reviewModes.Select(m => SpecEnum.ToName(m)))} mode expects every answer reviewed, but no review capacity is set (spec.review.minutesPerDay)";
        }
        return null;
    }

    /// <summary>An expansion asked for before the stage's gate, time or sample allow it (or before the pilot says proceed).</summary>
    private static string? TooQuick(ReadinessFacts f)
    {
        if (f.Expansion is not { } request)
        {
            return null;
        }
        if (request.Gate is { } gate)
        {
            return gate.Open ? null : $"expansion to '{request.Into}' asked for while the gate of '{gate.Stage}' is closed: {string.Join("; ", gate.ClosedReasons)}";
        }
        if (f.Criteria is not { } evaluation)
        {
            return $"expansion to '{request.Into}' asked for before the pilot criteria were evaluated";
        }
        return evaluation.Recommendation.Kind == RecommendationKind.Proceed
            ? null
            : $"expansion to '{request.Into}' asked for while the pilot evidence says otherwise: {evaluation.Recommendation.Summary}";
    }

    /// <summary>No pause rules, or none on a metric that measures answer quality or harm.</summary>
    private static string? PauseRulesMissing(ReadinessFacts f)
    {
        if (f.PauseRules.Count == 0)
        {
            return "no pause rules are defined (spec.pauseRules): nothing pauses or restricts the system when conditions change";
        }
        return f.PauseRules.Any(r => PilotThresholds.IsQualityMetric(r.Metric))
            ? null
            : $"the {Figures.Plural(f.PauseRules.Count, "pause rule watches", "pause rules watch")} only {string.Join(", ", f.PauseRules.Select(r => r.Metric).Distinct())}: none reacts to bad answers (acceptance, rejection, pass rates, incidents, complaints)";
    }
}
