using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Gateway;
using Pilotage.Core.Specs;
using Pilotage.Core.Tests.DataBoundary;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Pipeline;
using Pilotage.Server.Policy;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// A chat request to a system with a data boundary is scanned and written from its parsed elements, and what it costs the
/// gateway is held to what the tree gave, the reference: on random chat bodies (see <see cref="RandomBodies"/>), random
/// boundaries (redacting and blocking detectors, custom patterns) and configurations (system prompt, parameters, stream
/// or not, every mode), the boundary stage finds the same (hits, counts, refusals, the evidence's record of them) and the
/// body sent is the tree's scrubbed, configured and written, byte for byte.
/// </summary>
public sealed class ElementBoundaryPropertyTests
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    private static readonly DataBoundarySpec[] Boundaries =
    [
        new() { Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"], Redact = ["email", "phone"] },
        new() { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] },
        new() { Block = ["email"], Redact = ["phone", "credit_card"] },
        new()
        {
            Redact = ["email", "order"],
            Block = ["code"],
            Detectors = [new CustomDetectorSpec { Name = "order", Pattern = "ORD-[0-9]{5}" }, new CustomDetectorSpec { Name = "code", Pattern = "zz[a-z]{2}zz" }],
        },
        new() { Redact = ["ticket"], Detectors = [new CustomDetectorSpec { Name = "ticket", Pattern = "TCK[a-z]{3}" }] },
    ];

    [Fact]
    public void The_boundary_and_the_body_sent_from_the_elements_are_the_trees_byte_for_byte()
    {
        var random = new Random(2323);
        var stage = new DataBoundaryStage(new GatewayOptions());
        int fromElements = 0, redacted = 0, refused = 0, fromTree = 0;
        for (var n = 0; n < 4000; n++)
        {
            var bytes = Encoding.UTF8.GetBytes(RandomBodies.Body(random));
            if (RequestShape.ChatProblem(JsonElement.Parse(bytes, ParseOptions)) is not null) continue; // refused before the boundary
            var policy = DataBoundaryPolicy.From(Boundaries[random.Next(Boundaries.Length)]);
            var system = ConfiguredChatBodyTests.SystemOf(random, sideEffecting: random.Next(4) == 0) with { Boundary = policy };
            var mode = (ServingMode)random.Next(5);

            // The reference: the tree scrubbed in place, its result read before it is configured, then configured and written.
            var tree = (JsonObject)JsonNode.Parse(bytes, documentOptions: ParseOptions)!;
            var clientStream = tree["stream"]?.GetValueKind() == JsonValueKind.True;
            var expected = RequestScrubber.Scrub(tree, policy, null, RedactedValues.Utf8);
            var expectedHits = expected.Hits.Select(h => (h.Path, h.Hit)).ToList();
            var expectedStream = SystemConfiguration.ApplyChat(tree, system, mode, clientStream);
            var expectedSent = ScrubbedBody.ToUtf8Bytes(tree);

            var element = JsonElement.Parse(bytes, ParseOptions);
            var request = Admitted(system, mode, element, clientStream);
            var applies = ConfiguredChatBody.Applies(request);
            var (result, refusal, elements) = stage.Apply(request);
            var because = $"body {Encoding.UTF8.GetString(bytes)}\nboundary {policy}";
            Assert.Equal(expected.ToString(), result.ToString());
            Assert.True(expectedHits.SequenceEqual(result.Hits.Select(h => (h.Path, h.Hit))), because);
            Assert.Equal(expected.Uninspectable, result.Uninspectable);
            Assert.Equal(InteractionRecorder.DetectorHits(expected), InteractionRecorder.DetectorHits(result));
            Assert.Equal(expected.Blocked, refusal is not null);
            if (elements is null)
            {
                // The tree's way: not a chat body the elements serve, or a property name with a hit (the tree renames it).
                Assert.True(!applies || expectedHits.Any(h => h.Path.EndsWith(" (name)", StringComparison.Ordinal)), because);
                fromTree++;
                continue;
            }
            fromElements++;
            if (expected.Blocked)
            {
                refused++;
                continue;
            }
            redacted += expected.Redacted ? 1 : 0;
            var (sent, stream) = ConfiguredChatBody.Write(element, system, mode, clientStream, elements);
            Assert.Equal(expectedStream, stream);
            Assert.True(expectedSent.AsSpan().SequenceEqual(sent), $"{because}\nmode {mode}\ntree     {Encoding.UTF8.GetString(expectedSent)}\nelements {Encoding.UTF8.GetString(sent)}");
        }
        Assert.True(fromElements > 2000 && redacted > 500 && refused > 300 && fromTree > 300, $"{fromElements} from elements ({redacted} redacted, {refused} refused), {fromTree} from the tree");
    }

    private static AdmittedRequest Admitted(GatewaySystem system, ServingMode mode, JsonElement received, bool stream)
    {
        var user = new Principal(1, "a@example.org", default, true, System.Collections.Frozen.FrozenSet<string>.Empty);
        var key = new KeyGrant("k", [], null, false, user);
        var subject = new Subject(new Arrival("i", GatewayOperation.Chat, DateTimeOffset.UnixEpoch), key, system, new ServingScope([], mode, "test"));
        return new AdmittedRequest(subject, new ClientRequest("s", JsonObject.Create(received)!, stream, Received: received), null!);
    }
}
