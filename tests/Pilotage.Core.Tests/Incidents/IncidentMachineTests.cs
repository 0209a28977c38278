using Pilotage.Core.Incidents;
using S = Pilotage.Core.Incidents.IncidentStatus;

namespace Pilotage.Core.Tests.Incidents;

/// <summary>Every (status × target status) pair, for every kind and severity, allowed or refused.</summary>
public class IncidentMachineTests
{
    private static readonly (S From, S To)[] Allowed =
    [
        (S.Open, S.Investigating),
        (S.Open, S.Resolved),
        (S.Investigating, S.Resolved),
        (S.Resolved, S.Investigating),
        (S.Resolved, S.Reviewed),
    ];

    public static TheoryData<S, S, IncidentKind, IncidentSeverity> EveryPair()
    {
        var data = new TheoryData<S, S, IncidentKind, IncidentSeverity>();
        foreach (var from in Enum.GetValues<S>())
        {
            foreach (var to in Enum.GetValues<S>())
            {
                foreach (var kind in Enum.GetValues<IncidentKind>())
                {
                    foreach (var severity in Enum.GetValues<IncidentSeverity>()) data.Add(from, to, kind, severity);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void Only_the_listed_moves_are_allowed_and_every_refusal_says_why(S from, S to, IncidentKind kind, IncidentSeverity severity)
    {
        // With a review note, so only the status rules decide.
        var state = new IncidentState(kind, severity, from, "root cause found; prompt changed");
        var result = IncidentMachine.Apply(state, new IncidentCommand(to));
        if (Allowed.Contains((from, to)))
        {
            Assert.True(result.Allowed, result.Reason);
            Assert.Equal(to, result.State.Status);
            Assert.Equal(kind, result.State.Kind);
            Assert.Equal(severity, result.State.Severity);
            Assert.Null(result.Reason);
        }
        else
        {
            Assert.False(result.Allowed);
            Assert.Same(state, result.State);
            Assert.False(string.IsNullOrWhiteSpace(result.Reason));
            Assert.Contains(kind.Describe(), result.Reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(S.Open, S.Reviewed, "move it to resolved first")]
    [InlineData(S.Investigating, S.Reviewed, "move it to resolved first")]
    [InlineData(S.Investigating, S.Open, "cannot go back to open")]
    [InlineData(S.Resolved, S.Open, "move it to investigating")]
    [InlineData(S.Reviewed, S.Open, "closed")]
    [InlineData(S.Reviewed, S.Investigating, "closed")]
    [InlineData(S.Reviewed, S.Resolved, "closed")]
    [InlineData(S.Open, S.Open, "already open")]
    [InlineData(S.Investigating, S.Investigating, "already investigating")]
    [InlineData(S.Resolved, S.Resolved, "already resolved")]
    [InlineData(S.Reviewed, S.Reviewed, "already reviewed")]
    public void A_forbidden_move_names_the_way_forward(S from, S to, string expected)
    {
        var result = IncidentMachine.Apply(new IncidentState(IncidentKind.Incident, IncidentSeverity.Low, from), new IncidentCommand(to));
        Assert.False(result.Allowed);
        Assert.Contains(expected, result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IncidentSeverity.High, "a high incident cannot close without its post-incident review: add a review note")]
    [InlineData(IncidentSeverity.Critical, "a critical incident cannot close without its post-incident review: add a review note")]
    public void A_high_or_critical_incident_cannot_close_without_a_review_note(IncidentSeverity severity, string reason)
    {
        var resolved = new IncidentState(IncidentKind.Incident, severity, S.Resolved);
        var refused = IncidentMachine.Apply(resolved, new IncidentCommand(S.Reviewed));
        Assert.False(refused.Allowed);
        Assert.Equal(reason, refused.Reason);

        var blank = IncidentMachine.Apply(resolved, new IncidentCommand(S.Reviewed, "   "));
        Assert.False(blank.Allowed);
        Assert.Equal(reason, blank.Reason);

        var closed = IncidentMachine.Apply(resolved, new IncidentCommand(S.Reviewed, "  timeout was too short; raised and alerted  "));
        Assert.True(closed.Allowed, closed.Reason);
        Assert.Equal(S.Reviewed, closed.State.Status);
        Assert.Equal("timeout was too short; raised and alerted", closed.State.ReviewNote);

        var noted = IncidentMachine.Apply(resolved with { ReviewNote = "written earlier" }, new IncidentCommand(S.Reviewed));
        Assert.True(noted.Allowed, noted.Reason);
        Assert.Equal("written earlier", noted.State.ReviewNote);
    }

    [Theory]
    [InlineData(IncidentKind.Complaint, "a high complaint cannot close")]
    [InlineData(IncidentKind.SupportRequest, "a high support request cannot close")]
    public void Complaints_and_support_requests_follow_the_same_review_rule(IncidentKind kind, string reason)
    {
        var result = IncidentMachine.Apply(new IncidentState(kind, IncidentSeverity.High, S.Resolved), new IncidentCommand(S.Reviewed));
        Assert.False(result.Allowed);
        Assert.StartsWith(reason, result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(IncidentSeverity.Low)]
    [InlineData(IncidentSeverity.Medium)]
    public void A_low_or_medium_incident_may_close_without_a_note(IncidentSeverity severity)
    {
        var result = IncidentMachine.Apply(new IncidentState(IncidentKind.Incident, severity, S.Resolved), new IncidentCommand(S.Reviewed));
        Assert.True(result.Allowed, result.Reason);
        Assert.Null(result.State.ReviewNote);
    }

    [Fact]
    public void The_full_path_open_investigating_resolved_reopened_resolved_reviewed()
    {
        var state = new IncidentState(IncidentKind.Incident, IncidentSeverity.Critical, S.Open);
        foreach (var (to, note) in new (S, string?)[] { (S.Investigating, null), (S.Resolved, null), (S.Investigating, null), (S.Resolved, null), (S.Reviewed, "review held 2026-12-01") })
        {
            var result = IncidentMachine.Apply(state, new IncidentCommand(to, note));
            Assert.True(result.Allowed, result.Reason);
            state = result.State;
        }
        Assert.Equal(S.Reviewed, state.Status);
        Assert.Equal("review held 2026-12-01", state.ReviewNote);
    }

    [Theory]
    [InlineData("support_request", IncidentKind.SupportRequest)]
    [InlineData(" Support-Request ", IncidentKind.SupportRequest)]
    [InlineData("COMPLAINT", IncidentKind.Complaint)]
    public void Names_parse_leniently_and_print_in_snake_case(string text, IncidentKind kind)
    {
        Assert.True(IncidentNames.TryParse<IncidentKind>(text, out var parsed));
        Assert.Equal(kind, parsed);
        Assert.False(IncidentNames.TryParse<IncidentSeverity>("severe", out _));
        Assert.Equal("one of low, medium, high, critical", IncidentNames.Choices<IncidentSeverity>());
        Assert.Equal("support_request", IncidentKind.SupportRequest.ToName());
    }
}
