using Pilotage.Core.Audit;
using Pilotage.Core.Audit.Checkpoints;

namespace Pilotage.Server.Audit;

/// <summary>One sentence for a verification: what held, or the first thing that did not.</summary>
public static class AuditVerdicts
{
    public static string Summary(AuditVerification v)
    {
        ArgumentNullException.ThrowIfNull(v);
        var checks = v.Checkpoints ?? [];
        if (checks.FirstOrDefault(c => c.Verdict is CheckpointVerdict.BadSignature or CheckpointVerdict.Malformed) is { } bad)
        {
            return $"audit log NOT VERIFIED: {Where(bad)} {bad.Detail}";
        }
        if (v.FirstBad is { } broken) return $"audit chain BROKEN at entry {broken.Sequence}: {broken.Reason}";
        if (checks.FirstOrDefault(c => c.Verdict != CheckpointVerdict.Consistent) is { } failed)
        {
            var kind = failed.Verdict == CheckpointVerdict.Truncated ? "TRUNCATED" : "REWRITTEN";
            return $"audit log {kind}: {Where(failed)} {failed.Detail}";
        }
        if (v.TreeProblem is { } tree) return $"audit tree BROKEN: {tree}";
        if (!v.Ok) return "audit log NOT VERIFIED";
        var against = checks.Count == 0 ? "no signed checkpoint to compare with" : $"consistent with {checks.Count} signed checkpoint source(s), the largest of {checks.Max(c => c.TreeSize)} entries";
        return $"audit log verified: {v.Entries} entries chain, Merkle root {v.RootHash}, {against}";
    }

    private static string Where(CheckpointCheck c) => c.TreeSize >= 0 ? $"checkpoint of {c.TreeSize} entries ({c.Source}):" : $"checkpoint ({c.Source}):";
}
