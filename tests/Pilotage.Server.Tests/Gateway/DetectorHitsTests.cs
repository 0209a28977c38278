using System.Text.Json.Nodes;
using CsCheck;
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

    /// <summary>
    /// The records of one built-in detector's hits are spelled in advance (<see cref="InteractionRecorder.SpelledCounts"/>
    /// of them, each action): the same text the JSON writer writes, at every count up to it and past it, with and without
    /// token-id input, redacting or blocking; and the same instance each time within the counts spelled.
    /// </summary>
    [Theory]
    [InlineData("email", "dana.lee@example.org")]
    [InlineData("phone", "+44 20 7946 0958")]
    [InlineData("credit_card", "4111 1111 1111 1111")]
    [InlineData("iban", "DE89 3704 0044 0532 0130 00")]
    [InlineData("secret", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("us_ssn", "078-05-1120")]
    [InlineData("uk_nino", "AB 12 34 56 C")]
    [InlineData("eu_vat", "DE136695976")]
    public void The_record_of_one_built_in_detector_is_the_record_the_json_writer_writes(string detector, string value)
    {
        foreach (var block in new[] { false, true })
        {
            var policy = DataBoundaryPolicy.From(block ? new DataBoundarySpec { Block = [detector] } : new DataBoundarySpec { Redact = [detector] });
            for (var count = 1; count <= InteractionRecorder.SpelledCounts + 2; count++)
            {
                foreach (var tokens in new[] { false, true })
                {
                    ScrubResult Scrub()
                    {
                        var content = string.Join(" and then ", Enumerable.Repeat(value, count));
                        var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }) };
                        if (tokens) body["input"] = new JsonArray(1, 2);
                        return RequestScrubber.Scrub(body, policy);
                    }
                    var scrub = Scrub();
                    Assert.Equal([new DetectorCount(detector, block ? BoundaryAction.Block : BoundaryAction.Redact, count)], scrub.Counts);
                    var spelled = InteractionRecorder.DetectorHits(scrub);
                    Assert.Equal(InteractionRecorder.WrittenDetectorHits(scrub), spelled);
                    Assert.Equal(!tokens && count <= InteractionRecorder.SpelledCounts, ReferenceEquals(spelled, InteractionRecorder.DetectorHits(Scrub())));
                }
            }
        }
    }

    /// <summary>Detector names as a spec spells them, and names built in code that JSON must escape.</summary>
    private static readonly string[] Names = ["ticket", "order_no", "x1", "T-9", "tick\"et", "caf\u00e9", "a<b>", "a+b", "back\\slash", "tab\tname"];

    /// <summary>
    /// The record spelled straight into a string is the record a JSON writer writes, byte for byte: generated policies of
    /// custom detectors with odd names, blocking or redacting, hit zero to three times, with and without token-id input.
    /// </summary>
    [Fact]
    public void The_record_spelled_as_a_string_is_the_record_the_json_writer_writes() =>
        Gen.Select(Gen.Int[0, Names.Length - 1], Gen.Int[0, 3], Gen.Bool).Array[1, 4].Select(Gen.Bool, (found, tokens) => (found, tokens)).Sample(c =>
        {
            var detectors = c.found.DistinctBy(d => d.Item1).Select((d, i) => (Name: Names[d.Item1], Hits: d.Item2, Block: d.Item3, Tag: $"TCK{(char)('a' + i)}")).ToArray();
            var policy = DataBoundaryPolicy.From(new DataBoundarySpec
            {
                Block = [.. detectors.Where(d => d.Block).Select(d => d.Name)],
                Redact = [.. detectors.Where(d => !d.Block).Select(d => d.Name)],
                Detectors = [.. detectors.Select(d => new CustomDetectorSpec { Name = d.Name, Pattern = d.Tag + "[0-9]" })],
            });
            var content = string.Join(" and ", detectors.SelectMany(d => Enumerable.Repeat(d.Tag + "7", d.Hits)));
            var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }) };
            if (c.tokens) body["input"] = new JsonArray(1, 2);
            var scrub = RequestScrubber.Scrub(body, policy);
            var spelled = InteractionRecorder.DetectorHits(scrub);
            return spelled is null ? scrub.Counts.Count == 0 && scrub.Uninspectable.Count == 0 : spelled == InteractionRecorder.WrittenDetectorHits(scrub);
        }, iter: 1000);
}
