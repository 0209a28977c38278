using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The scrub of a parsed body without its tree (<see cref="RequestScrubber.Scrub(JsonElement, DataBoundaryPolicy, BoundaryBudget?, out RedactedElements)"/>)
/// is held to the tree's scrub, the reference: on random chat bodies (messages with texts and parts, names, tool calls,
/// user, metadata, nested objects and arrays, escapes, text outside ASCII, long structural values, encoded media, token
/// ids, hits of every detector in values and names, long texts) and several policies, the same result (hits with their
/// paths, counts, refusals) and, written, the same bytes; a body whose property name holds a hit is left to the tree.
/// </summary>
public sealed class ElementScrubPropertyTests
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    private static readonly DataBoundaryPolicy[] Policies =
    [
        TestPolicies.Mixed,
        TestPolicies.WithCustom,
        DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] }),
        DataBoundaryPolicy.From(new DataBoundarySpec { Block = ["email"], Redact = ["phone", "credit_card"] }),
        DataBoundaryPolicy.From(new DataBoundarySpec
        {
            Redact = ["email", "order"],
            Block = ["code"],
            Detectors = [new CustomDetectorSpec { Name = "order", Pattern = "ORD-[0-9]{5}" }, new CustomDetectorSpec { Name = "code", Pattern = "zz[a-z]{2}zz" }],
        }),
    ];

    [Fact]
    public void The_scrub_of_the_elements_is_the_scrub_of_the_tree_on_random_bodies()
    {
        var random = new Random(23);
        int compared = 0, redacted = 0, names = 0, blocked = 0;
        for (var n = 0; n < 6000; n++)
        {
            var text = RandomBodies.Body(random);
            var policy = Policies[random.Next(Policies.Length)];
            var outcome = Compare(text, policy);
            compared += outcome == Outcome.LeftToTheTree ? 0 : 1;
            redacted += outcome == Outcome.Redacted ? 1 : 0;
            names += outcome == Outcome.LeftToTheTree ? 1 : 0;
            blocked += outcome == Outcome.Blocked ? 1 : 0;
        }
        // The random bodies reach every case, not only clean ones.
        Assert.True(redacted > 1000 && names > 200 && blocked > 500, $"{compared} compared, {redacted} redacted, {blocked} blocked, {names} left to the tree");
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"mail dana.lee@example.org"}]}""", "messages[0].content")]
    [InlineData("""{"model":"m","messages":[{"role":"user","name":"dana.lee@example.org","content":"x"}]}""", "messages[0].name")]
    [InlineData("""{"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"to\":\"dana.lee@example.org\"}"}}]}]}""", "messages[0].tool_calls[0].function.arguments")]
    [InlineData("""{"model":"m","messages":[],"user":"dana.lee@example.org"}""", "user")]
    [InlineData("""{"model":"m","messages":[],"metadata":{"k":["x",["dana.lee@example.org"]]}}""", "metadata.k[1][0]")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"dana.lee\u0040example.org"}]}]}""", "messages[0].content[1].text")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"a.b":{"":"dana.lee@example.org"}}""", "a.b.")]
    public void A_hit_is_found_and_named_where_the_tree_names_it(string body, string path)
    {
        Assert.Equal(Outcome.Redacted, Compare(body, TestPolicies.Mixed));
        var result = RequestScrubber.Scrub(JsonElement.Parse(body, ParseOptions), TestPolicies.Mixed, null, out _)!;
        Assert.Equal(path, result.Hits.Single().Path);
    }

    [Theory]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"dana.lee@example.org":"x"}}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x","dana.lee\u0040example.org":1}]}""")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"a@b.\ufb00":"x"}}""")]
    public void A_property_name_that_holds_a_hit_leaves_the_body_to_the_tree(string body)
    {
        Assert.Null(RequestScrubber.Scrub(JsonElement.Parse(body, ParseOptions), TestPolicies.Mixed, null, out var redacted));
        Assert.True(redacted.IsEmpty);
        Assert.Equal(Outcome.LeftToTheTree, Compare(body, TestPolicies.Mixed));
    }

    [Fact]
    public void Token_ids_are_uninspectable_as_in_the_tree()
    {
        foreach (var body in new[] { """{"input":[1,2]}""", """{"input":5}""", """{"prompt":["a",[1]]}""", """{"input":"x","prompt":3}""" })
        {
            Assert.Equal(Outcome.Blocked, Compare(body, TestPolicies.Mixed));
        }
    }

    [Fact]
    public void A_spent_budget_refuses_the_elements_as_it_refuses_the_tree()
    {
        var evil = DataBoundaryPolicy.From(new DataBoundarySpec
        {
            Redact = ["evil", "email"],
            Detectors = [new CustomDetectorSpec { Name = "evil", Pattern = "(a+)+(?=b)" }],
        });
        var slow = new string('a', 5_000) + "!";
        var body = "{\"model\":\"m\",\"messages\":[" + string.Join(",", Enumerable.Repeat($"{{\"role\":\"user\",\"content\":\"{slow}\"}}", 50)) + "]}";
        var result = RequestScrubber.Scrub(JsonElement.Parse(body, ParseOptions), evil, new BoundaryBudget(TimeSpan.FromMilliseconds(250)), out _)!;
        Assert.Equal("evil", result.BudgetExceededBy);
        Assert.True(result.Blocked);
    }

    internal enum Outcome { Clean, Redacted, Blocked, LeftToTheTree }

    /// <summary>
    /// Thousands of redacted values, in parts, nested arrays and objects, several to a string: each is found by its
    /// position (a binary search over them, which a hostile body of a million short addresses must not make quadratic)
    /// and written where the tree writes it.
    /// </summary>
    [Fact]
    public void A_body_with_thousands_of_redacted_values_is_written_as_the_tree_writes_it()
    {
        var random = new Random(7);
        var parts = new StringBuilder();
        for (var i = 0; i < 3000; i++)
        {
            if (i > 0) parts.Append(',');
            parts.Append(random.Next(3) switch
            {
                0 => $$"""{"type":"text","text":"mail u{{i}}@example.org now"}""",
                1 => $$"""["a{{i}}@b.co", {"note":"x{{i}}@y.io and z{{i}}@w.io"}]""",
                _ => $$"""{"type":"text","text":"clean text {{i}}"}""",
            });
        }
        var body = $$$"""{"model":"m","messages":[{"role":"user","content":[{{{parts}}}]}],"metadata":{"k":"last@example.org"}}""";
        Assert.Equal(Outcome.Redacted, Compare(body, DataBoundaryPolicy.From(new DataBoundarySpec { Redact = ["email"] })));
    }

    /// <summary>Both scrubs of <paramref name="text"/>, asserted equal, and what they did.</summary>
    internal static Outcome Compare(string text, DataBoundaryPolicy policy)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var tree = (JsonObject)JsonNode.Parse(bytes, documentOptions: ParseOptions)!;
        var expected = RequestScrubber.Scrub(tree, policy, null, RedactedValues.Utf8);
        var element = JsonElement.Parse(bytes, ParseOptions);
        var actual = RequestScrubber.Scrub(element, policy, null, out var redacted);
        if (actual is null)
        {
            Assert.True(redacted.IsEmpty);
            Assert.Contains(expected.Hits, h => h.Path.EndsWith(" (name)", StringComparison.Ordinal));
            return Outcome.LeftToTheTree;
        }
        var because = $"body {text}";
        Assert.DoesNotContain(expected.Hits, h => h.Path.EndsWith(" (name)", StringComparison.Ordinal));
        Assert.True(expected.ToString() == actual.ToString(), because);
        Assert.True(expected.Hits.Select(h => (h.Path, h.Hit)).SequenceEqual(actual.Hits.Select(h => (h.Path, h.Hit))),
            $"{because}\ntree     {string.Join("; ", expected.Hits)}\nelements {string.Join("; ", actual.Hits)}");
        Assert.Equal(expected.Counts, actual.Counts);
        Assert.Equal(expected.BlockedBy, actual.BlockedBy);
        Assert.Equal(expected.Uninspectable, actual.Uninspectable);
        Assert.Equal(expected.BudgetExceededBy, actual.BudgetExceededBy);
        Assert.Equal(expected.Blocked, actual.Blocked);
        if (!expected.Blocked)
        {
            // Written: the scrubbed tree as the gateway writes it, and the elements with their redacted values.
            var sent = ScrubbedBody.ToUtf8Bytes(tree);
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer))
            {
                redacted.WriteTo(element, json);
            }
            Assert.True(sent.AsSpan().SequenceEqual(buffer.WrittenSpan), $"{because}\ntree     {Encoding.UTF8.GetString(sent)}\nelements {Encoding.UTF8.GetString(buffer.WrittenSpan)}");
        }
        return expected.Blocked ? Outcome.Blocked : expected.Redacted ? Outcome.Redacted : Outcome.Clean;
    }
}
