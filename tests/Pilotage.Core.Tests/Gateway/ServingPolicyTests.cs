using CsCheck;
using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.Gateway;

/// <summary>
/// The gateway's admission decision as a pure function: which scope each lifecycle position serves, and
/// for any system, caller and clock, which check refuses first (design.md's order: lifecycle, group,
/// training, pause, pilot expiry), against a model of that order written from the rules.
/// </summary>
public sealed class ServingPolicyTests
{
    private static readonly DateOnly PilotEnds = new(2026, 6, 30);

    /// <summary>A pilot in draft mode for pilot-group, two rollout stages, training required.</summary>
    private static readonly SystemSpec Staged = Read("""
          training: { required: true, text: Read me }
          pilot: { group: pilot-group, mode: draft, ends: 2026-06-30 }
          rollout:
            - { name: team-a, groups: [team-a], mode: draft }
            - { name: everyone, groups: [support, sales], mode: full }
        """);

    /// <summary>No pilot, no rollout, no training: production serves every signed-in person.</summary>
    private static readonly SystemSpec Open = Read("");

    private static SystemSpec Read(string extra) =>
        Assert.Single(SpecReader.Read(SpecYaml.With(extra.ReplaceLineEndings("\n").TrimEnd()), "s.yaml").Specs);

    private static SystemState State(SystemSpec spec, LifecycleState lifecycle, PauseInfo? pause = null) => new(1, spec, lifecycle, 1, pause);

    private static Caller Member(params string[] groups) => new(7, "mia@example.org", groups.ToHashSet(), TrainingAcknowledged: true);

    private static readonly DateTimeOffset During = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_phase_serves_its_own_groups_in_its_own_mode()
    {
        var pilot = ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Pilot))!;
        var second = ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Rollout, Stage: 1))!;
        var production = ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Production))!;
        var openProduction = ServingPolicy.ScopeOf(Open, new LifecycleState(LifecyclePhase.Production))!;

        Assert.Equal(("pilot-group", ServingMode.Draft, "pilot"), (string.Join(",", pilot.Groups), pilot.Mode, pilot.Label));
        Assert.Equal(("support,sales", ServingMode.Full, "rollout stage 2 (everyone)"), (string.Join(",", second.Groups), second.Mode, second.Label));
        Assert.Equal(("support,sales", ServingMode.Full, "production"), (string.Join(",", production.Groups), production.Mode, production.Label));
        Assert.True(openProduction.Everyone);
        Assert.Equal((ServingMode.Full, "production"), (openProduction.Mode, openProduction.Label));
    }

    [Theory]
    [InlineData(LifecyclePhase.Proposed)]
    [InlineData(LifecyclePhase.Decided)]
    [InlineData(LifecyclePhase.Retired)]
    public void Phases_between_serving_ones_serve_nobody(LifecyclePhase phase) =>
        Assert.Null(ServingPolicy.ScopeOf(Staged, new LifecycleState(phase)));

    [Fact]
    public void A_rollout_stage_the_spec_no_longer_has_serves_nobody_and_a_pilot_without_a_pilot_section_neither()
    {
        Assert.Null(ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Rollout, Stage: 2)));
        Assert.Null(ServingPolicy.ScopeOf(Open, new LifecycleState(LifecyclePhase.Pilot)));
    }

    [Fact]
    public void Paused_keeps_the_scope_it_will_resume_and_restricted_holds_every_answer_for_approval()
    {
        var paused = ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Paused, SuspendedPhase: LifecyclePhase.Rollout, SuspendedStage: 0))!;
        var restricted = ServingPolicy.ScopeOf(Staged, new LifecycleState(LifecyclePhase.Restricted, SuspendedPhase: LifecyclePhase.Rollout, SuspendedStage: 1))!;
        var pausedWhileRestricted = ServingPolicy.ScopeOf(Staged,
            new LifecycleState(LifecyclePhase.Paused, SuspendedPhase: LifecyclePhase.Pilot) { ResumeRestricted = true })!;

        Assert.Equal(("team-a", ServingMode.Draft, "rollout stage 1 (team-a)"), (string.Join(",", paused.Groups), paused.Mode, paused.Label));
        Assert.Equal(("support,sales", ServingMode.Approval, "rollout stage 2 (everyone), restricted to approval"), (string.Join(",", restricted.Groups), restricted.Mode, restricted.Label));
        Assert.Equal(ServingMode.Approval, pausedWhileRestricted.Mode);
    }

    [Fact]
    public void The_pilot_serves_through_its_last_day_in_UTC_and_not_a_moment_after()
    {
        var system = State(Staged, new LifecycleState(LifecyclePhase.Pilot));
        var lastMinute = new DateTimeOffset(2026, 6, 30, 23, 59, 0, TimeSpan.Zero);
        // 01:30 on 1 July in Paris is still 30 June in UTC; 00:30 on 1 July in UTC is not.
        var parisAfterMidnight = new DateTimeOffset(2026, 7, 1, 1, 30, 0, TimeSpan.FromHours(2));
        var nextDay = new DateTimeOffset(2026, 7, 1, 0, 30, 0, TimeSpan.Zero);

        Assert.True(ServingPolicy.Decide(system, Member("pilot-group"), lastMinute).Allowed);
        Assert.True(ServingPolicy.Decide(system, Member("pilot-group"), parisAfterMidnight).Allowed);
        var expired = ServingPolicy.Decide(system, Member("pilot-group"), nextDay).Refusal!;
        Assert.Equal((423, "pilot_expired"), (expired.Status, expired.Code));
        Assert.Contains("ended on 2026-06-30", expired.Message, StringComparison.Ordinal);

        var extended = system with { PilotEndsOverride = new DateOnly(2026, 7, 31) };
        Assert.True(ServingPolicy.Decide(extended, Member("pilot-group"), nextDay).Allowed);
    }

    [Fact]
    public void A_pause_quotes_who_paused_when_and_why_to_everyone_it_turns_away()
    {
        var pause = new PauseInfo("dana@example.org", new DateTimeOffset(2026, 5, 1, 14, 5, 0, TimeSpan.FromHours(2)), "answers quote card numbers");
        var system = State(Staged, new LifecycleState(LifecyclePhase.Paused, SuspendedPhase: LifecyclePhase.Pilot), pause);

        var refusal = ServingPolicy.Decide(system, Member("pilot-group"), During).Refusal!;

        Assert.Equal((423, "system_paused", "system_unavailable"), (refusal.Status, refusal.Code, refusal.Type));
        Assert.Equal("'demo-system' is paused by dana@example.org at 2026-05-01 12:05 UTC: answers quote card numbers. Continue with the manual process.", refusal.Message);
    }

    [Fact]
    public void An_orphaned_system_holds_its_answers_for_approval_but_leaves_shadow_as_it_is()
    {
        var orphan = State(Staged, new LifecycleState(LifecyclePhase.Rollout, Stage: 1)) with { OrphanRestricted = true };
        var shadow = State(Read("  pilot: { group: pilot-group, mode: shadow, ends: 2026-06-30 }"), new LifecycleState(LifecyclePhase.Pilot)) with { OrphanRestricted = true };

        var restricted = ServingPolicy.Decide(orphan, Member("support") with { TrainingAcknowledged = true }, During);
        var shadowed = ServingPolicy.Decide(shadow, Member("pilot-group"), During);

        Assert.Equal(ServingMode.Approval, restricted.Scope!.Mode);
        Assert.EndsWith("restricted to approval while its owner dana@example.org is deactivated", restricted.Scope.Label, StringComparison.Ordinal);
        Assert.Equal(ServingMode.Shadow, shadowed.Scope!.Mode);
    }

    [Theory]
    [InlineData(401, "authentication_error")]
    [InlineData(403, "permission_error")]
    [InlineData(404, "not_found_error")]
    [InlineData(413, "invalid_request_error")]
    [InlineData(422, "invalid_request_error")]
    [InlineData(423, "system_unavailable")]
    [InlineData(429, "rate_limit_error")]
    [InlineData(502, "upstream_error")]
    [InlineData(504, "upstream_error")]
    [InlineData(500, "server_error")]
    [InlineData(503, "server_error")]
    public void A_refusal_carries_the_OpenAI_error_type_its_status_means(int status, string type) =>
        Assert.Equal(type, new GatewayRefusal(status, "code", "message").Type);

    private static readonly Gen<LifecyclePhase> Phases = Gen.Enum<LifecyclePhase>();

    private static readonly Gen<LifecycleState> Lifecycles =
        Gen.Select(Phases, Gen.Int[0, 2], Gen.OneOf(LifecyclePhase.Pilot, LifecyclePhase.Rollout, LifecyclePhase.Production), Gen.Int[0, 2], Gen.Bool,
            (phase, stage, suspended, suspendedStage, resumeRestricted) => phase is LifecyclePhase.Paused or LifecyclePhase.Restricted
                ? new LifecycleState(phase, SuspendedPhase: suspended, SuspendedStage: suspendedStage) { ResumeRestricted = resumeRestricted }
                : new LifecycleState(phase, Stage: phase == LifecyclePhase.Rollout ? stage : 0));

    private static readonly Gen<Caller> Callers =
        Gen.Select(Gen.OneOf("pilot-group", "team-a", "support", "sales", "finance").HashSet[0, 3], Gen.Bool, Gen.Bool,
            (groups, trained, evaluating) => new Caller(7, "mia@example.org", groups, trained) { Evaluating = evaluating });

    /// <summary>Any day from a month before the pilot ends to a month after, at any minute, in a few offsets.</summary>
    private static readonly Gen<DateTimeOffset> Clocks =
        Gen.Select(Gen.Int[-30, 30], Gen.Int[0, (24 * 60) - 1], Gen.OneOf(0, 2, -5),
            (day, minute, offset) => new DateTimeOffset(PilotEnds.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddDays(day).AddMinutes(minute).ToOffset(TimeSpan.FromHours(offset)));

    /// <summary>design.md's order, written from the rules rather than from the code: the first check that fails refuses.</summary>
    private static string? ExpectedRefusal(SystemState system, Caller caller, DateTimeOffset now)
    {
        if (system.Lifecycle.Phase == LifecyclePhase.Retired) return "system_retired";
        var scope = ServingPolicy.ScopeOf(system.Spec, system.Lifecycle);
        if (scope is null) return "system_not_serving";
        var inGroup = scope.Groups.Count == 0 || scope.Groups.Any(caller.Groups.Contains);
        if (!caller.Evaluating && !inGroup) return "not_in_allowed_group";
        if (!caller.Evaluating && system.Spec.Training.Required && !caller.TrainingAcknowledged) return "training_required";
        if (system.Lifecycle.Phase == LifecyclePhase.Paused) return "system_paused";
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        if (system.Lifecycle.Phase == LifecyclePhase.Pilot && system.PilotEnds is { } ends && today > ends) return "pilot_expired";
        return null;
    }

    [Fact]
    public void For_any_system_caller_and_clock_the_first_failing_check_refuses_and_otherwise_it_serves()
    {
        Gen.Select(Gen.OneOf(Staged, Open), Lifecycles, Callers, Clocks, Gen.Bool).Sample((spec, lifecycle, caller, now, orphan) =>
        {
            var system = State(spec, lifecycle) with { OrphanRestricted = orphan };

            var decision = ServingPolicy.Decide(system, caller, now);

            var expected = ExpectedRefusal(system, caller, now);
            Assert.Equal(expected, decision.Refusal?.Code);
            Assert.Equal(expected is null, decision.Allowed);
            if (decision.Refusal is { } refusal)
            {
                Assert.Equal(refusal.Code is "not_in_allowed_group" or "training_required" ? 403 : 423, refusal.Status);
                Assert.Contains("'demo-system'", refusal.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(orphan ? ServingMode.Approval : ServingPolicy.ScopeOf(spec, lifecycle)!.Mode, decision.Scope!.Mode);
            }
        });
    }

    [Fact]
    public void A_refusal_for_being_outside_the_groups_names_the_groups_that_may_and_whom_to_ask()
    {
        Gen.Select(Lifecycles, Callers).Sample((lifecycle, caller) =>
        {
            if (caller.Evaluating) return;
            var decision = ServingPolicy.Decide(State(Staged, lifecycle), caller, During);
            if (decision.Refusal is not { Code: "not_in_allowed_group" } refusal) return;

            var scope = decision.Scope!;
            Assert.DoesNotContain(scope.Groups, caller.Groups.Contains);
            Assert.Contains($"(allowed: {string.Join(", ", scope.Groups)})", refusal.Message, StringComparison.Ordinal);
            Assert.Contains("Ask its owner dana@example.org or an admin", refusal.Message, StringComparison.Ordinal);
        });
    }
}
