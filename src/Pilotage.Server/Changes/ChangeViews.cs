using System.Text.Json;
using System.Text.Json.Serialization;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

public sealed record SpecChangeView(string Path, string? Before, string? After);

/// <summary>A change request as the API and the CLI show it.</summary>
/// <param name="BaseVersion">The config version in force when it was requested: the diff is against it.</param>
/// <param name="Risk">The system's risk tier: <c>high</c> needs an approver other than the requester.</param>
/// <param name="Gate">The last regression gate check, when the system has one.</param>
public sealed record ChangeRequestView(
    long Id, string System, string Status, string Risk, string RequestedBy, DateTimeOffset RequestedAt, int BaseVersion,
    IReadOnlyList<SpecChangeView> Diff, string? DecidedBy, DateTimeOffset? DecidedAt, string? DecisionReason,
    string? AppliedBy, DateTimeOffset? AppliedAt, int? AppliedVersion, RegressionGateResult? Gate)
{
    public static ChangeRequestView From(ChangeRequestRow row, string risk) => new(
        row.Id, row.System, row.Status, risk, row.RequestedBy, row.RequestedAt, row.BaseVersion,
        JsonSerializer.Deserialize(row.Diff, ChangesJsonContext.Default.ListSpecChangeView) ?? [],
        row.DecidedBy, row.DecidedAt, row.DecisionReason, row.AppliedBy, row.AppliedAt, row.AppliedVersion,
        row.Gate is null ? null : JsonSerializer.Deserialize(row.Gate, ChangesJsonContext.Default.RegressionGateResult));
}

/// <summary>
/// The figures a regression gate decided on: the candidate's evaluation run against the latest run of
/// the same test set file on the configuration in force.
/// </summary>
/// <param name="Drop">Baseline pass rate minus candidate pass rate (negative: the candidate is better).</param>
public sealed record RegressionGateResult(
    string TestSet, long BaselineRun, int BaselineVersion, double BaselinePassRate, long BaselineCases,
    long CandidateRun, double CandidatePassRate, long CandidateCases, double MaxPassRateDrop, double Drop, bool Passed, DateTimeOffset CheckedAt);

public sealed record ChangeDecisionRequest(string? Reason);

/// <summary>Key figures of one config version, side by side with the others (<c>pilotage metrics SYSTEM --by-version</c>).</summary>
public sealed record VersionMetricsView(int ConfigVersion, bool Current, DateTimeOffset? CreatedAt, string? CreatedBy, IReadOnlyDictionary<string, Pilotage.Core.Evidence.MetricValue> Metrics);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true)]
[JsonSerializable(typeof(ChangeRequestView))]
[JsonSerializable(typeof(IReadOnlyList<ChangeRequestView>))]
[JsonSerializable(typeof(List<SpecChangeView>))]
[JsonSerializable(typeof(RegressionGateResult))]
[JsonSerializable(typeof(ChangeDecisionRequest))]
[JsonSerializable(typeof(IReadOnlyList<VersionMetricsView>))]
[JsonSerializable(typeof(OwnershipView))]
[JsonSerializable(typeof(HandoverRequest))]
[JsonSerializable(typeof(PurgeView))]
[JsonSerializable(typeof(PurgeRequest))]
[JsonSerializable(typeof(LegalHoldView))]
[JsonSerializable(typeof(HoldRequest))]
public sealed partial class ChangesJsonContext : JsonSerializerContext;
