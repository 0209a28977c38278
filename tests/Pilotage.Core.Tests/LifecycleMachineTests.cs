using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;
using P = Pilotage.Core.Lifecycle.LifecyclePhase;

namespace Pilotage.Core.Tests;

/// <summary>
/// Every (phase × command) pair, allowed or refused, for a spec with a pilot, an owner, pause rules
/// and two rollout stages.
/// </summary>
public class LifecycleMachineTests
{
    private static readonly LifecycleContext Full = new(RolloutStages: 2, HasPilot: true, HasOwner: true, HasPauseRules: true);

    private static LifecycleState State(string key) => key switch
    {
        "proposed" => LifecycleState.Proposed,
        "pilot" => new(P.Pilot),
        "decided:proceed" => new(P.Decided, LastDecision: PilotOutcome.Proceed),
        "decided:narrow" => new(P.Decided, LastDecision: PilotOutcome.Narrow),
        "decided:repilot" => new(P.Decided, LastDecision: PilotOutcome.Repilot),
        "decided:redesign" => new(P.Decided, LastDecision: PilotOutcome.Redesign),
        "decided:stop" => new(P.Decided, LastDecision: PilotOutcome.Stop),
        "rollout:0" => new(P.Rollout, 0, PilotOutcome.Proceed),
        "rollout:1" => new(P.Rollout, 1, PilotOutcome.Proceed),
        "production" => new(P.Production, 0, PilotOutcome.Proceed),
        "paused:rollout:1" => new(P.Paused, 0, PilotOutcome.Proceed, P.Rollout, 1),
        "paused:pilot" => new(P.Paused, 0, null, P.Pilot, 0),
        "paused:restricted:production" => new LifecycleState(P.Paused, 0, PilotOutcome.Proceed, P.Production, 0) { ResumeRestricted = true },
        "restricted:production" => new(P.Restricted, 0, PilotOutcome.Proceed, P.Production, 0),
        "restricted:rollout:0" => new(P.Restricted, 0, PilotOutcome.Proceed, P.Rollout, 0),
        "paused:production" => new(P.Paused, 0, PilotOutcome.Proceed, P.Production, 0),
        "retired" => new(P.Retired, 0, PilotOutcome.Proceed),
        "retired:stop" => new(P.Retired, 0, PilotOutcome.Stop),
        "retired:none" => new(P.Retired),
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "no such test state"),
    };

    private static LifecycleCommand Command(string key) => key switch
    {
        "start-pilot" => LifecycleCommand.StartPilot(),
        "decide:proceed" => LifecycleCommand.Decide(PilotOutcome.Proceed),
        "redesign" => LifecycleCommand.Redesign(),
        "expand" => LifecycleCommand.Expand(),
        "restrict" => LifecycleCommand.Restrict(),
        "pause" => LifecycleCommand.Pause(),
        "resume" => LifecycleCommand.Resume(),
        "retire" => LifecycleCommand.Retire(),
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, "no such test command"),
    };

    /// <summary>The states of the tables, one per distinct situation.</summary>
    public static TheoryData<string> States =>
    [
        "proposed", "pilot", "decided:proceed", "decided:narrow", "decided:repilot", "decided:redesign", "decided:stop",
        "rollout:0", "rollout:1", "production", "paused:rollout:1", "paused:restricted:production", "restricted:production", "retired",
    ];

    private static readonly IReadOnlyList<string> Commands = ["start-pilot", "decide:proceed", "redesign", "expand", "restrict", "pause", "resume", "retire"];

    public static TheoryData<string, string, string> Allowed => new()
    {
        { "proposed", "start-pilot", "pilot" },
        { "proposed", "retire", "retired:none" },
        { "pilot", "decide:proceed", "decided:proceed" },
        { "pilot", "pause", "paused:pilot" },
        { "pilot", "retire", "retired:none" },
        { "decided:proceed", "expand", "rollout:0" },
        { "decided:proceed", "retire", "retired" },
        { "decided:narrow", "start-pilot", "pilot+narrow" },
        { "decided:narrow", "retire", "retired+narrow" },
        { "decided:repilot", "start-pilot", "pilot+repilot" },
        { "decided:repilot", "retire", "retired+repilot" },
        { "decided:redesign", "redesign", "proposed+redesign" },
        { "decided:redesign", "retire", "retired+redesign" },
        { "decided:stop", "retire", "retired:stop" },
        { "rollout:0", "expand", "rollout:1" },
        { "rollout:0", "restrict", "restricted:rollout:0" },
        { "rollout:0", "pause", "paused:rollout:0" },
        { "rollout:0", "retire", "retired" },
        { "rollout:1", "expand", "production" },
        { "rollout:1", "restrict", "restricted:rollout:1" },
        { "rollout:1", "pause", "paused:rollout:1" },
        { "rollout:1", "retire", "retired" },
        { "production", "restrict", "restricted:production" },
        { "production", "pause", "paused:production" },
        { "production", "retire", "retired" },
        { "paused:rollout:1", "resume", "rollout:1" },
        { "paused:rollout:1", "retire", "retired" },
        { "paused:restricted:production", "resume", "restricted:production" },
        { "paused:restricted:production", "retire", "retired" },
        { "restricted:production", "pause", "paused:restricted:production" },
        { "restricted:production", "resume", "production" },
        { "restricted:production", "retire", "retired" },
    };

    private static LifecycleState Expected(string key) => key switch
    {
        "pilot+narrow" => new(P.Pilot, 0, PilotOutcome.Narrow),
        "pilot+repilot" => new(P.Pilot, 0, PilotOutcome.Repilot),
        "retired+narrow" => new(P.Retired, 0, PilotOutcome.Narrow),
        "retired+repilot" => new(P.Retired, 0, PilotOutcome.Repilot),
        "retired+redesign" => new(P.Retired, 0, PilotOutcome.Redesign),
        "proposed+redesign" => new(P.Proposed, 0, PilotOutcome.Redesign),
        "paused:rollout:0" => new(P.Paused, 0, PilotOutcome.Proceed, P.Rollout, 0),
        "restricted:rollout:1" => new(P.Restricted, 0, PilotOutcome.Proceed, P.Rollout, 1),
        "restricted:rollout:0" => new(P.Restricted, 0, PilotOutcome.Proceed, P.Rollout, 0),
        _ => State(key),
    };

    public static TheoryData<string, string, string> Refused => new()
    {
        { "proposed", "decide:proceed", "cannot decide: no pilot is running (the system is proposed)" },
        { "proposed", "redesign", "cannot redesign: the system is proposed; a redesign follows a 'redesign' decision" },
        { "proposed", "expand", "cannot expand: the system is proposed; run a pilot and decide 'proceed' first" },
        { "proposed", "restrict", "cannot restrict: the system is proposed; only a system in rollout or production can be restricted" },
        { "proposed", "pause", "cannot pause: the system is proposed and serves nobody" },
        { "proposed", "resume", "cannot resume: the system is proposed, not paused or restricted" },

        { "pilot", "start-pilot", "cannot start pilot: a pilot is already running; record a decision first" },
        { "pilot", "redesign", "cannot redesign: the system is pilot" },
        { "pilot", "expand", "cannot leave pilot: no decision recorded" },
        { "pilot", "restrict", "cannot restrict a pilot: pause it, or decide 'narrow'" },
        { "pilot", "resume", "cannot resume: the system is pilot, not paused or restricted" },

        { "decided:proceed", "start-pilot", "cannot start pilot: the last decision was 'proceed'; a new pilot follows only 'narrow' or 'repilot'" },
        { "decided:proceed", "decide:proceed", "cannot decide: a decision is already recorded ('proceed')" },
        { "decided:proceed", "redesign", "cannot redesign: the last decision was 'proceed', not 'redesign'" },
        { "decided:proceed", "restrict", "cannot restrict: the system is decided ('proceed'); only a system in rollout or production" },
        { "decided:proceed", "pause", "cannot pause: the system is decided ('proceed') and serves nobody" },
        { "decided:proceed", "resume", "cannot resume: the system is decided ('proceed'), not paused or restricted" },

        { "decided:narrow", "decide:proceed", "cannot decide: a decision is already recorded ('narrow')" },
        { "decided:narrow", "redesign", "cannot redesign: the last decision was 'narrow', not 'redesign'" },
        { "decided:narrow", "expand", "cannot expand: the last decision was 'narrow', not 'proceed'" },
        { "decided:narrow", "restrict", "cannot restrict: the system is decided ('narrow')" },
        { "decided:narrow", "pause", "cannot pause: the system is decided ('narrow') and serves nobody" },
        { "decided:narrow", "resume", "cannot resume: the system is decided ('narrow'), not paused or restricted" },

        { "decided:repilot", "decide:proceed", "cannot decide: a decision is already recorded ('repilot')" },
        { "decided:repilot", "redesign", "cannot redesign: the last decision was 'repilot', not 'redesign'" },
        { "decided:repilot", "expand", "cannot expand: the last decision was 'repilot', not 'proceed'" },
        { "decided:repilot", "restrict", "cannot restrict: the system is decided ('repilot')" },
        { "decided:repilot", "pause", "cannot pause: the system is decided ('repilot') and serves nobody" },
        { "decided:repilot", "resume", "cannot resume: the system is decided ('repilot'), not paused or restricted" },

        { "decided:redesign", "start-pilot", "cannot start pilot: the last decision was 'redesign'; redesign the system first (back to proposed)" },
        { "decided:redesign", "decide:proceed", "cannot decide: a decision is already recorded ('redesign')" },
        { "decided:redesign", "expand", "cannot expand: the last decision was 'redesign', not 'proceed'" },
        { "decided:redesign", "restrict", "cannot restrict: the system is decided ('redesign')" },
        { "decided:redesign", "pause", "cannot pause: the system is decided ('redesign') and serves nobody" },
        { "decided:redesign", "resume", "cannot resume: the system is decided ('redesign'), not paused or restricted" },

        { "decided:stop", "start-pilot", "cannot start pilot: the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "decide:proceed", "cannot decide 'proceed': the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "redesign", "cannot redesign: the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "expand", "cannot expand: the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "restrict", "cannot restrict: the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "pause", "cannot pause: the last decision was 'stop'; the only move left is retire" },
        { "decided:stop", "resume", "cannot resume: the last decision was 'stop'; the only move left is retire" },

        { "rollout:0", "start-pilot", "cannot start pilot: the system is in rollout stage 1; a pilot starts from proposed" },
        { "rollout:0", "decide:proceed", "cannot decide: no pilot is running (the system is in rollout stage 1)" },
        { "rollout:0", "redesign", "cannot redesign: the system is in rollout stage 1" },
        { "rollout:0", "resume", "cannot resume: the system is in rollout stage 1, not paused or restricted" },
        { "rollout:1", "start-pilot", "cannot start pilot: the system is in rollout stage 2" },
        { "rollout:1", "decide:proceed", "cannot decide: no pilot is running (the system is in rollout stage 2)" },
        { "rollout:1", "redesign", "cannot redesign: the system is in rollout stage 2" },
        { "rollout:1", "resume", "cannot resume: the system is in rollout stage 2, not paused or restricted" },

        { "production", "start-pilot", "cannot start pilot: the system is production" },
        { "production", "decide:proceed", "cannot decide: no pilot is running (the system is production)" },
        { "production", "redesign", "cannot redesign: the system is production" },
        { "production", "expand", "cannot expand: the system is already in production; there is no further stage" },
        { "production", "resume", "cannot resume: the system is production, not paused or restricted" },

        { "paused:rollout:1", "start-pilot", "cannot start pilot: the system is paused" },
        { "paused:rollout:1", "decide:proceed", "cannot decide: no pilot is running (the system is paused)" },
        { "paused:rollout:1", "redesign", "cannot redesign: the system is paused" },
        { "paused:rollout:1", "expand", "cannot expand: the system is paused; resume it first" },
        { "paused:rollout:1", "restrict", "cannot restrict: the system is paused; resume it first" },
        { "paused:rollout:1", "pause", "cannot pause: already paused" },
        { "paused:restricted:production", "start-pilot", "cannot start pilot: the system is paused" },
        { "paused:restricted:production", "decide:proceed", "cannot decide: no pilot is running (the system is paused)" },
        { "paused:restricted:production", "redesign", "cannot redesign: the system is paused" },
        { "paused:restricted:production", "expand", "cannot expand: the system is paused; resume it first" },
        { "paused:restricted:production", "restrict", "cannot restrict: the system is paused; resume it first" },
        { "paused:restricted:production", "pause", "cannot pause: already paused" },

        { "restricted:production", "start-pilot", "cannot start pilot: the system is restricted" },
        { "restricted:production", "decide:proceed", "cannot decide: no pilot is running (the system is restricted)" },
        { "restricted:production", "redesign", "cannot redesign: the system is restricted" },
        { "restricted:production", "expand", "cannot expand: the system is restricted; resume it first" },
        { "restricted:production", "restrict", "cannot restrict: already restricted" },

        { "retired", "start-pilot", "retired is final: cannot start pilot; propose a new system instead" },
        { "retired", "decide:proceed", "retired is final: cannot decide 'proceed'" },
        { "retired", "redesign", "retired is final: cannot redesign" },
        { "retired", "expand", "retired is final: cannot expand" },
        { "retired", "restrict", "retired is final: cannot restrict" },
        { "retired", "pause", "retired is final: cannot pause" },
        { "retired", "resume", "retired is final: cannot resume" },
        { "retired", "retire", "retired is final: cannot retire" },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Allowed_move_leads_to_the_expected_state(string from, string command, string to)
    {
        var transition = LifecycleMachine.Apply(State(from), Command(command), Full);
        Assert.True(transition.Allowed, transition.Reason);
        Assert.Null(transition.Reason);
        Assert.Equal(Expected(to), transition.State);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Forbidden_move_is_refused_with_a_reason_and_no_change(string from, string command, string reason)
    {
        var state = State(from);
        var transition = LifecycleMachine.Apply(state, Command(command), Full);
        Assert.False(transition.Allowed);
        Assert.Same(state, transition.State);
        Assert.Contains(reason, transition.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(States))]
    public void Every_phase_and_command_pair_is_in_exactly_one_table(string state)
    {
        foreach (var command in Commands)
        {
            var allowed = Allowed.Count(row => (string)row[0] == state && (string)row[1] == command);
            var refused = Refused.Count(row => (string)row[0] == state && (string)row[1] == command);
            Assert.True(allowed + refused == 1, $"{state} × {command}: {allowed} allowed rows, {refused} refused rows");
        }
    }

    [Theory]
    [InlineData(PilotOutcome.Proceed)]
    [InlineData(PilotOutcome.Narrow)]
    [InlineData(PilotOutcome.Repilot)]
    [InlineData(PilotOutcome.Redesign)]
    [InlineData(PilotOutcome.Stop)]
    public void Every_outcome_can_be_decided_from_pilot(PilotOutcome outcome)
    {
        var transition = LifecycleMachine.Apply(State("pilot"), LifecycleCommand.Decide(outcome), Full);
        Assert.Equal(new LifecycleState(P.Decided, 0, outcome), transition.State);
    }

    [Fact]
    public void Decide_without_an_outcome_is_refused() =>
        Assert.Contains("name the outcome",
            LifecycleMachine.Apply(State("pilot"), new LifecycleCommand(LifecycleCommandKind.Decide), Full).Reason, StringComparison.Ordinal);

    [Fact]
    public void Pilot_needs_a_pilot_section()
    {
        var transition = LifecycleMachine.Apply(State("proposed"), LifecycleCommand.StartPilot(), Full with { HasPilot = false });
        Assert.False(transition.Allowed);
        Assert.StartsWith("cannot start pilot: the spec has no pilot section", transition.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proposed")]
    [InlineData("decided:narrow")]
    public void Pilot_needs_an_owner(string from)
    {
        var transition = LifecycleMachine.Apply(State(from), LifecycleCommand.StartPilot(), Full with { HasOwner = false });
        Assert.StartsWith("cannot start pilot: the system has no owner", transition.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("decided:proceed")]
    [InlineData("rollout:0")]
    public void Expansion_needs_an_owner_and_pause_rules(string from)
    {
        Assert.StartsWith("cannot expand: the system has no owner",
            LifecycleMachine.Apply(State(from), LifecycleCommand.Expand(), Full with { HasOwner = false }).Reason, StringComparison.Ordinal);
        Assert.StartsWith("cannot expand: the spec has no pause rules",
            LifecycleMachine.Apply(State(from), LifecycleCommand.Expand(), Full with { HasPauseRules = false }).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_rollout_stages_proceed_expands_straight_to_production()
    {
        var transition = LifecycleMachine.Apply(State("decided:proceed"), LifecycleCommand.Expand(), Full with { RolloutStages = 0 });
        Assert.Equal(new LifecycleState(P.Production, 0, PilotOutcome.Proceed), transition.State);
    }

    [Fact]
    public void A_named_next_stage_is_accepted()
    {
        var three = Full with { RolloutStages = 3 };
        Assert.Equal(new LifecycleState(P.Rollout, 1, PilotOutcome.Proceed),
            LifecycleMachine.Apply(State("rollout:0"), LifecycleCommand.Expand(targetStage: 1), three).State);
        Assert.Equal(new LifecycleState(P.Production, 0, PilotOutcome.Proceed),
            LifecycleMachine.Apply(State("rollout:1"), LifecycleCommand.Expand(targetStage: 2), Full).State);
    }

    [Theory]
    [InlineData("decided:proceed", 1, "cannot skip stage 1: expand one stage at a time (next is stage 1 of 3, asked for stage 2 of 3)")]
    [InlineData("rollout:0", 2, "cannot skip stage 2: expand one stage at a time (next is stage 2 of 3, asked for stage 3 of 3)")]
    [InlineData("rollout:0", 3, "cannot skip stage 2: expand one stage at a time (next is stage 2 of 3, asked for production)")]
    [InlineData("rollout:1", 7, "cannot expand to stage 8: the spec has 3 rollout stage(s)")]
    [InlineData("rollout:1", 0, "cannot expand to stage 1 of 3: the system is already past it (next is stage 3 of 3)")]
    public void Stages_cannot_be_skipped_or_repeated(string from, int target, string reason)
    {
        var transition = LifecycleMachine.Apply(State(from), LifecycleCommand.Expand(target), Full with { RolloutStages = 3 });
        Assert.False(transition.Allowed);
        Assert.Equal(reason, transition.Reason);
    }

    [Fact]
    public void A_stage_removed_from_the_spec_leaves_production_as_the_next_step()
    {
        var transition = LifecycleMachine.Apply(new LifecycleState(P.Rollout, 2, PilotOutcome.Proceed), LifecycleCommand.Expand(), Full);
        Assert.Equal(P.Production, transition.State.Phase);
    }

    [Fact]
    public void Pause_resume_and_restrict_remember_the_exact_position()
    {
        var state = State("rollout:1");
        state = LifecycleMachine.Apply(state, LifecycleCommand.Restrict(), Full).State;
        Assert.Equal(P.Restricted, state.Phase);
        state = LifecycleMachine.Apply(state, LifecycleCommand.Pause(), Full).State;
        Assert.Equal((P.Paused, P.Rollout, 1, true), (state.Phase, state.SuspendedPhase, state.SuspendedStage, state.ResumeRestricted));
        state = LifecycleMachine.Apply(state, LifecycleCommand.Resume(), Full).State;
        Assert.Equal(P.Restricted, state.Phase);
        state = LifecycleMachine.Apply(state, LifecycleCommand.Resume(), Full).State;
        Assert.Equal(new LifecycleState(P.Rollout, 1, PilotOutcome.Proceed), state);
    }

    [Fact]
    public void A_full_journey_reaches_production_and_retires()
    {
        var context = LifecycleContext.From(SpecCanonicalJsonTests.Example("support-reply-drafts.yaml"));
        Assert.Equal(new LifecycleContext(2, true, true, true), context);
        var state = LifecycleState.Proposed;
        foreach (var command in new[]
                 {
                     LifecycleCommand.StartPilot(), LifecycleCommand.Decide(PilotOutcome.Narrow), LifecycleCommand.StartPilot(),
                     LifecycleCommand.Decide(PilotOutcome.Proceed), LifecycleCommand.Expand(0), LifecycleCommand.Pause(),
                     LifecycleCommand.Resume(), LifecycleCommand.Expand(1), LifecycleCommand.Expand(), LifecycleCommand.Retire(),
                 })
        {
            var transition = LifecycleMachine.Apply(state, command, context);
            Assert.True(transition.Allowed, $"{command.Verb} from {state.Phase}: {transition.Reason}");
            state = transition.State;
        }
        Assert.Equal(new LifecycleState(P.Retired, 0, PilotOutcome.Proceed), state);
    }
}
