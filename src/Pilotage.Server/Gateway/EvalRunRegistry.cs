using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Gateway;
using Pilotage.Core.Metrics;
using Pilotage.Core.TestSets;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;
using Pilotage.Server.Storage;

namespace Pilotage.Server.Gateway;

/// <summary>
/// Marks gateway requests that are test cases of a running evaluation (header
/// <c>x-pilotage-eval: run=12;case=refund-1;category=edge</c>), so they are recorded as evaluation
/// traffic, apart from real use. Only the person who started the run can mark requests with it.
/// </summary>
public sealed class EvalRunRegistry(PilotageStore store)
{
    public const string Header = "x-pilotage-eval";

    private readonly ConcurrentDictionary<long, (string System, string StartedBy, long? Change)> _running = new();

    /// <summary>Candidate specs of change requests under evaluation, read once per run.</summary>
    private readonly ConcurrentDictionary<long, Pilotage.Core.Specs.SystemSpec> _candidates = new();

    public void Started(long id, string system, string startedBy, long? change = null) => _running[id] = (system, startedBy, change);

    public void Finished(long id)
    {
        _running.TryRemove(id, out _);
        _candidates.TryRemove(id, out _);
    }

    /// <summary>The request's mark, and the system it is served by (a change request's run: the candidate); or the refusal.</summary>
    internal async Task<(GatewayRefusal? Refusal, EvalMark? Mark, GatewaySystem System)> AttachAsync(string header, GatewaySystem system, KeyGrant key, CancellationToken ct)
    {
        long? run = null;
        string? caseId = null, category = null;
        foreach (var part in header.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            switch (name)
            {
                case "run" when long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var id): run = id; break;
                case "case": caseId = value.Length > 200 ? value[..200] : value; break;
                case "category": category = value; break;
            }
        }
        if (run is not { } runId || caseId is null || category is null || !MetricCatalogue.Categories.Contains(category))
        {
            return (new GatewayRefusal(400, "invalid_eval_header", $"the {Header} header must be 'run=<id>;case=<case id>;category=<{string.Join("|", MetricCatalogue.Categories)}>'"), null, system);
        }
        if (!_running.TryGetValue(runId, out var owner))
        {
            // Not started by this process (another replica, or a restart): read it once.
            await using var db = store.CreateDbContext();
            var row = await db.EvalRuns.AsNoTracking().SingleOrDefaultAsync(r => r.Id == runId && r.Status == EvalRunStatus.Running.Name(), ct);
            if (row is null) return (new GatewayRefusal(400, "eval_run_not_running", $"evaluation run {runId} does not exist or has finished; start a new one with 'pilotage eval'"), null, system);
            owner = (row.System, row.StartedBy, row.ChangeRequest);
            _running[runId] = owner;
        }
        if (owner.System != system.State.Slug || !string.Equals(owner.StartedBy, key.User.Email, StringComparison.OrdinalIgnoreCase))
        {
            return (new GatewayRefusal(403, "eval_run_not_yours", $"evaluation run {runId} was not started by you for '{system.State.Slug}'; start your own with 'pilotage eval'"), null, system);
        }
        var mark = new EvalMark(runId, caseId, category);
        if (owner.Change is { } change)
        {
            // A change request's run: the case is sent with the candidate's config and upstream, the rest of the system as it is.
            if (!_candidates.TryGetValue(runId, out var candidate))
            {
                await using var db = store.CreateDbContext();
                var json = await db.ChangeRequests.AsNoTracking().Where(c => c.Id == change).Select(c => c.SpecJson).SingleOrDefaultAsync(ct);
                if (json is null) return (new GatewayRefusal(400, "eval_run_not_running", $"the change request {change} of evaluation run {runId} no longer exists"), null, system);
                candidate = _candidates[runId] = Pilotage.Core.Specs.SpecCanonicalJson.Deserialize(json);
            }
            var live = system.State;
            return (null, mark, GatewaySystem.From(live with { Spec = Changes.ChangeControl.WithControlled(live.Spec, candidate) }));
        }
        return (null, mark, system);
    }
}
