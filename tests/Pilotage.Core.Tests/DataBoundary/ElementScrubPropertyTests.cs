using System.Globalization;
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

/// <summary>Random chat-shaped request bodies as JSON text, for the tests that compare the element walk with the tree's.</summary>
public static class RandomBodies
{
    /// <summary>Pieces of text: plain words, hits of every built-in detector and of the tests' custom patterns, escapes, other scripts.</summary>
    private static readonly string[] Pieces =
    [
        "hello", " ", "words and more words", "é", "東京", "🚀", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude80", "\\/", "<b>&</b>", "12", "2026-11-18",
        "dana.lee@example.org", "x@y.co", "a\\u0040b.co", "dana.lee\uff20example.org", "4111 1111 1111 1111", "4111-1111-1111-1111",
        "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE136695976", "ATU13585627", "AB 12 34 56 C", "078-05-1120",
        "+44 20 7946 0958", "(555) 123-4567", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "TCKabc", "ORD-12345", "zzabzz",
        "\u200b", "\u00a0", "\ufb00", "data:image/png;base64,iVBORw0KGgo=", "caf\u00e9 x@y.co",
    ];

    /// <summary>Keys: the chat format's, structural ones, odd ones (escaped, path-like, empty, other scripts), long ones and ones holding hits.</summary>
    private static readonly string[] Keys =
    [
        "content", "text", "name", "role", "type", "id", "model", "data", "input_audio", "arguments", "user", "metadata", "detail", "url",
        "a.b", "x[0]", "", "caf\u00e9", "\\u00e9t\\u00e9", "\u4e2d", "tab\\t", "a_rather_long_key_name_that_is_not_structural",
        "a@b.co", "c\\u0040d.co", "dana.lee@example.org", "a@b.\ufb00", "TCKxyz",
    ];

    public static string Body(Random random)
    {
        var members = new List<string> { $"\"model\":{(random.Next(8) == 0 ? Text(random, 80) : "\"gpt-4o\"")}", $"\"messages\":{Messages(random)}" };
        void Maybe(string key, Func<string> value)
        {
            if (random.Next(3) == 0) members.Add($"\"{key}\":{value()}");
        }
        Maybe("stream", () => random.Next(2) == 0 ? "true" : "false");
        Maybe("stream_options", () => random.Next(2) == 0 ? "{\"include_usage\":true}" : $"{{\"x\":{Text(random, 6)}}}");
        Maybe("temperature", () => "0.25");
        Maybe("top_p", () => "1.0e0");
        Maybe("max_tokens", () => "100");
        Maybe("max_completion_tokens", () => "200");
        Maybe("user", () => Text(random, 4));
        Maybe("metadata", () => Any(random, 3));
        Maybe("tools", () => $"[{{\"type\":\"function\",\"function\":{{\"name\":\"lookup\",\"description\":{Text(random, 4)},\"parameters\":{Any(random, 2)}}}}}]");
        Maybe("input", () => random.Next(3) switch { 0 => "[1,2,3]", 1 => "7", _ => $"[{Text(random, 3)},[4]]" });
        Maybe("prompt", () => random.Next(2) == 0 ? "[\"a\",5]" : Text(random, 3));
        Maybe("extra", () => Any(random, 4));
        if (random.Next(6) == 0) members.Add($"\"{Key(random)}\":{Any(random, 2)}");
        var shuffled = members.DistinctBy(m => m[..(m.IndexOf("\":", StringComparison.Ordinal) + 1)]).OrderBy(_ => random.Next()).ToList();
        return "{" + string.Join(random.Next(2) == 0 ? "," : " ,\n ", shuffled) + "}";
    }

    private static string Messages(Random random)
    {
        var items = new List<string>();
        for (var i = random.Next(1, 5); i > 0; i--)
        {
            var members = new List<string> { $"\"role\":{(random.Next(10) == 0 ? Text(random, 40) : "\"user\"")}" };
            members.Add(random.Next(5) switch
            {
                0 => $"\"content\":{Text(random, 6)}",
                1 => $"\"content\":{Long(random)}",
                2 => $"\"content\":[{{\"type\":\"text\",\"text\":{Text(random, 5)}}},{{\"type\":\"image_url\",\"image_url\":{{\"url\":{Media(random)},\"detail\":\"high\"}}}}]",
                3 => $"\"content\":[{{\"type\":\"input_audio\",\"input_audio\":{{\"data\":{Text(random, 3)},\"format\":\"wav\"}}}},{{\"type\":\"base64\",\"data\":{Text(random, 3)}}}]",
                _ => "\"content\":null",
            });
            if (random.Next(3) == 0) members.Add($"\"name\":{Text(random, 2)}");
            if (random.Next(4) == 0)
            {
                members.Add($"\"tool_calls\":[{{\"id\":{Text(random, 1)},\"type\":\"function\",\"function\":{{\"name\":\"f\",\"arguments\":{Arguments(random)}}}}}]");
            }
            if (random.Next(8) == 0) members.Add($"\"{Key(random)}\":{Any(random, 2)}");
            items.Add("{" + string.Join(",", members.DistinctBy(m => m[..(m.IndexOf("\":", StringComparison.Ordinal) + 1)])) + "}");
        }
        return "[" + string.Join(",", items) + "]";
    }

    /// <summary>A value of any kind, nested up to <paramref name="depth"/>; keys may repeat, so an object keeps the first of each.</summary>
    public static string Any(Random random, int depth) => random.Next(depth > 0 ? 9 : 6) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => (random.Next(-1000, 1000) / 8.0).ToString(CultureInfo.InvariantCulture),
        3 or 4 => Text(random, 5),
        5 => random.Next(6) == 0 ? Long(random) : Text(random, 2),
        6 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => Any(random, depth - 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => (Key(random), Any(random, depth - 1)))
            .DistinctBy(m => JsonSerializer.Deserialize<string>($"\"{m.Item1}\"")).Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}",
    };

    private static string Key(Random random) => Keys[random.Next(Keys.Length)];

    public static string Text(Random random, int pieces) =>
        "\"" + string.Concat(Enumerable.Range(0, random.Next(0, pieces + 1)).Select(_ => Pieces[random.Next(Pieces.Length)])) + "\"";

    /// <summary>A text past the stack's 256 characters (and the redacted UTF-8's threshold), hits anywhere in it.</summary>
    private static string Long(Random random)
    {
        var text = new StringBuilder("\"");
        while (text.Length < 300 + random.Next(400))
        {
            text.Append(random.Next(6) == 0 ? Pieces[random.Next(Pieces.Length)] : "long prose with words ");
        }
        return text.Append('"').ToString();
    }

    private static string Media(Random random) => random.Next(3) switch
    {
        0 => "\"data:image/png;base64,iVBORw0KGgodana.lee@example.org=\"",
        1 => "\"https://example.org/x@y.co.png\"",
        _ => Text(random, 2),
    };

    private static string Arguments(Random random) =>
        JsonSerializer.Serialize(JsonSerializer.Deserialize<string>(Text(random, 3)) is { } inner ? $"{{\"to\":\"{inner.Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal)}\"}}" : "{}");
}
