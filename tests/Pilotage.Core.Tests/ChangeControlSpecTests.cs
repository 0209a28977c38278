using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>spec.changeControl and spec.evidence.contentDays: read, written canonically, and left out when unset (old hashes stay).</summary>
public class ChangeControlSpecTests
{
    [Fact]
    public void Regression_gate_and_content_days_are_read_and_survive_a_round_trip()
    {
        var spec = SpecCanonicalJsonTests.ReadOne(SpecYaml.With("""
              changeControl:
                regressionGate: { testSet: refunds, maxPassRateDrop: 0.05 }
              evidence: { contentDays: 30 }
            """));
        Assert.Equal("refunds", spec.ChangeControl.RegressionGate!.TestSet);
        Assert.Equal(0.05, spec.ChangeControl.RegressionGate.MaxPassRateDrop);
        Assert.Equal(30, spec.Evidence.ContentDays);
        var json = SpecCanonicalJson.Serialize(spec);
        Assert.Contains("\"changeControl\":{\"regressionGate\":{\"testSet\":\"refunds\",\"maxPassRateDrop\":0.05}}", json, StringComparison.Ordinal);
        Assert.Contains("\"evidence\":{\"contentDays\":30}", json, StringComparison.Ordinal);
        Assert.Equal(json, SpecCanonicalJson.Serialize(SpecCanonicalJson.Deserialize(json)));
    }

    [Fact]
    public void Unset_sections_are_left_out_so_existing_spec_hashes_do_not_change()
    {
        var json = SpecCanonicalJson.Serialize(SpecCanonicalJsonTests.ReadOne(SpecYaml.Minimal));
        Assert.DoesNotContain("changeControl", json, StringComparison.Ordinal);
        Assert.DoesNotContain("evidence", json, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gate_without_a_test_set_and_a_drop_out_of_range_are_refused_with_their_paths()
    {
        var result = SpecReader.Read(SpecYaml.With("""
              changeControl:
                regressionGate: { maxPassRateDrop: 2 }
              evidence: { contentDays: 0 }
            """), "test.yaml");
        Assert.Contains(result.Errors, e => e.Path == "spec.changeControl.regressionGate.testSet");
        Assert.Contains(result.Errors, e => e.Path == "spec.changeControl.regressionGate.maxPassRateDrop");
        Assert.Contains(result.Errors, e => e.Path == "spec.evidence.contentDays");
    }
}
