using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Evidence;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;
using Pilotage.Server.Api;
using Pilotage.Server.Evidence;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Changes;

/// <summary>
/// The regression gate of a change request. The server does not call the model itself: the candidate
/// is evaluated by <c>pilotage eval SYSTEM --set FILE --change ID</c>, whose cases go through the
/// gateway with the candidate configuration (see EvalRunRegistry), and the configuration in force by a
/// plain <c>pilotage eval</c> with the same file. The gate compares the latest completed run of each.
/// </summary>
internal static class RegressionGate
{
    public static async Task<RegressionGateResult> CheckAsync(PilotageDbContext db, AiSystemRow system, ChangeRequestRow change, RegressionGateSpec gate, DateTimeOffset now, CancellationToken ct)
    {
        var candidate = await db.EvalRuns.AsNoTracking()
            .Where(r => r.System == system.Slug && r.ChangeRequest == change.Id && r.Status == EvalRunStatus.Completed.Name() && r.TestSet == gate.TestSet)
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            ?? throw Problems.Conflict($"the regression gate of '{system.Slug}' needs an evaluation of the candidate with the test set '{gate.TestSet}': pilotage eval {system.Slug} --set FILE --change {change.Id}");
        var baseline = await db.EvalRuns.AsNoTracking()
            .Where(r => r.System == system.Slug && r.ChangeRequest == null && r.ConfigVersion == system.ConfigVersion && r.Status == EvalRunStatus.Completed.Name() && r.TestSetHash == candidate.TestSetHash)
            .OrderByDescending(r => r.Id).FirstOrDefaultAsync(ct)
            ?? throw Problems.Conflict($"the regression gate of '{system.Slug}' compares with the configuration in force (version {system.ConfigVersion}), which has no completed evaluation with the same test set file as run {candidate.Id}: pilotage eval {system.Slug} --set FILE");
        var baseCounts = (await SystemMetrics.PassRatesOfRunAsync(db, baseline.Id, ct)).GetValueOrDefault("") ?? CaseCounts.None;
        var candCounts = (await SystemMetrics.PassRatesOfRunAsync(db, candidate.Id, ct)).GetValueOrDefault("") ?? CaseCounts.None;
        var (basePassed, baseTotal) = (baseCounts.Passed, baseCounts.Judged);
        var (candPassed, candTotal) = (candCounts.Passed, candCounts.Judged);
        if (baseTotal == 0 || candTotal == 0)
        {
            // Errored cases ran to no verdict: comparing them would compare outages, not configurations.
            throw Problems.Conflict($"the regression gate of '{system.Slug}' has no graded cases to compare (run {baseline.Id}: {baseTotal}, {baseCounts.Errors} errored; run {candidate.Id}: {candTotal}, {candCounts.Errors} errored); cases marked needs_human count once reviewed, errored cases once rerun");
        }
        var baseRate = (double)basePassed / baseTotal;
        var candRate = (double)candPassed / candTotal;
        var drop = baseRate - candRate;
        // A tolerance for the division: 0.85 − 0.80 must count as 0.05, not 0.0500000001.
        var passed = drop <= gate.MaxPassRateDrop + 1e-9;
        return new RegressionGateResult(gate.TestSet, baseline.Id, baseline.ConfigVersion, baseRate, baseTotal, candidate.Id, candRate, candTotal, gate.MaxPassRateDrop, drop, passed, now);
    }
}
