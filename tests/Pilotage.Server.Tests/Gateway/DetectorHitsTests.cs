using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;
using Pilotage.Server.Gateway.Pipeline;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>The evidence's record of what the boundary found: counts and actions by detector, never a value.</summary>
public class DetectorHitsTests
{
    [Fact]
    public void Counts_and_actions_are_written_by_detector_in_policy_order_and_never_the_values()
    {
        var policy = DataBoundaryPolicy.From(new DataBoundarySpec { Block = ["credit_card"], Redact = ["email", "phone"] });
        var body = JsonNode.Parse("""
            {"model":"m","input":[1,2],"messages":[{"role":"user","content":"a@example.org, b@example.org, card 4111 1111 1111 1111, call +44 20 7946 0958"}]}
            """)!.AsObject();
        var scrub = RequestScrubber.Scrub(body, policy);

        var written = InteractionRecorder.DetectorHits(scrub);

        Assert.Equal("""{"credit_card":{"count":1,"action":"block"},"email":{"count":2,"action":"redact"},"phone":{"count":1,"action":"redact"},"uninspectable":1}""", written);
        Assert.DoesNotContain("example.org", written, StringComparison.Ordinal);
        Assert.Null(InteractionRecorder.DetectorHits(RequestScrubber.Scrub(JsonNode.Parse("""{"model":"m"}""")!.AsObject(), policy)));
    }
}
