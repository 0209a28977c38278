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

    [Theory]
    [InlineData("    protocol: grpc", "unknown upstream protocol 'grpc': allowed values are openai-chat, openai-responses, anthropic")]
    [InlineData("    protocol: anthropic", "https://api.anthropic.com/v1/")]
    [InlineData("    protocol: openai-responses", "openai-chat upstreams only")]
    public void An_upstream_protocol_other_than_openai_chat_is_refused_with_the_way_out(string extra, string fragment)
    {
        var error = SingleError(extra);
        Assert.Equal("spec.upstream.protocol", error.Path);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
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
