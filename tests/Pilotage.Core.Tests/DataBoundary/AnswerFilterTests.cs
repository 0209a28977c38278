using System.Text;
using System.Text.Json.Nodes;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// A whole answer given as bytes: a clean one goes out as the very bytes the model sent, read without building a
/// document; a hit anywhere in it, in any field and any spelling, is still redacted or blocks it, exactly as the walk
/// over the parsed answer decides.
/// </summary>
public class AnswerFilterTests
{
    private static readonly DataBoundaryPolicy Redacting = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
        Answers = AnswerBoundaryMode.Redact,
    });

    private static readonly DataBoundaryPolicy Blocking = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card"],
        Redact = ["email"],
        Answers = AnswerBoundaryMode.Block,
    });

    private const string Clean =
        """{"id":"chatcmpl-1","object":"chat.completion","created":1764000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Your order 55213 ships within 5 days.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"track","arguments":"{\"order\":55213}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21},"system_fingerprint":"fp_1"}""";

    /// <summary>A card number (as the JSON text spells it: some with escapes) in every kind of place an answer has text.</summary>
    public static TheoryData<string, string> Placements => new()
    {
        { "content", """{"choices":[{"index":0,"message":{"role":"assistant","content":"card 4111 1111 1111 1111"}}]}""" },
        { "content as escapes", """{"choices":[{"index":0,"message":{"role":"assistant","content":"card 4111\u00a01111\u20131111\u200b.1111"}}]}""" },
        { "content part", """{"choices":[{"message":{"content":[{"type":"text","text":"4111-1111-1111-1111"}]}}]}""" },
        { "refusal", """{"choices":[{"message":{"refusal":"no: 4111111111111111"}}]}""" },
        { "tool call arguments", """{"choices":[{"message":{"tool_calls":[{"id":"c","type":"function","function":{"name":"pay","arguments":"{\"card\":\"4111111111111111\"}"}}]}}]}""" },
        { "tool call name", """{"choices":[{"message":{"tool_calls":[{"function":{"name":"4111111111111111","arguments":"{}"}}]}}]}""" },
        { "property name", """{"choices":[{"message":{"content":"ok","metadata":{"4111 1111 1111 1111":true}}}]}""" },
        { "property name as escapes", """{"choices":[{"message":{"content":"ok","x":{"\u0034111111111111111":1}}}]}""" },
        { "long structural value", """{"id":"see 4111 1111 1111 1111 padded with enough words to pass the structural limit of the walk","choices":[]}""" },
        { "unknown nested field", """{"choices":[{"message":{"content":"ok"}}],"extra":{"a":[{"b":[["4111 1111 1111 1111"]]}]}}""" },
        { "array of strings", """{"choices":[],"notes":["fine","also fine","4111 1111 1111 1111"]}""" },
        { "deep", $$"""{"choices":[],"d":{{string.Concat(Enumerable.Repeat("{\"n\":", 40))}}"4111 1111 1111 1111"{{new string('}', 40)}}}""" },
        { "after a clean prefix", Clean[..^1] + ""","later":"4111 1111 1111 1111"}""" },
    };

    [Fact]
    public void A_clean_answer_goes_out_as_the_same_bytes()
    {
        var answer = Encoding.UTF8.GetBytes(Clean);
        var sent = Redacting.Answers!.Filter(answer, out var found);
        Assert.Same(answer, sent);
        Assert.False(found.Redacted);
        Assert.False(found.Blocked);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void A_card_anywhere_in_the_answer_is_redacted(string place, string json)
    {
        var answer = Encoding.UTF8.GetBytes(json);
        var sent = Redacting.Answers!.Filter(answer, out var found);
        Assert.True(found.Redacted, place);
        Assert.NotSame(answer, sent);
        var text = JsonNode.Parse(sent)!.ToJsonString();
        Assert.Contains("[REDACTED:credit_card]", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", text, StringComparison.Ordinal);
        // The same verdict as the walk over the parsed answer.
        var walked = Redacting.Answers.Filter(JsonNode.Parse(json)!.AsObject());
        Assert.Equal(walked.Counts, found.Counts);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void A_card_anywhere_in_the_answer_blocks_it(string place, string json)
    {
        Blocking.Answers!.Filter(Encoding.UTF8.GetBytes(json), out var found);
        Assert.True(found.Blocked, place);
        Assert.Contains("credit_card", found.BlockedBy);
    }

    [Fact]
    public void An_email_in_a_clean_looking_answer_is_redacted_and_the_rest_kept()
    {
        var json = Clean.Replace("ships within 5 days.", "ships; write to dana.lee@example.org", StringComparison.Ordinal);
        var sent = Redacting.Answers!.Filter(Encoding.UTF8.GetBytes(json), out var found);
        Assert.True(found.Redacted);
        var message = JsonNode.Parse(sent)!["choices"]![0]!["message"]!;
        Assert.Equal("Your order 55213 ships; write to [REDACTED:email]", (string?)message["content"]);
        Assert.Equal("{\"order\":55213}", (string?)message["tool_calls"]![0]!["function"]!["arguments"]);
    }

    [Fact]
    public void Token_ids_at_the_top_of_an_answer_are_judged_by_the_walk()
    {
        // The walk refuses what it cannot read; the shortcut must not wave it through.
        Redacting.Answers!.Filter("""{"prompt":[1,2,3],"choices":[]}"""u8.ToArray(), out var found);
        Assert.True(found.Blocked);
        Assert.Equal(["prompt[0]"], found.Uninspectable);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""{"choices":[]} trailing""")]
    [InlineData("""["an array, not an object"]""")]
    public void Bytes_that_are_not_one_json_object_come_back_unchanged(string body)
    {
        var answer = Encoding.UTF8.GetBytes(body);
        Assert.Same(answer, Redacting.Answers!.Filter(answer, out var found));
        Assert.False(found.Blocked);
    }
}
