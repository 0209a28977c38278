using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

public class SpecDiffTests
{
    private static SystemSpec Support() => SpecCanonicalJsonTests.Example("support-reply-drafts.yaml");

    [Fact]
    public void Equal_specs_have_no_change()
    {
        Assert.Empty(SpecDiff.Compare(Support(), Support()));
    }

    [Fact]
    public void A_new_system_is_one_change_with_an_empty_path()
    {
        var spec = Support();
        var change = Assert.Single(SpecDiff.Compare(null, spec));
        Assert.Equal(new SpecChange("", null, SpecCanonicalJson.Serialize(spec)), change);
        Assert.False(SpecDiff.TouchesChangeControl([change]));
    }

    [Fact]
    public void A_config_change_is_one_field_change_under_change_control()
    {
        var before = Support();
        var after = before with { Config = before.Config with { Temperature = 0.3 } };
        var changes = SpecDiff.Compare(before, after);
        Assert.Equal([new SpecChange("spec.config.temperature", "0.2", "0.3")], changes);
        Assert.True(SpecDiff.TouchesChangeControl(changes));
    }

    [Fact]
    public void An_upstream_change_is_under_change_control()
    {
        var before = Support();
        var changes = SpecDiff.Compare(before, before with { Upstream = before.Upstream with { Model = "llama3.2" } });
        Assert.Equal([new SpecChange("spec.upstream.model", "llama3.1", "llama3.2")], changes);
        Assert.True(SpecDiff.TouchesChangeControl(changes));
    }

    [Fact]
    public void A_stage_change_is_located_by_index_and_is_not_under_change_control()
    {
        var before = Support();
        var rollout = before.Rollout.ToArray();
        rollout[1] = rollout[1] with { Mode = ServingMode.Draft };
        var changes = SpecDiff.Compare(before, before with { Rollout = rollout });
        Assert.Equal([new SpecChange("spec.rollout[1].mode", null, "draft")], changes);
        Assert.False(SpecDiff.TouchesChangeControl(changes));
    }

    [Fact]
    public void A_mode_set_back_to_its_default_shows_the_old_value()
    {
        var before = Support();
        var rollout = before.Rollout.ToArray();
        rollout[0] = rollout[0] with { Mode = ServingMode.Full };
        Assert.Equal([new SpecChange("spec.rollout[0].mode", "draft", null)], SpecDiff.Compare(before, before with { Rollout = rollout }));
    }

    [Fact]
    public void Added_and_removed_stages_are_whole_values()
    {
        var before = Support();
        var added = before with { Rollout = [.. before.Rollout, new RolloutStageSpec { Name = "all", Groups = ["staff"] }] };
        Assert.Equal([new SpecChange("spec.rollout[2]", null, """{"name":"all","groups":["staff"]}""")], SpecDiff.Compare(before, added));
        Assert.Equal([new SpecChange("spec.rollout[2]", """{"name":"all","groups":["staff"]}""", null)], SpecDiff.Compare(added, before));
    }

    [Fact]
    public void Lists_of_names_are_compared_as_one_value()
    {
        var before = Support();
        var after = before with { DataBoundary = before.DataBoundary with { Block = ["credit_card", "iban", "phone"] } };
        Assert.Equal([new SpecChange("spec.dataBoundary.block", """["credit_card","iban"]""", """["credit_card","iban","phone"]""")],
            SpecDiff.Compare(before, after));
    }

    [Fact]
    public void Metadata_fields_use_their_yaml_paths()
    {
        var before = Support();
        Assert.Equal([new SpecChange("metadata.title", "Support reply drafts", "Drafts")], SpecDiff.Compare(before, before with { Title = "Drafts" }));
    }

    [Fact]
    public void Removing_a_section_shows_it_as_a_whole()
    {
        var before = Support();
        var changes = SpecDiff.Compare(before, before with { Baseline = new BaselineSpec() });
        Assert.Equal([new SpecChange("spec.baseline", """{"manualMinutesPerTask":9}""", null)], changes);
    }

    [Fact]
    public void Several_changes_come_in_spec_order()
    {
        var before = Support();
        var after = before with { Risk = RiskTier.High, Config = before.Config with { SystemPrompt = "Be brief." }, PauseRules = before.PauseRules.Take(2).ToArray() };
        Assert.Equal(["spec.risk", "spec.config.systemPrompt", "spec.pauseRules[2]"], SpecDiff.Compare(before, after).Select(c => c.Path));
    }

    [Fact]
    public void Formatting_only_differences_are_no_change()
    {
        var a = SpecCanonicalJsonTests.ReadOne(SpecYaml.With("  risk: medium\n  config: { temperature: 0.20 }"));
        var b = SpecCanonicalJsonTests.ReadOne(SpecYaml.With("  config:\n    temperature: 2e-1"));
        Assert.Empty(SpecDiff.Compare(a, b));
    }

    [Theory]
    [InlineData("spec.config", true)]
    [InlineData("spec.config.temperature", true)]
    [InlineData("spec.upstream", true)]
    [InlineData("spec.upstream.pricePer1kInput", true)]
    [InlineData("spec.configuration", false)]
    [InlineData("spec.rollout[0].mode", false)]
    [InlineData("spec.pilot.ends", false)]
    [InlineData("", false)]
    public void TouchesChangeControl_looks_at_config_and_upstream_only(string path, bool expected) =>
        Assert.Equal(expected, SpecDiff.TouchesChangeControl([new SpecChange(path, "a", "b")]));
}
