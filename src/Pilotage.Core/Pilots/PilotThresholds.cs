using Pilotage.Core.Specs;

namespace Pilotage.Core.Pilots;

/// <summary>
/// The fixed judgement calls behind readiness answers and mistake warnings, in one place so a report
/// can state them and a reviewer can argue with one number instead of hunting for it. Constants, not
/// settings: a control plane whose warnings can be tuned away warns nobody.
/// </summary>
public static class PilotThresholds
{
    /// <summary>A feedback mean at or above this (on 1–5) counts as "users like it".</summary>
    public const double ExcitementFeedbackMean = 4.0;

    /// <summary>Acceptance or pass rate below this is weak quality when no criterion says otherwise.</summary>
    public const double QualityFloor = 0.7;

    /// <summary>Test cases should cover at least this many of the five categories.</summary>
    public const int MinCategoriesCovered = 3;

    /// <summary>
    /// Real interactions should be at least this share of everything evaluated (real + test cases):
    /// below it, the evidence is mostly what people chose to test.
    /// </summary>
    public const double MinRealTrafficShare = 0.25;

    /// <summary>A review SLA forecast to break within this many days is a present problem, not a future one.</summary>
    public const double ReviewBreachHorizonDays = 14;

    /// <summary>Above this out-of-scope rate, users are not keeping to the approved scope.</summary>
    public const double MaxOutOfScopeRate = 0.05;

    /// <summary>Serving modes in which every answer is meant to be reviewed by a person.</summary>
    public static bool NeedsReview(ServingMode mode) => mode is ServingMode.Draft or ServingMode.Approval;

    /// <summary>
    /// Metrics that say whether the answers are good or harmful (review outcomes, evaluation pass rates,
    /// incidents, complaints, out-of-scope use), as opposed to volume, cost or speed. A pause rule on
    /// cost alone keeps the budget safe while bad answers keep flowing.
    /// </summary>
    public static bool IsQualityMetric(string metric) =>
        metric is "acceptance_rate" or "edit_rate" or "rejection_rate" or "escalation_rate" or "rework"
            or "complaints" or "out_of_scope_rate"
        || metric.StartsWith("pass_rate", StringComparison.Ordinal)
        || metric.StartsWith("incidents_", StringComparison.Ordinal);

    /// <summary>Metrics whose criteria measure answer quality for "judging by excitement".</summary>
    internal static bool IsAnswerQualityMetric(string metric) =>
        metric == "acceptance_rate" || metric.StartsWith("pass_rate", StringComparison.Ordinal);
}
