using Pilotage.Core.Pilots;
using Pilotage.Core.Specs;
using Pilotage.Server.Reports;

namespace Pilotage.Server.Tests.Reports;

/// <summary>The report's words for verdicts, readiness statuses and control events, and the badges they get.</summary>
public sealed class ReportVocabularyTests
{
    [Fact]
    public void Verdicts_and_readiness_statuses_parse_back_from_the_names_the_report_writes()
    {
        foreach (var verdict in Enum.GetValues<Verdict>()) Assert.Equal(verdict, ReportVocabulary.ParseVerdict(SpecEnum.ToName(verdict)));
        foreach (var status in Enum.GetValues<ReadinessStatus>()) Assert.Equal(status, ReportVocabulary.ParseReadiness(SpecEnum.ToName(status)));
        Assert.Null(ReportVocabulary.ParseVerdict("passed"));
        Assert.Null(ReportVocabulary.ParseReadiness("Blocking"));
    }

    [Fact]
    public void Control_event_kinds_keep_their_names()
    {
        Assert.Equal(new[] { "pause", "resume", "restrict", "rule" }, Enum.GetValues<ControlEventKind>().Select(ReportVocabulary.Name));
    }

    [Theory]
    [InlineData("pass", "good")]
    [InlineData("fail", "bad")]
    [InlineData("insufficient_evidence", "warn")]
    [InlineData("unknown", "warn")]
    public void A_verdict_badge_follows_the_verdict(string verdict, string badge) => Assert.Equal(badge, ReportFormat.VerdictClass(verdict));

    [Theory]
    [InlineData("ok", "good")]
    [InlineData("blocking", "bad")]
    [InlineData("warning", "warn")]
    [InlineData("needs_answer", "muted")]
    [InlineData("unknown", "muted")]
    public void A_readiness_badge_follows_the_status(string status, string badge) => Assert.Equal(badge, ReportFormat.StatusClass(status));
}
