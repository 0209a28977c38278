using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// An answer in plain ASCII with no backslash is read without a tokeniser: its strings are found by their quotes alone,
/// a property name is the string a ':' follows, a structural key's value the string straight after it. Generated answers
/// (whitespace anywhere JSON allows it, structural keys with string and other values, <c>input</c> and <c>prompt</c> at
/// every depth, names and values holding data) must read as the tokeniser reads them; and bytes cut or spliced into
/// something that is not JSON must still come out of the filter as the walk without shortcuts leaves them.
/// </summary>
public class PlainAnswerPropertyTests
{
    private static readonly DataBoundaryPolicy Mixed = TestPolicies.MixedWithAnswers;

    private static readonly DataBoundaryPolicy WithCustom = TestPolicies.WithCustom;

    /// <summary>No secrets detector: a text with at most one digit and no '@' holds nothing, literal or not.</summary>
    private static readonly DataBoundaryPolicy NoSecrets = DataBoundaryPolicy.From(new Pilotage.Core.Specs.DataBoundarySpec
    {
        Redact = ["email", "phone"],
        Answers = Pilotage.Core.Specs.AnswerBoundaryMode.Redact,
    });

    private static readonly string[] Values =
    [
        "", "assistant", "stop", "fine", "Thank you for your message. We will refund the order within 5 days.", "a much longer text with no digit in it at all, over twenty",
        "42", "chatcmpl-AbC123xyz", "fp_44709d6fcb", "a@b.co", "dana.lee@example.org", "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00",
        "AKIAIOSFODNN7EXAMPLE", "078-05-1120", "+44 20 7946 0958", "TCKabc", "{not: a [name]}", ":", "a:b", "see 4111 1111 1111 1111, padded with words to pass the structural limit of the walk",
        // At most one digit and no '@': only a secret can be there, and only its literals are looked for.
        "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "token AKIAABCDEFGHIJKLMNOP, one digit 7", "-----BEGIN RSA PRIVATE KEY-----abcdefghijklmnopqrstuvwxyzABCDEFGH==",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.abcdefghijklmno", "A  3T and a PRIVATE  KEY, words about keys", "exactly twenty char9", "mail dana.lee@example.org today, no digit", "A Jolly_good - text ~ with every anchor but no literal",
        new string('x', 600) + " ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", new string('y', 600) + " and 1 digit, nothing else",
    ];

    private static readonly string[] Names =
    [
        "model", "role", "type", "object", "id", "finish_reason", "system_fingerprint", "status", "content", "text", "input", "prompt", "inputs",
        "a@b.co", "4111111111111111", "AKIAIOSFODNN7EXAMPLE", "TCKabc", "a name longer than any structural key",
    ];

    private static readonly Gen<string> Space = Gen.OneOf(Gen.Const(""), Gen.Const(""), Gen.Const(" "), Gen.Const("\n  "), Gen.Const("\t"), Gen.Const("\r\n"));

    private static Gen<string> Body(int depth)
    {
        var leaf = Gen.OneOf(Gen.Int[0, Values.Length - 1].Select(i => $"\"{Values[i]}\""), Gen.Const("12"), Gen.Const("-1.5e3"), Gen.Const("true"), Gen.Const("null"));
        var member = depth == 0
            ? leaf
            : Gen.Frequency((4, leaf), (1, Body(depth - 1)), (1, Gen.Select(Gen.OneOf(leaf, Body(depth - 1)).Array[0, 3], Space, (items, s) => $"[{s}{string.Join($",{s}", items)}{s}]")));
        return Gen.Select(Gen.Int[0, Names.Length - 1], member, Space, Space).Array[0, 5].Select(members =>
            "{" + string.Join(",", members.DistinctBy(m => m.Item1).Select(m => $"{m.Item3}\"{Names[m.Item1]}\"{m.Item4}:{m.Item3}{m.Item2}{m.Item4}")) + "}");
    }

    private static readonly Gen<string> Answer = Gen.Select(Space, Body(3), Space, (a, body, b) => a + body + b);

    [Fact]
    public void A_plain_answer_read_by_its_quotes_is_read_as_the_tokeniser_reads_it() =>
        Answer.Sample(json =>
        {
            var bytes = Encoding.ASCII.GetBytes(json);
            return Mixed.Answers!.ReadsClean(bytes, null, shortcuts: true) == Mixed.Answers.ReadsClean(bytes, null, shortcuts: false)
                && NoSecrets.Answers!.ReadsClean(bytes, null, shortcuts: true) == NoSecrets.Answers.ReadsClean(bytes, null, shortcuts: false)
                && WithCustom.Answers!.ReadsClean(bytes, null, shortcuts: true) == WithCustom.Answers.ReadsClean(bytes, null, shortcuts: false);
        }, iter: 5000);

    /// <summary>
    /// The quotes, digits and '@'s of a plain answer are found 64 bytes at a time: the same answer shifted by any number of
    /// spaces puts each of its strings, and each character a detector needs, at every place against those blocks (across
    /// two, on the first or last byte of one, in the padded last block), and must read the same wherever they fall.
    /// </summary>
    [Fact]
    public void A_plain_answer_reads_the_same_wherever_its_strings_fall_against_the_blocks_it_is_read_in() =>
        Gen.Select(Answer, Gen.Int[0, 130]).Sample((json, shift) =>
        {
            var bytes = Encoding.ASCII.GetBytes(new string(' ', shift) + json);
            return Mixed.Answers!.ReadsClean(bytes, null, shortcuts: true) == Mixed.Answers.ReadsClean(bytes, null, shortcuts: false)
                && WithCustom.Answers!.ReadsClean(bytes, null, shortcuts: true) == WithCustom.Answers.ReadsClean(bytes, null, shortcuts: false);
        }, iter: 5000);

    /// <summary>An answer longer than the stack holds the bits of (2 KB): they are kept in a pooled array instead.</summary>
    [Fact]
    public void A_long_plain_answer_reads_as_the_tokeniser_reads_it() =>
        Gen.Select(Answer.Array[20, 60], Gen.Int[0, 63]).Sample((parts, shift) =>
        {
            var bytes = Encoding.ASCII.GetBytes(new string(' ', shift) + "{\"choices\":[" + string.Join(",", parts) + "]}");
            return Mixed.Answers!.ReadsClean(bytes, null, shortcuts: true) == Mixed.Answers.ReadsClean(bytes, null, shortcuts: false)
                && Same(Mixed, Encoding.ASCII.GetString(bytes));
        }, iter: 300);

    /// <summary>A short value with an e-mail address or a phone number, at every place against a block's edge, is seen.</summary>
    [Theory]
    [InlineData("a@b.co")]
    [InlineData("+44 20 7946 0958")]
    public void A_short_value_with_a_hit_is_seen_wherever_it_falls_against_a_block_edge(string value)
    {
        for (var pad = 0; pad < 140; pad++)
        {
            var json = "{\"note\":\"" + new string('x', pad) + "\",\"v\":\"" + value + "\"}";
            Assert.False(Mixed.Answers!.ReadsClean(Encoding.ASCII.GetBytes(json), null, shortcuts: true), json);
        }
    }

    /// <summary>
    /// A secret in a text with at most one digit and no '@' is found from its literal alone (the text is not read in full
    /// otherwise): at every place against a block's edge, it is seen; the same text without the secret reads clean.
    /// </summary>
    [Theory]
    [InlineData("ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ")]
    [InlineData("AKIAABCDEFGHIJKLMNOP")]
    [InlineData("glpat-abcdefghijklmnopqrs5")]
    public void A_secret_with_at_most_one_digit_is_seen_wherever_it_falls_against_a_block_edge(string secret)
    {
        for (var pad = 0; pad < 140; pad++)
        {
            var json = "{\"id\":\"chatcmpl-x\",\"content\":\"" + new string('x', pad) + " " + secret + " within 5 days.\"}";
            Assert.False(Mixed.Answers!.ReadsClean(Encoding.ASCII.GetBytes(json), null, shortcuts: true), json);
            var harmless = json.Replace(secret, "a harmless word", StringComparison.Ordinal);
            Assert.True(Mixed.Answers.ReadsClean(Encoding.ASCII.GetBytes(harmless), null, shortcuts: true), harmless);
        }
    }

    /// <summary>Cut short, spliced with a quote, a brace, a colon or a bracket, or followed by more: mostly not JSON any more.</summary>
    private static readonly Gen<string> Broken = Gen.Select(Answer, Gen.Int[0, 10_000], Gen.Int[0, 5], (json, at, how) =>
    {
        var i = at % (json.Length + 1);
        return how switch
        {
            0 => json[..i],
            1 => json.Insert(i, "\""),
            2 => json.Insert(i, "{"),
            3 => json.Insert(i, ":"),
            4 => json.Insert(i, "]"),
            _ => json + """ {"x":"a@b.co"}""",
        };
    });

    [Fact]
    public void Any_plain_bytes_come_out_of_the_filter_as_the_walk_without_shortcuts_leaves_them() =>
        Gen.OneOf(Answer, Broken).Sample(json => Same(Mixed, json) && Same(WithCustom, json), iter: 5000);

    [Theory]
    [InlineData("""{"input":[1,2,3],"choices":[]}""")]
    [InlineData("""  {"prompt" : 5}""")]
    [InlineData("""{"choices":[{"message":{"content":"write to a@b.co"}}]}""")]
    [InlineData("""{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":"ok"}}],"model" :"see 4111 1111 1111 1111, padded with words to pass the structural limit"}""")]
    [InlineData("""{"type":["a@b.co"]}""")]
    [InlineData("""{"role" : "x","note":"a@b.co"}""")]
    [InlineData("""{"a@b.co":1}""")]
    public void A_plain_answer_with_something_to_find_or_check_is_not_read_clean(string json) =>
        Assert.False(Mixed.Answers!.ReadsClean(Encoding.ASCII.GetBytes(json), null, shortcuts: true));

    private static bool Same(DataBoundaryPolicy policy, string json)
    {
        var bytes = Encoding.ASCII.GetBytes(json);
        var sent = policy.Answers!.Filter(bytes, out var found);
        var fast = Describe(found) + ReferenceEquals(sent, bytes);
        JsonObject? tree;
        try
        {
            tree = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonObject;
        }
        catch (JsonException)
        {
            tree = null;
        }
        var full = tree is null ? Describe(RequestScrubber.Scrub([], policy)) + true : Describe(RequestScrubber.Scrub(tree, policy.Answers.Policy, null, shortcuts: false)) + !RequestScrubber.Scrub(JsonNode.Parse(bytes)!.AsObject(), policy.Answers.Policy, null, shortcuts: false).Redacted;
        return fast == full;
    }

    private static string Describe(ScrubResult result) =>
        string.Join(";", result.Hits.Select(h => $"{h.Path}:{h.Hit.Detector}:{h.Hit.Action}:{h.Hit.Start}:{h.Hit.Length}"))
        + "|" + string.Join(";", result.Counts.Select(c => $"{c.Detector}:{c.Action}:{c.Count}"))
        + "|" + string.Join(";", result.BlockedBy) + "|" + string.Join(";", result.Uninspectable);
}
