using System.Globalization;
using System.Text.Json;

namespace Pilotage.Server.Audit;

/// <summary>What kind of event a timeline line is (its badge on the system page).</summary>
public enum TimelineKind { Decision, Pause, Version, Change, Ownership, Evaluation, Other }

/// <summary>One audit entry as a person reads it in a timeline: "Pilot started by mia@example.org: four-week pilot".</summary>
public sealed record AuditSentence(TimelineKind Kind, string Text)
{
    /// <summary>The kind as the pages name it (CSS class and badge).</summary>
    public string KindName => Kind.ToString().ToLowerInvariant();
}

/// <summary>
/// The one mapping from an audit action (<c>system.paused</c>, <c>system.decision.pilot</c>,
/// <c>change.approved</c>…) to the sentence timelines show: the system page's lifecycle timeline and the
/// evidence report's control events. Raw action names never reach a person; an action this mapping does
/// not know yet still reads as words ("system stage changed by …"), and a test checks every action the
/// server records is known here.
/// </summary>
public static class AuditSentences
{
    /// <summary>Every action the server records about a system, with its kind: <see cref="Describe"/> has a sentence for each.</summary>
    public static IReadOnlyDictionary<string, TimelineKind> Known { get; } = new Dictionary<string, TimelineKind>(StringComparer.Ordinal)
    {
        ["system.created"] = TimelineKind.Version,
        ["system.updated"] = TimelineKind.Version,
        ["system.config_rolled_back"] = TimelineKind.Version,
        ["system.past_pilot_imported"] = TimelineKind.Version,
        ["system.paused"] = TimelineKind.Pause,
        ["system.resumed"] = TimelineKind.Pause,
        ["system.restricted"] = TimelineKind.Pause,
        ["system.rule_fired"] = TimelineKind.Pause,
        ["change.requested"] = TimelineKind.Change,
        ["change.approved"] = TimelineKind.Change,
        ["change.rejected"] = TimelineKind.Change,
        ["change.withdrawn"] = TimelineKind.Change,
        ["change.applied"] = TimelineKind.Change,
        ["change.gate_refused"] = TimelineKind.Change,
        ["system.handover_requested"] = TimelineKind.Ownership,
        ["system.handover_accepted"] = TimelineKind.Ownership,
        ["system.handover_declined"] = TimelineKind.Ownership,
        ["system.handover_cancelled"] = TimelineKind.Ownership,
        ["system.legal_hold_placed"] = TimelineKind.Ownership,
        ["system.legal_hold_released"] = TimelineKind.Ownership,
        ["evidence.purged"] = TimelineKind.Ownership,
        ["evidence.imported"] = TimelineKind.Other,
        ["eval.started"] = TimelineKind.Evaluation,
        ["training.acknowledged"] = TimelineKind.Other,
        ["readiness.answered"] = TimelineKind.Other,
        ["incident.escalated"] = TimelineKind.Other,
    };

    private const string DecisionPrefix = "system.decision.";
    private const string EvalPrefix = "eval.";

    /// <summary>The sentence for one audit entry: its action, who did it, and its after-image (JSON, when any).</summary>
    public static AuditSentence Describe(string action, string actor, string? after)
    {
        using var json = Parse(after);
        var data = json?.RootElement;
        string? Field(string name) => data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        string Reason(params string[] names) => names.Select(Field).FirstOrDefault(r => !string.IsNullOrWhiteSpace(r)) is { } r ? ": " + r : "";
        var by = By(actor);
        if (action.StartsWith(DecisionPrefix, StringComparison.Ordinal))
        {
            return new(TimelineKind.Decision, Decision(action[DecisionPrefix.Length..], by, data) + Reason("reason"));
        }
        var text = action switch
        {
            "system.created" => $"System created by {actor} (config version 1)",
            "system.updated" => $"Spec updated by {actor}",
            "system.config_rolled_back" => $"Configuration rolled back {by}" + Number(data, "restoredFrom", " to config version {0}") + Reason("reason"),
            "system.past_pilot_imported" => $"A pilot that had already ended{(Field("ends") is { } ends ? $" (on {ends})" : "")} imported as a record by {actor}; it never served after its end",
            "system.paused" => $"Paused {by}" + Reason("pauseReason", "reason"),
            "system.resumed" => $"Resumed {by}" + Reason("reason"),
            "system.restricted" => $"Restricted to approval {by}" + Reason("pauseReason", "reason"),
            "system.rule_fired" => RuleFired(data),
            "change.requested" => $"Change{Number(data, "id", " #{0}")} requested by {actor}",
            "change.approved" => $"Change{Number(data, "id", " #{0}")} approved by {actor}" + Reason("decisionReason"),
            "change.rejected" => $"Change{Number(data, "id", " #{0}")} rejected by {actor}" + Reason("decisionReason"),
            "change.withdrawn" => $"Change{Number(data, "id", " #{0}")} withdrawn by {actor}",
            "change.applied" => $"Change{Number(data, "id", " #{0}")} applied by {actor}" + Number(data, "appliedVersion", " as config version {0}"),
            "change.gate_refused" => $"Change{Number(data, "id", " #{0}")} refused by the regression gate",
            "system.handover_requested" => $"Handover to {Field("pendingOwner") ?? "a new owner"} proposed by {actor}" + Reason("reason"),
            "system.handover_accepted" => $"Handover accepted: {actor} owns the system now",
            "system.handover_declined" => $"Handover declined by {actor}",
            "system.handover_cancelled" => $"Handover cancelled by {actor}",
            "system.legal_hold_placed" => $"Legal hold placed by {actor}" + Reason("reason"),
            "system.legal_hold_released" => $"Legal hold released by {actor}" + Reason("reason"),
            "evidence.purged" => $"Content older than{Number(data, "olderThanDays", " {0}")} days blanked by {actor}" + Number(data, "interactions", " ({0} interactions)"),
            "evidence.imported" => $"Evidence imported by {actor}" + Number(data, "imported", ": {0} records") + (Field("fileSha256") is { Length: >= 12 } sha ? $" from a file with SHA-256 {sha[..12]}…" : ""),
            "eval.started" => $"Evaluation run{Number(data, "id", " #{0}")} started by {actor}" + (Field("testSet") is { } set ? $" with {set}" : ""),
            "training.acknowledged" => $"Training acknowledged by {actor}",
            "readiness.answered" => $"Readiness question {Field("questionId") ?? ""} answered by {actor}".Replace("question  answered", "question answered", StringComparison.Ordinal),
            "incident.escalated" => $"Incident{Number(data, "incident", " #{0}")} escalated to the owner" + (Field("title") is { } title ? ": " + title : ""),
            _ when action.StartsWith(EvalPrefix, StringComparison.Ordinal) =>
                $"Evaluation run{Number(data, "id", " #{0}")} {action[EvalPrefix.Length..].Replace('_', ' ')}",
            // Not known yet: still words, never the raw action name.
            _ => Capitalise(action.Replace('.', ' ').Replace('_', ' ')) + $" by {actor}",
        };
        var kind = Known.TryGetValue(action, out var known) ? known : action.StartsWith(EvalPrefix, StringComparison.Ordinal) ? TimelineKind.Evaluation : TimelineKind.Other;
        return new(kind, text);
    }

    /// <summary>"by mia@example.org", or "by the pause rule on rejection_rate" when a rule acted.</summary>
    private static string By(string actor) =>
        actor.StartsWith(Pilotage.Core.PauseRules.PauseRuleActor.Prefix, StringComparison.Ordinal)
            ? "by the pause rule on " + actor[Pilotage.Core.PauseRules.PauseRuleActor.Prefix.Length..]
            : "by " + actor;

    private static string Decision(string outcome, string by, JsonElement? data)
    {
        var toPhase = Text(data, "toPhase");
        var toStage = data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("toStage", out var s) && s.TryGetInt32(out var stage) ? stage : 0;
        var overridden = data is { ValueKind: JsonValueKind.Object } d && d.TryGetProperty("override", out var ov) && ov.ValueKind == JsonValueKind.True
            ? " (against the evidence's recommendation)" : "";
        var sentence = outcome switch
        {
            "pilot" => $"Pilot started {by}",
            "proceed" => $"Decided to proceed {by}",
            "narrow" => $"Decided to narrow the scope {by}",
            "redesign" => $"Sent back to redesign {by}",
            "repilot" => $"Decided to run the pilot again {by}",
            "stop" => $"Stopped {by}",
            "expand" => toPhase == "production" ? $"Expanded to production {by}" : $"Expanded to rollout stage {(toStage + 1).ToString(CultureInfo.InvariantCulture)} {by}",
            "restrict" => $"Restricted to approval {by}",
            "retire" => $"Retired {by}",
            "extend" => $"Pilot extended {by}" + (Text(data, "newEndDate") is { } end ? $" until {end}" : ""),
            _ => $"Decision '{outcome.Replace('_', ' ')}' recorded {by}",
        };
        return sentence + overridden;
    }

    /// <summary>"Pause rule rejection_rate > 0.4 over the last 20 reviews fired at 0.45: paused".</summary>
    private static string RuleFired(JsonElement? data)
    {
        var metric = Text(data, "metric") ?? "a metric";
        var rule = data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty("rule", out var r) && r.ValueKind == JsonValueKind.Object ? r : (JsonElement?)null;
        var above = Num(rule, "above");
        var below = Num(rule, "below");
        var threshold = above is { } a ? $" > {a}" : below is { } b ? $" < {b}" : "";
        var window = Text(data, "window") is { Length: > 0 } w ? $" over {w}" : "";
        var figure = Num(data, "figure") is { } f ? $" at {f}" : "";
        var applied = Text(data, "applied") is { Length: > 0 } done ? ": " + done : "";
        return $"Pause rule {metric}{threshold}{window} fired{figure}{applied}";
    }

    private static string Number(JsonElement? data, string name, string format) =>
        data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? string.Format(CultureInfo.InvariantCulture, format, v.GetRawText())
            : "";

    private static string? Num(JsonElement? data, string name) =>
        data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble().ToString("0.###", CultureInfo.InvariantCulture)
            : null;

    private static string? Text(JsonElement? data, string name) =>
        data is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static JsonDocument? Parse(string? after)
    {
        if (string.IsNullOrEmpty(after) || after[0] != '{') return null;
        try
        {
            return JsonDocument.Parse(after);
        }
        catch (JsonException)
        {
            // An after-image that is not JSON has nothing more to say than the action and who did it.
            return null;
        }
    }
}
