using Pilotage.Core.Gateway;
using Pilotage.Core.Lifecycle;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>The gateway's settings of a spec: <c>upstream.protocol</c> and <c>approval.wait</c>.</summary>
public sealed class GatewaySpecTests
{
    private static SpecError SingleError(string extra)
    {
        var result = SpecReader.Read(SpecYaml.With(extra), "demo.yaml");
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void An_unknown_upstream_protocol_is_refused_naming_the_allowed_ones()
    {
        var error = SingleError("    protocol: grpc");
        Assert.Equal("spec.upstream.protocol", error.Path);
        Assert.Contains("unknown upstream protocol 'grpc': allowed values are openai-chat, openai-responses, anthropic", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("openai-responses", UpstreamProtocol.OpenAiResponses)]
    [InlineData("anthropic", UpstreamProtocol.Anthropic)]
    public void The_responses_and_anthropic_upstream_protocols_are_read_and_change_the_specs_hash(string name, UpstreamProtocol protocol)
    {
        var written = SpecReader.Read(SpecYaml.With("    protocol: " + name), "demo.yaml");
        Assert.Empty(written.Errors);
        Assert.Equal(protocol, written.Specs.Single().Upstream.Protocol);
        Assert.NotEqual(SpecCanonicalJson.Hash(SpecReader.Read(SpecYaml.Minimal, "demo.yaml").Specs.Single()), SpecCanonicalJson.Hash(written.Specs.Single()));
    }

    [Fact]
    public void Openai_chat_is_the_default_and_may_be_written()
    {
        var written = SpecReader.Read(SpecYaml.With("    protocol: openai-chat"), "demo.yaml");
        Assert.Empty(written.Errors);
        Assert.Equal(UpstreamProtocol.OpenAiChat, written.Specs.Single().Upstream.Protocol);
        // Left out of the canonical form when it is the default, so existing specs keep their hash.
        Assert.Equal(SpecCanonicalJson.Hash(SpecReader.Read(SpecYaml.Minimal, "demo.yaml").Specs.Single()), SpecCanonicalJson.Hash(written.Specs.Single()));
    }

    [Theory]
    [InlineData("  pilot: { group: g, ends: 2099-12-31, mode: draft, approval: { wait: 30s } }", "spec.pilot.approval", "needs 'mode: approval'")]
    [InlineData("  pilot: { group: g, ends: 2099-12-31, mode: approval, approval: { wait: 30 } }", "spec.pilot.approval.wait", "invalid wait '30'")]
    [InlineData("  pilot: { group: g, ends: 2099-12-31, mode: approval, approval: { wait: 16m } }", "spec.pilot.approval.wait", "at most 15m")]
    [InlineData("  rollout: [ { name: team, groups: [g], mode: full, approval: { wait: 1m } } ]", "spec.rollout[0].approval", "needs 'mode: approval'")]
    public void An_approval_wait_is_checked(string extra, string path, string fragment)
    {
        var error = SingleError(extra);
        Assert.Equal(path, error.Path);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_wait_reaches_the_serving_scope_and_survives_the_canonical_form()
    {
        var result = SpecReader.Read(SpecYaml.With("  pilot: { group: g, ends: 2099-12-31, mode: approval, approval: { wait: 2m } }"), "demo.yaml");
        Assert.Empty(result.Errors);
        var spec = result.Specs.Single();
        Assert.Equal(TimeSpan.FromMinutes(2), spec.Pilot!.Approval!.Wait);
        Assert.Equal(TimeSpan.FromMinutes(2), SpecCanonicalJson.Deserialize(SpecCanonicalJson.Serialize(spec)).Pilot!.Approval!.Wait);
        var scope = ServingPolicy.ScopeOf(spec, new LifecycleState(LifecyclePhase.Pilot));
        Assert.Equal((ServingMode.Approval, TimeSpan.FromMinutes(2)), (scope!.Mode, scope.ApprovalWait));
    }
}
