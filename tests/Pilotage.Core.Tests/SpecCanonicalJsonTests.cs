using System.Text.Json;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

public class SpecCanonicalJsonTests
{
    internal static SystemSpec ReadOne(string yaml)
    {
        var result = SpecReader.Read(yaml, "test.yaml");
        Assert.Empty(result.Errors);
        return Assert.Single(result.Specs);
    }

    internal static SystemSpec Example(string file) => Assert.Single(SpecReader.ReadFile(RepoPaths.Example(file)).Specs);

    [Fact]
    public void Minimal_spec_leaves_out_nulls_and_defaults()
    {
        Assert.Equal(
            """{"name":"demo-system","owner":"dana@example.org","purpose":"Test the reader","upstream":{"baseUrl":"http://127.0.0.1:11434/v1","model":"llama3.1"}}""",
            SpecCanonicalJson.Serialize(ReadOne(SpecYaml.Minimal)));
    }

    [Fact]
    public void Spelled_out_defaults_give_the_same_json_as_omitted_ones()
    {
        var explicitDefaults = SpecYaml.With("  risk: medium\n  config: {}\n  training: { required: false }\n  rollout: []\n  pauseRules: []\n  dataBoundary: { block: [] }");
        Assert.Equal(SpecCanonicalJson.Serialize(ReadOne(SpecYaml.Minimal)), SpecCanonicalJson.Serialize(ReadOne(explicitDefaults)));
    }

    [Fact]
    public void Enums_are_lowercase_snake_case_and_non_default_values_are_written()
    {
        var json = SpecCanonicalJson.Serialize(Example("policy-qa.yaml"));
        Assert.Contains("\"risk\":\"low\"", json, StringComparison.Ordinal);
        Assert.Contains("\"mode\":\"read_only\"", json, StringComparison.Ordinal);
        Assert.Contains("\"questions\":[\"quality\",\"adoption\",\"support_needs\"]", json, StringComparison.Ordinal);
        Assert.Contains("\"endsRelative\":\"+12w\"", json, StringComparison.Ordinal);
        Assert.Contains("\"else\":\"redesign\"", json, StringComparison.Ordinal);
        Assert.Contains("\"action\":\"notify\"", json, StringComparison.Ordinal);
        Assert.Contains("\"temperature\":0", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("support-reply-drafts.yaml")]
    [InlineData("policy-qa.yaml")]
    [InlineData("invoice-extraction.yaml")]
    public void Round_trip_keeps_every_field(string file)
    {
        var spec = Example(file);
        var json = SpecCanonicalJson.Serialize(spec);
        var back = SpecCanonicalJson.Deserialize(json);
        Assert.Equal(json, SpecCanonicalJson.Serialize(back));
        Assert.Equal(SpecCanonicalJson.Hash(spec), SpecCanonicalJson.Hash(back));
        Assert.Equal(spec.Pilot!.Ends, back.Pilot!.Ends);
        Assert.Equal(spec.Risk, back.Risk);
        Assert.Equal(spec.Upstream, back.Upstream);
        Assert.Equal(spec.Config, back.Config);
        Assert.Equal(spec.Rollout.Select(s => (s.Name, s.Mode, s.MinDays)), back.Rollout.Select(s => (s.Name, s.Mode, s.MinDays)));
    }

    [Fact]
    public void Values_equal_to_zero_but_not_default_survive_the_round_trip()
    {
        // risk low and pilot mode full are the enums' zero values but not the declared defaults.
        var spec = ReadOne(SpecYaml.With("  risk: low\n  config: { temperature: 0 }\n  pilot: { group: g, ends: 2026-01-31, mode: full }\n  rollout: [ { name: a, groups: [g], mode: draft } ]"));
        var back = SpecCanonicalJson.Deserialize(SpecCanonicalJson.Serialize(spec));
        Assert.Equal(RiskTier.Low, back.Risk);
        Assert.Equal(0, back.Config.Temperature);
        Assert.Equal(ServingMode.Full, back.Pilot!.Mode);
        Assert.Equal(ServingMode.Draft, back.Rollout[0].Mode);
    }

    [Fact]
    public void Formatting_and_key_order_do_not_change_the_json_or_hash()
    {
        const string block = """
            apiVersion: pilotage/v1
            kind: AiSystem
            metadata:
              name: demo-system
            spec:
              owner: dana@example.org
              purpose: Test the reader
              upstream:
                baseUrl: http://127.0.0.1:11434/v1
                model: llama3.1
                pricePer1kInput: 0.50
              pilot:
                group: g
                ends: 2026-12-31
                criteria:
                  - metric: acceptance_rate
                    min: 0.8
                    else: redesign
            """;
        const string flow = """
            # the same system, written differently
            kind: AiSystem
            spec:
              pilot: { criteria: [ { else: redesign, min: 8.0e-1, metric: "acceptance_rate" } ], ends: '2026-12-31', group: "g" }
              upstream: { model: 'llama3.1', pricePer1kInput: 0.5, baseUrl: "http://127.0.0.1:11434/v1" }
              purpose: "Test the reader"
              owner: dana@example.org
            metadata: { name: demo-system }
            apiVersion: "pilotage/v1"
            """;
        var a = ReadOne(block);
        var b = ReadOne(flow);
        Assert.Equal(SpecCanonicalJson.Serialize(a), SpecCanonicalJson.Serialize(b));
        Assert.Equal(SpecCanonicalJson.Hash(a), SpecCanonicalJson.Hash(b));
        Assert.Contains("\"pricePer1kInput\":0.5}", SpecCanonicalJson.Serialize(a), StringComparison.Ordinal);
    }

    [Fact]
    public void Hash_is_lowercase_hex_sha256_and_changes_with_the_spec()
    {
        var a = ReadOne(SpecYaml.Minimal);
        var hash = SpecCanonicalJson.Hash(a);
        Assert.Matches("^[0-9a-f]{64}$", hash);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(SpecCanonicalJson.Serialize(a))));
        Assert.Equal(expected, hash);
        Assert.NotEqual(hash, SpecCanonicalJson.Hash(a with { Purpose = "Something else" }));
    }

    [Fact]
    public void Text_with_markup_and_non_ascii_is_kept_readable()
    {
        var spec = ReadOne(SpecYaml.Minimal) with { Purpose = "Réponses <brouillon> & \"citations\"" };
        var json = SpecCanonicalJson.Serialize(spec);
        Assert.Contains("\"purpose\":\"Réponses <brouillon> & \\\"citations\\\"\"", json, StringComparison.Ordinal);
        Assert.Equal(spec.Purpose, SpecCanonicalJson.Deserialize(json).Purpose);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{\"name\":\"x\"}")]
    [InlineData("{\"name\":\"x\",\"owner\":\"o\",\"purpose\":\"p\",\"upstream\":{\"baseUrl\":\"u\",\"model\":\"m\"},\"risk\":\"Severe\"}")]
    public void Invalid_json_throws_a_JsonException(string json) =>
        Assert.ThrowsAny<JsonException>(() => SpecCanonicalJson.Deserialize(json));
}
