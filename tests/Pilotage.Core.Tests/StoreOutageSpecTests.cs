using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary><c>spec.evidence.onStoreOutage</c> (issue 8): parsed, defaulted by risk, canonical, diffed.</summary>
public class StoreOutageSpecTests
{
    private static SystemSpec Read(string extra)
    {
        var result = SpecReader.Read(SpecYaml.With(extra), "demo.yaml");
        Assert.Empty(result.Errors);
        return Assert.Single(result.Specs);
    }

    [Theory]
    [InlineData("", StoreOutage.Spool)]
    [InlineData("  risk: low", StoreOutage.Spool)]
    [InlineData("  risk: medium", StoreOutage.Spool)]
    [InlineData("  risk: high", StoreOutage.FailClosed)]
    [InlineData("  risk: high\n  evidence: { onStoreOutage: spool }", StoreOutage.Spool)]
    [InlineData("  risk: low\n  evidence: { onStoreOutage: fail_closed }", StoreOutage.FailClosed)]
    public void The_default_follows_the_risk_and_the_spec_overrides_it(string extra, StoreOutage expected)
    {
        Assert.Equal(expected, StoreOutagePolicy.For(Read(extra)));
    }

    [Fact]
    public void An_unknown_value_is_reported_with_its_place_and_the_allowed_values()
    {
        var result = SpecReader.Read(SpecYaml.With("  evidence:\n    onStoreOutage: queue"), "demo.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal("spec.evidence.onStoreOutage", error.Path);
        Assert.Equal((12, 20), (error.Line, error.Column));
        Assert.Contains("'queue'", error.Message, StringComparison.Ordinal);
        Assert.Contains("fail_closed, spool", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_snake_case_spelling_of_the_key_is_refused_as_unknown()
    {
        var result = SpecReader.Read(SpecYaml.With("  evidence:\n    on_store_outage: spool"), "demo.yaml");
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("spec.evidence", error.Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Canonical_json_keeps_an_explicit_value_and_omits_the_default()
    {
        var unsaid = Read("");
        Assert.DoesNotContain("onStoreOutage", SpecCanonicalJson.Serialize(unsaid), StringComparison.Ordinal);

        var said = Read("  evidence: { onStoreOutage: fail_closed }");
        var json = SpecCanonicalJson.Serialize(said);
        Assert.Contains("\"onStoreOutage\":\"fail_closed\"", json, StringComparison.Ordinal);
        Assert.Equal(StoreOutage.FailClosed, SpecCanonicalJson.Deserialize(json).Evidence.OnStoreOutage);
        Assert.NotEqual(SpecCanonicalJson.Hash(unsaid), SpecCanonicalJson.Hash(said));
    }

    [Fact]
    public void A_change_shows_in_the_diff_as_one_field()
    {
        var before = Read("  evidence: { onStoreOutage: spool }");
        var after = Read("  evidence: { onStoreOutage: fail_closed }");
        Assert.Equal([new SpecChange("spec.evidence.onStoreOutage", "spool", "fail_closed")], SpecDiff.Compare(before, after));
    }
}
