using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>The shipped examples must always be valid: people copy them.</summary>
public class ExampleFilesTests
{
    [Theory]
    [InlineData("support-reply-drafts.yaml", "support-reply-drafts")]
    [InlineData("policy-qa.yaml", "policy-qa")]
    [InlineData("invoice-extraction.yaml", "invoice-extraction")]
    public void Example_reads_without_errors(string file, string name)
    {
        var result = SpecReader.ReadFile(RepoPaths.Example(file));
        Assert.Empty(result.Errors);
        Assert.Equal(name, Assert.Single(result.Specs).Name);
    }

    [Fact]
    public void The_examples_folder_reads_as_a_whole()
    {
        var result = SpecReader.ReadPath(Path.Combine(RepoPaths.Root(), "examples"));
        Assert.Empty(result.Errors);
        Assert.Equal(["invoice-extraction", "policy-qa", "support-reply-drafts"], result.Specs.Select(s => s.Name));
    }

    [Fact]
    public void Support_example_matches_the_design()
    {
        var spec = Assert.Single(SpecReader.ReadFile(RepoPaths.Example("support-reply-drafts.yaml")).Specs);
        Assert.Equal("dana@example.org", spec.Owner);
        Assert.Equal("http://127.0.0.1:11434/v1", spec.Upstream.BaseUrl);
        Assert.Equal(0.0005m, spec.Upstream.PricePer1kInput);
        Assert.Equal(0.2, spec.Config.Temperature);
        Assert.Equal(["credit_card", "iban"], spec.DataBoundary.Block);
        Assert.True(spec.Training.Required);
        Assert.Equal(240, spec.Review.MinutesPerDay);
        var pilot = Assert.IsType<PilotSpec>(spec.Pilot);
        Assert.Equal([PilotQuestion.Quality, PilotQuestion.ReviewBurden, PilotQuestion.Value], pilot.Questions);
        Assert.Equal("+90d", pilot.EndsRelative);
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).AddDays(90), pilot.Ends);
        Assert.Equal(ServingMode.Draft, pilot.Mode);
        Assert.Equal(4, pilot.Criteria.Count);
        Assert.Equal(PilotOutcome.Narrow, pilot.Criteria[3].Else);
        Assert.Equal(["team-a", "support"], spec.Rollout.Select(s => s.Name));
        Assert.Equal(14, spec.Rollout[0].MinDays);
        Assert.Equal(2, spec.Rollout[0].Gate.Count);
        Assert.Equal(PauseAction.Restrict, spec.PauseRules[0].Action);
        Assert.Equal("approval", spec.PauseRules[0].To);
        Assert.Equal(50, spec.PauseRules[0].Over);
    }

    [Fact]
    public void Policy_example_is_read_only_and_low_risk()
    {
        var spec = Assert.Single(SpecReader.ReadFile(RepoPaths.Example("policy-qa.yaml")).Specs);
        Assert.Equal(RiskTier.Low, spec.Risk);
        Assert.Equal(ServingMode.ReadOnly, spec.Pilot!.Mode);
        Assert.All(spec.Rollout, s => Assert.Equal(ServingMode.ReadOnly, s.Mode));
    }

    [Fact]
    public void Invoice_example_is_approval_first_and_high_risk()
    {
        var spec = Assert.Single(SpecReader.ReadFile(RepoPaths.Example("invoice-extraction.yaml")).Specs);
        Assert.Equal(RiskTier.High, spec.Risk);
        Assert.Equal(ServingMode.Approval, spec.Pilot!.Mode);
        Assert.All(spec.Rollout, s => Assert.Equal(ServingMode.Approval, s.Mode));
    }
}
