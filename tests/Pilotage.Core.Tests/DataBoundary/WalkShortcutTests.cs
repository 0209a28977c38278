using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The walks' shortcuts never change a verdict: the request walk and the answer's reading judge a string from its UTF-8
/// when it is plain ASCII with no escape (a short value of a structural key, or a short text with no digit and no '@', is
/// clean without being read), and structural keys are told by a switch rather than a set. Generated bodies, with values
/// and names in every spelling the shortcuts look at (escapes, other scripts, long and short, structural keys), are
/// walked with and without the shortcuts: the same hits at the same paths, the same body after, the same answer
/// verdict. Each attack below spells a forbidden value so that it looks like what a shortcut skips.
/// </summary>
public class WalkShortcutTests
{
    private static readonly DataBoundaryPolicy Mixed = TestPolicies.MixedWithAnswers;

    private static readonly DataBoundaryPolicy WithCustom = TestPolicies.WithCustom;

    /// <summary>Values as JSON spells them (escapes included): short and long, clean and not, ASCII or not.</summary>
    private static readonly string[] Values =
    [
        "", "user", "assistant", "stop", "text", "fine", "Where is my parcel?", "no digits in this short", "a much longer text with no digit in it at all, over twenty",
        "42", "order 55213", "a@b.co", "dana.lee@example.org", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE",
        "078-05-1120", "+44 20 7946 0958", "TCKabc", "tckabc",
        "a\\u0040b.co", "dana\\u0040example.org", "\\u0034111 1111 1111 1111", "card \\u00341111111111111111", "x\\u00a0y", "\\\"quoted\\\"", "tab\\there", "\\uD800",
        "a\uff20b.co", "\uff14\uff11\uff11\uff11 1111 1111 1111", "\u0664\u0661\u0661\u0661 1111 1111 1111", "caf\u00e9", "a@b.\ufb00", "\u200b", "AKIA\u200bIOSFODNN7EXAMPLE",
        "data:image/png;base64,QUJD", "see 4111 1111 1111 1111, padded with words to pass the structural limit of the walk",
        "card 4111  1111  1111  1111 written with two spaces between its groups", "a long line that holds an address late, far past its first word: dana.lee@example.org",
        "a long plain start that only holds an escape later, past the first block of bytes: dana\\u0040example.org",
        "a long plain start that only later holds a card in another script, past the first block: \uff14111 1111 1111 1111",
    ];

    /// <summary>Names: structural keys and near misses, the fields a model reads, names holding data.</summary>
    private static readonly string[] Names =
    [
        "model", "role", "type", "object", "id", "tool_call_id", "call_id", "finish_reason", "system_fingerprint", "status", "format", "detail",
        "Role", "roles", "mode", "ids", "type ", "content", "name", "text", "arguments", "user", "metadata", "data", "input_audio", "note",
        "a@b.co", "x\\u0040y.co", "4111111111111111", "a\uff20b.co", "AKIAIOSFODNN7EXAMPLE", "TCKabc",
    ];

    private static readonly Gen<string> Value = Gen.Int[0, Values.Length - 1].Select(i => Values[i]);

    private static readonly Gen<string> Name = Gen.Int[0, Names.Length - 1].Select(i => Names[i]);

    /// <summary>A JSON object of generated members, nested up to <paramref name="depth"/> levels in objects and arrays.</summary>
    private static Gen<string> Body(int depth)
    {
        var leaf = Gen.OneOf(Value.Select(v => $"\"{v}\""), Gen.Const("12"), Gen.Const("true"), Gen.Const("null"));
        var member = depth == 0
            ? leaf
            : Gen.Frequency((4, leaf), (1, Body(depth - 1)), (1, Body(depth - 1).Array[0, 3].Select(items => $"[{string.Join(",", items)}]")));
        return Gen.Select(Name, member).Array[0, 5].Select(members =>
            "{" + string.Join(",", members.DistinctBy(m => m.Item1).Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}");
    }

    private static readonly Gen<string> Request = Gen.Select(Body(2), Value, (rest, content) =>
        $$"""{"model":"m","messages":[{"role":"user","content":"{{content}}"}],"extra":{{rest}}}""");

    [Fact]
    public void The_request_walk_with_its_shortcuts_is_the_walk_without_them() =>
        Request.Sample(json => SameWalk(Mixed, json) && SameWalk(WithCustom, json), iter: 3000);

    [Fact]
    public void The_answer_read_with_its_shortcuts_is_the_read_without_them() =>
        Body(3).Sample(json => SameRead(Mixed, json) && SameRead(WithCustom, json), iter: 3000);

    [Fact]
    public void A_whole_answer_filtered_from_its_bytes_is_the_walk_without_shortcuts() =>
        Body(3).Sample(json =>
        {
            var bytes = Encoding.UTF8.GetBytes(json);
            var fast = Outcome(() =>
            {
                var sent = Mixed.Answers!.Filter(bytes, out var found);
                return Describe(found) + (found.Redacted || ReferenceEquals(sent, bytes));
            });
            var full = Outcome(() => Describe(RequestScrubber.Scrub(JsonNode.Parse(json)!.AsObject(), Mixed.Answers!.Policy, null, shortcuts: false)) + true);
            return fast == full;
        }, iter: 3000);

    [Fact]
    public void Structural_keys_are_told_apart_exactly_as_the_set_tells_them()
    {
        foreach (var key in RequestScrubber.StructuralKeys)
        {
            Assert.True(RequestScrubber.IsStructural(key), key);
        }
        // Near misses: every key cut, lengthened, re-cased or with one character changed.
        var pieces = RequestScrubber.StructuralKeys.Concat(["_", "s", "id", "ID", " ", "\u0131", "X"]).ToArray();
        Gen.Select(Gen.Int[0, pieces.Length - 1].Array[1, 3].Select(p => string.Concat(p.Select(i => pieces[i]))), Gen.Int[0, 40], Gen.Int[0, 3], (text, at, how) => how switch
            {
                0 => text,
                1 => text[..(at % (text.Length + 1))],
                2 => text.ToUpperInvariant(),
                _ => text.Remove(at % text.Length, 1).Insert(at % text.Length, "x"),
            })
            .Sample(text => RequestScrubber.IsStructural(text) == RequestScrubber.StructuralKeys.Contains(text), iter: 5000);
    }

    [Theory]
    // Each spells a forbidden value in a short string of plain-looking ASCII, or as a structural key's value.
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"ok"}],"user":"a\u0040b.co"}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"ok"}],"user":"dana\u0040example.org"}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"\u0034111 1111 1111 1111"}]}""", "credit_card")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a＠b.co"}]}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"a@b.ﬀ"}]}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"４１１１ １１１１ １１１１ １１１１"}]}""", "credit_card")]
    [InlineData("""{"model":"m","messages":[{"role":"user","name":"a@b.co","content":"ok"}]}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user 4111 1111 1111 1111 with words to pass the structural limit of the walk","content":"ok"}]}""", "credit_card")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"ok"}],"metadata":{"a\u0040b.co":"x"}}""", "email")]
    [InlineData("""{"model":"m","messages":[{"role":"user","content":"AKIA\u0049OSFODNN7EXAMPLE"}]}""", "secret")]
    public void A_forbidden_value_spelled_to_look_skippable_is_still_found_in_a_request(string json, string detector)
    {
        var body = JsonNode.Parse(json)!.AsObject();
        var result = RequestScrubber.Scrub(body, Mixed);
        Assert.Contains(result.Counts, c => c.Detector == detector);
        Assert.True(SameWalk(Mixed, json), "the walk with its shortcuts differs from the walk without them");
    }

    [Theory]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"write to a\u0040b.co"}}]}""", "email")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok"}}],"x":"a\u0040b.co"}""", "email")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"a＠b.co"}}]}""", "email")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok","a\u0040b.co":1}}]}""", "email")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok","a＠b.co":1}}]}""", "email")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok","AKIAIOSFODNN7EXAMPLE":1}}]}""", "secret")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok"}}],"id":"see 4111 1111 1111 1111 padded with enough words to pass the limit"}""", "credit_card")]
    [InlineData("""{"choices":[{"message":{"role":"assistant","content":"ok"}}],"id":"\u0034111 1111 1111 1111 and then enough words to pass the structural limit"}""", "credit_card")]
    public void A_forbidden_value_spelled_to_look_skippable_is_still_found_in_an_answer(string json, string detector)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        var sent = Mixed.Answers!.Filter(bytes, out var found);
        Assert.Contains(found.Counts, c => c.Detector == detector);
        Assert.NotSame(bytes, sent);
        Assert.True(SameRead(Mixed, json), "the answer read with its shortcuts differs from the read without them");
    }

    [Fact]
    public void A_custom_pattern_is_found_in_a_short_plain_string_the_built_in_shortcut_would_skip()
    {
        // No digit, no '@', under twenty characters: clean for every built-in detector, not for a custom pattern.
        var body = JsonNode.Parse("""{"model":"m","messages":[{"role":"user","content":"ok"}],"user":"TCKabc"}""")!.AsObject();
        Assert.Contains(RequestScrubber.Scrub(body, WithCustom).Counts, c => c.Detector == "ticket");
        var answer = """{"choices":[{"message":{"content":"TCKabc"}}],"TCKdef":1}"""u8.ToArray();
        WithCustom.Answers!.Filter(answer, out var found);
        Assert.Equal(2, found.Counts.Single(c => c.Detector == "ticket").Count);
    }

    /// <summary>The same result and body both ways, or the same refusal to read (a lone surrogate escape, as the gateway's own check of the body refuses).</summary>
    private static bool SameWalk(DataBoundaryPolicy policy, string json)
    {
        var fast = JsonNode.Parse(json)!.AsObject();
        var full = JsonNode.Parse(json)!.AsObject();
        var a = Outcome(() => Describe(RequestScrubber.Scrub(fast, policy, null, shortcuts: true)) + fast.ToJsonString());
        var b = Outcome(() => Describe(RequestScrubber.Scrub(full, policy, null, shortcuts: false)) + full.ToJsonString());
        return a == b;
    }

    private static string Outcome(Func<string> walk)
    {
        try
        {
            return walk();
        }
        catch (InvalidOperationException e)
        {
            return e.GetType().Name;
        }
    }

    private static bool SameRead(DataBoundaryPolicy policy, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return policy.Answers!.ReadsClean(bytes, null, shortcuts: true) == policy.Answers.ReadsClean(bytes, null, shortcuts: false);
    }

    /// <summary>Everything a scrub reports, as one comparable text: each hit with its path and span, counts, refusals.</summary>
    private static string Describe(ScrubResult result) =>
        string.Join(";", result.Hits.Select(h => $"{h.Path}:{h.Hit.Detector}:{h.Hit.Action}:{h.Hit.Start}:{h.Hit.Length}"))
        + "|" + string.Join(";", result.Counts.Select(c => $"{c.Detector}:{c.Action}:{c.Count}"))
        + "|" + string.Join(";", result.BlockedBy) + "|" + string.Join(";", result.Uninspectable);
}
