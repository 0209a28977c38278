using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>The owner or an admin evaluating a system is not one of its users: group and training do not apply, the rest does.</summary>
public sealed class ServingPolicyEvaluationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static SystemState Pilot(LifecyclePhase phase = LifecyclePhase.Pilot, DateOnly? ends = null)
    {
        var spec = Assert.Single(SpecReader.Read(SpecYaml.With(
            $"  training: {{ required: true, text: Read me }}\n  pilot: {{ group: pilot-group, ends: {(ends ?? new DateOnly(2099, 1, 1)):yyyy-MM-dd} }}"), "s.yaml").Specs);
        var lifecycle = phase == LifecyclePhase.Paused
            ? new LifecycleState(LifecyclePhase.Paused, SuspendedPhase: LifecyclePhase.Pilot)
            : new LifecycleState(phase);
        return new SystemState(1, spec, lifecycle, 1);
    }

    private static Caller Admin(bool evaluating) => new(1, "admin@localhost", new HashSet<string>(), TrainingAcknowledged: false) { Evaluating = evaluating };

    [Fact]
    public void Using_the_system_needs_the_group_and_the_training()
    {
        var decision = ServingPolicy.Decide(Pilot(), Admin(evaluating: false), Now);
        Assert.Equal((403, "not_in_allowed_group"), (decision.Refusal!.Status, decision.Refusal.Code));

        var member = new Caller(2, "mia@example.org", new HashSet<string> { "pilot-group" }, TrainingAcknowledged: false);
        var training = ServingPolicy.Decide(Pilot(), member, Now).Refusal!;
        Assert.Equal("training_required", training.Code);
        Assert.Contains("pilotage training ack demo-system", training.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluating_it_skips_group_and_training_in_the_pilots_mode()
    {
        var decision = ServingPolicy.Decide(Pilot(), Admin(evaluating: true), Now);

        Assert.True(decision.Allowed);
        Assert.Equal(ServingMode.Draft, decision.Scope!.Mode);
    }

    [Fact]
    public void Evaluating_it_does_not_pass_a_pause_an_expiry_or_a_system_that_does_not_serve()
    {
        Assert.Equal("system_paused", ServingPolicy.Decide(Pilot(LifecyclePhase.Paused), Admin(true), Now).Refusal!.Code);
        Assert.Equal("pilot_expired", ServingPolicy.Decide(Pilot(ends: new DateOnly(2026, 12, 1)), Admin(true), Now).Refusal!.Code);
        Assert.Equal("system_not_serving", ServingPolicy.Decide(Pilot(LifecyclePhase.Proposed), Admin(true), Now).Refusal!.Code);
    }
}
