using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Pilotage.Core.Incidents;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.PauseRules;
using Pilotage.Core.Specs;
using Pilotage.Server.Changes;
using Pilotage.Server.Storage;
using Pilotage.Server.Systems;

namespace Pilotage.Server.PauseRules;

/// <summary>What firing a rule did.</summary>
/// <param name="StopsServing">The system is now paused or restricted: no further rule of it is evaluated.</param>
/// <param name="ConfigChanged">A rollback put an earlier configuration in force.</param>
public sealed record FireOutcome(bool Fired, bool StopsServing, bool ConfigChanged, string Applied)
{
    public override string ToString() => Applied;
}

/// <summary>
/// What the evaluating replica saw when the rule fired: the system's lifecycle position and config
/// version in its policy snapshot, and when the rule was last armed. Re-checked under the control
/// plane's lock so that replicas seeing the same evidence apply and record the firing once.
/// </summary>
public sealed record FireGuard(LifecyclePhase Phase, int Stage, int ConfigVersion, DateTimeOffset ArmedAt);

/// <summary>
/// Applies a fired rule's action as ONE control-plane command: the lifecycle change (or config
/// rollback) and the <c>system.rule_fired</c> audit entry commit together, and the commit refreshes
/// the gateway's snapshot before the command returns.
/// </summary>
public static class PauseRuleActions
{
    public const string ActorPrefix = PauseRuleActor.Prefix;

    public static Task<FireOutcome> FireAsync(ControlPlane control, string slug, PauseRuleSpec rule, int index, RuleCheck check, CancellationToken ct, FireGuard? guard = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(check);
        var actor = ActorPrefix + rule.Metric;
        return control.ExecuteAsync(actor, async command =>
        {
            var row = await command.Db.Systems.SingleOrDefaultAsync(s => s.Slug == slug, ct);
            if (row is null) return new FireOutcome(false, false, false, "skipped: the system no longer exists");
            var state = row.Lifecycle();
            if (state.Phase is not (LifecyclePhase.Pilot or LifecyclePhase.Rollout or LifecyclePhase.Production))
            {
                // A person (or another rule) got there first: nothing to do, nothing to record.
                return new FireOutcome(false, false, false, $"skipped: the system is already {state.Phase.ToString().ToLowerInvariant()}");
            }
            if (guard is not null && await AlreadyHandledAsync(command, row, state, rule, index, guard, ct) is { } skipped)
            {
                return new FireOutcome(false, false, false, skipped);
            }
            var spec = SpecCanonicalJson.Deserialize(row.SpecJson);
            var reason = $"pause rule {index + 1} fired: {check.Sentence}";
            // A rule on incidents acts on what people filed: the pause names who, so it can be answered for.
            var filed = RuleMetrics.KindOf(rule.Metric) == RuleSampleKind.Incident ? await IncidentsBehindAsync(command, row, rule, ct) : [];
            if (filed.Count > 0) reason += "; " + FiledBy(filed);
            FireOutcome outcome;
            switch (rule.Action)
            {
                case PauseAction.Pause:
                    outcome = Pause(command, row, state, spec, actor, reason, "paused");
                    break;
                case PauseAction.Restrict when state.Phase == LifecyclePhase.Pilot:
                    outcome = Pause(command, row, state, spec, actor,
                        reason + "; the rule restricts, but a pilot cannot be restricted (it is not a lifecycle move), so it is paused instead",
                        "paused instead of restricted: a pilot cannot be restricted");
                    break;
                case PauseAction.Restrict:
                    outcome = Restrict(command, row, state, spec, rule, actor, reason);
                    break;
                case PauseAction.Rollback:
                    outcome = await RollbackAsync(command, row, state, spec, actor, reason, ct);
                    break;
                default:
                    outcome = new FireOutcome(true, false, false, "notified");
                    break;
            }
            var after = new JsonObject
            {
                ["rule"] = PauseRuleEngine.RuleJson(rule),
                ["ruleIndex"] = index,
                ["metric"] = rule.Metric,
                ["figure"] = check.Figure,
                ["threshold"] = check.Threshold,
                ["direction"] = check.Direction,
                ["window"] = check.Window,
                ["n"] = check.N,
                ["action"] = SpecEnum.ToName(rule.Action),
                ["applied"] = outcome.Applied,
                ["sentence"] = check.Sentence,
            };
            if (filed.Count > 0)
            {
                after["incidents"] = new JsonArray(filed.Select(f => (JsonNode)new JsonObject { ["id"] = f.Id, ["reportedBy"] = f.ReportedBy, ["severity"] = f.Severity }).ToArray());
            }
            command.Audit("system.rule_fired", $"system:{slug}", null, after.ToJsonString());
            return outcome;
        }, ct);
    }

    /// <summary>An incident counted by a rule that fired.</summary>
    private sealed record FiledIncident(long Id, string ReportedBy, string Severity);

    /// <summary>
    /// The incidents of the rule's metric (<c>incidents_high</c>: the high ones) in its window, since the
    /// system entered its current position, newest first. Read here rather than carried from the engine,
    /// so every replica names the same people.
    /// </summary>
    private static async Task<IReadOnlyList<FiledIncident>> IncidentsBehindAsync(CommandContext command, AiSystemRow row, PauseRuleSpec rule, CancellationToken ct)
    {
        var severity = rule.Metric["incidents_".Length..];
        var since = row.PhaseSince ?? row.CreatedAt;
        var incident = IncidentKind.Incident.ToName();
        var recent = await command.Db.Incidents.AsNoTracking().Where(i => i.System == row.Slug && i.Kind == incident)
            .OrderByDescending(i => i.Id).Take(rule.Over ?? 1000).Select(i => new { i.Id, i.ReportedBy, i.ReportedAt, i.Severity }).ToListAsync(ct);
        // Compared here: SQLite cannot compare DateTimeOffset values in SQL.
        var from = rule.Over is null ? command.Now - RuleMetrics.SpanOf(rule) : DateTimeOffset.MinValue;
        return recent.Where(i => i.ReportedAt >= since && i.ReportedAt >= from && i.Severity == severity)
            .Select(i => new FiledIncident(i.Id, i.ReportedBy, i.Severity)).ToList();
    }

    private static string FiledBy(IReadOnlyList<FiledIncident> filed)
    {
        const int Named = 5;
        var named = string.Join(", ", filed.Take(Named).Select(f => $"incident {f.Id} filed by {f.ReportedBy}"));
        return filed.Count > Named ? $"{named} and {filed.Count - Named} more" : named;
    }

    /// <summary>
    /// Why this firing is not to be applied, or null. The command holds the audit head lock, which
    /// serialises commands across replicas, so what it reads here is every earlier firing's result.
    /// </summary>
    private static async Task<string?> AlreadyHandledAsync(CommandContext command, AiSystemRow row, LifecycleState state, PauseRuleSpec rule, int index, FireGuard guard, CancellationToken ct)
    {
        if (state.Phase != guard.Phase || state.Stage != guard.Stage || row.ConfigVersion != guard.ConfigVersion)
        {
            // Paused, moved, reconfigured or rolled back since: the evidence belongs to what came before.
            return "skipped: the system changed (lifecycle position or configuration) since the evidence was gathered";
        }
        var subject = $"system:{row.Slug}";
        // Firings are rare, so reading this system's (audit entries are keyed by sequence only) is cheap
        // enough. The time is compared here: SQLite cannot compare DateTimeOffset values in SQL.
        var fired = await command.Db.AuditEntries.AsNoTracking()
            .Where(a => a.Action == "system.rule_fired" && a.Subject == subject)
            .Select(a => new { a.At, a.After }).ToListAsync(ct);
        var ruleJson = PauseRuleEngine.RuleJson(rule).ToJsonString();
        foreach (var (at, after) in fired.Select(f => (f.At, f.After)))
        {
            if (after is null || at < guard.ArmedAt) continue;
            var node = JsonNode.Parse(after);
            if (node?["ruleIndex"]?.GetValue<int>() == index && node["rule"]?.ToJsonString() == ruleJson)
            {
                return "skipped: another replica already fired this rule on the same evidence";
            }
        }
        return null;
    }

    private static FireOutcome Pause(CommandContext command, AiSystemRow row, LifecycleState state, SystemSpec spec, string actor, string reason, string applied)
    {
        var transition = LifecycleMachine.Apply(state, LifecycleCommand.Pause(), LifecycleContext.From(spec));
        if (!transition.Allowed) return new FireOutcome(true, false, false, $"not paused: {transition.Reason}");
        var before = Snapshot(row);
        row.MoveTo(transition.State, command.Now);
        row.PausedBy = actor;
        row.PausedAt = command.Now;
        row.PauseReason = reason;
        command.Audit("system.paused", $"system:{row.Slug}", before, Snapshot(row));
        return new FireOutcome(true, true, false, applied);
    }

    private static FireOutcome Restrict(CommandContext command, AiSystemRow row, LifecycleState state, SystemSpec spec, PauseRuleSpec rule, string actor, string reason)
    {
        var transition = LifecycleMachine.Apply(state, LifecycleCommand.Restrict(), LifecycleContext.From(spec));
        if (!transition.Allowed) return Pause(command, row, state, spec, actor, reason + $"; restricting was refused ({transition.Reason}), so it is paused instead", "paused instead of restricted");
        var next = transition.State;
        var applied = "restricted: every answer is held for approval until a person resumes";
        // The serving position as the stage index: production is past the last stage.
        var position = state.Phase == LifecyclePhase.Production ? spec.Rollout.Count : state.Stage;
        var stage = spec.Rollout.Select((s, i) => (s.Name, i)).FirstOrDefault(s => s.Name == rule.To);
        if (rule.To is not null && stage.Name is not null)
        {
            if (stage.i < position)
            {
                // Back to the earlier stage's groups, in approval mode; resuming returns to that stage.
                next = next with { SuspendedPhase = LifecyclePhase.Rollout, SuspendedStage = stage.i };
                applied = $"restricted to stage '{stage.Name}' (its groups only), every answer held for approval until a person resumes";
            }
            else
            {
                applied += $" (stage '{rule.To}' is not earlier than the current position; the groups stay as they are)";
            }
        }
        else if (rule.To is not null && SpecEnum.TryParse<ServingMode>(rule.To, out var mode) && mode != ServingMode.Approval)
        {
            applied += $" (the rule asks for {rule.To} mode; a restriction serves in approval mode, the strictest that still answers)";
        }
        var before = Snapshot(row);
        row.MoveTo(next, command.Now);
        row.PausedBy = actor;
        row.PausedAt = command.Now;
        row.PauseReason = $"{reason}; {applied}";
        command.Audit("system.restricted", $"system:{row.Slug}", before, Snapshot(row));
        return new FireOutcome(true, true, false, applied);
    }

    private static async Task<FireOutcome> RollbackAsync(CommandContext command, AiSystemRow row, LifecycleState state, SystemSpec spec, string actor, string reason, CancellationToken ct)
    {
        var versions = await command.Db.ConfigVersions.Where(v => v.SystemId == row.Id).OrderByDescending(v => v.Version).ToListAsync(ct);
        var current = versions.FirstOrDefault(v => v.Version == row.ConfigVersion);
        if (current is not null && current.CreatedBy.StartsWith(ActorPrefix, StringComparison.Ordinal))
        {
            // Never roll back a rollback: that would swap two bad configurations back and forth.
            return Pause(command, row, state, spec, actor,
                reason + $"; the configuration in force (version {row.ConfigVersion}) was itself restored by a pause rule, so the system is paused instead of rolled back again",
                "paused instead of rolled back: the configuration in force was already a rollback");
        }
        var previous = versions.FirstOrDefault(v => v.Version < row.ConfigVersion && v.Hash != current?.Hash);
        if (previous is null)
        {
            return Pause(command, row, state, spec, actor, reason + $"; there is no earlier configuration than version {row.ConfigVersion} to roll back to, so the system is paused instead",
                "paused instead of rolled back: no earlier configuration");
        }
        var number = ConfigVersions.Restore(command, row, spec, previous, versions.Max(v => v.Version) + 1, $"{actor} (rollback to version {previous.Version})", reason);
        return new FireOutcome(true, false, true, $"rolled back to the configuration of version {previous.Version} (now in force as version {number})");
    }

    private static string Snapshot(AiSystemRow row) => JsonSerializer.Serialize(
        new LifecycleView(row.Slug, row.Phase.ToLowerInvariant(), row.Stage, row.PausedBy, row.PausedAt, row.PauseReason), SystemsApiJsonContext.Default.LifecycleView);
}
