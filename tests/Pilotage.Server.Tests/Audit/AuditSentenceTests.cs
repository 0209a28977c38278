using System.Text.RegularExpressions;
using Pilotage.Server.Audit;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Audit;

/// <summary>Timelines say what happened in sentences, from one mapping of audit actions; never a raw action name.</summary>
public sealed partial class AuditSentenceTests
{
    [Fact]
    public void Decisions_pauses_and_rules_read_as_sentences()
    {
        Assert.Equal(new AuditSentence(TimelineKind.Decision, "Pilot started by mia@example.org: four-week pilot"),
            AuditSentences.Describe("system.decision.pilot", "mia@example.org", """{"outcome":"pilot","reason":"four-week pilot","toPhase":"pilot","toStage":0}"""));
        Assert.Equal("Expanded to rollout stage 2 by owner@example.org: gate open",
            AuditSentences.Describe("system.decision.expand", "owner@example.org", """{"reason":"gate open","toPhase":"rollout","toStage":1}""").Text);
        Assert.Equal("Paused by the pause rule on rejection_rate: pause rule 1 fired: rejection_rate 0.45 over the last 20 reviews is above 0.4",
            AuditSentences.Describe("system.paused", "pause rule: rejection_rate", """{"phase":"paused","pauseReason":"pause rule 1 fired: rejection_rate 0.45 over the last 20 reviews is above 0.4"}""").Text);
        Assert.Equal("Pause rule rejection_rate > 0.4 over the last 20 reviews fired at 0.45: paused",
            AuditSentences.Describe("system.rule_fired", "pause rule: rejection_rate",
                """{"rule":{"metric":"rejection_rate","over":20,"above":0.4,"action":"pause"},"metric":"rejection_rate","figure":0.45,"window":"the last 20 reviews","applied":"paused"}""").Text);
        Assert.Equal(new AuditSentence(TimelineKind.Pause, "Resumed by owner@example.org: prompt fixed"),
            AuditSentences.Describe("system.resumed", "owner@example.org", """{"reason":"prompt fixed"}"""));
        Assert.Equal(new AuditSentence(TimelineKind.Version, "A pilot that had already ended (on 2026-10-01) imported as a record by admin@localhost; it never served after its end"),
            AuditSentences.Describe("system.past_pilot_imported", "admin@localhost", """{"ends":"2026-10-01","appliedOn":"2026-12-04"}"""));
    }

    [Fact]
    public void An_action_without_a_sentence_still_reads_as_words_and_a_broken_after_image_is_ignored()
    {
        var unknown = AuditSentences.Describe("system.stage_changed", "admin@localhost", "not json");
        Assert.Equal("System stage changed by admin@localhost", unknown.Text);
        Assert.DoesNotContain("system.", unknown.Text, StringComparison.Ordinal);
        Assert.Equal("Paused by owner@example.org", AuditSentences.Describe("system.paused", "owner@example.org", "{\"pauseReason\":").Text);
    }

    /// <summary>Every audit action the server records about a system (subject <c>system:…</c>) has its sentence.</summary>
    [Fact]
    public void Every_system_action_the_server_records_is_known_to_the_mapping()
    {
        var source = Path.Combine(RepoPaths.Root, "src", "Pilotage.Server");
        var actions = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => SystemAudit().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value.Trim('"')))
            .Distinct().ToList();
        Assert.Contains("system.paused", actions);
        Assert.Contains("system.decision.{outcome}", actions);
        foreach (var action in actions)
        {
            var known = AuditSentences.Known.ContainsKey(action) || action.StartsWith("system.decision.", StringComparison.Ordinal) || action.StartsWith("eval.", StringComparison.Ordinal)
                || (action.Contains('?', StringComparison.Ordinal) && action.Split('"').Where(a => a.Contains('.', StringComparison.Ordinal)).All(AuditSentences.Known.ContainsKey));
            Assert.True(known, $"the audit action '{action}' has no sentence in AuditSentences");
        }
    }

    // command.Audit("system.paused", $"system:{slug}" … and command.Audit(declining ? "a" : "b", $"system:…
    [GeneratedRegex("""\.Audit\(\$?((?:"[a-z_.{}]+")|(?:[a-z]+ \? "[a-z_.]+" : "[a-z_.]+")), \$"system:""")]
    private static partial Regex SystemAudit();
}
