using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// The walk reads each string of a parsed request from the body's own UTF-8, unescaping it into a buffer rather than
/// a string: whatever a client escapes (a digit, a separator, half of a surrogate pair, a quote), in a value or in a
/// key, short or long, the boundary finds, blocks and redacts exactly as in the plain text.
/// </summary>
public sealed class EscapedTextTests
{
    private static readonly DataBoundaryPolicy Policy = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card"],
        Redact = ["email", "phone"],
        Answers = AnswerBoundaryMode.Redact,
    });

    private static JsonObject Chat(string escapedContent) =>
        JsonNode.Parse("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"" + escapedContent + "\"}]}")!.AsObject();

    private static string? Content(JsonObject body) => (string?)body["messages"]![0]!["content"];

    /// <summary>Card numbers and addresses as a JSON text can spell them with escapes, and what the model is sent instead.</summary>
    public static TheoryData<string, string, string, bool> Escaped => new()
    {
        { "a digit escaped", @"card \u0034111 1111 1111 1111 ok", "card [REDACTED:credit_card] ok", true },
        { "every character escaped", @"\u0034\u0031\u0031\u0031\u0020\u0031\u0031\u0031\u0031\u0020\u0031\u0031\u0031\u0031\u0020\u0031\u0031\u0031\u0031", "[REDACTED:credit_card]", true },
        { "escaped no-break spaces and a zero-width space", @"4111\u00a01111\u00a011\u200b11\u00a01111", "[REDACTED:credit_card]", true },
        { "math bold digits as surrogate pairs", @"x \ud835\udfd2\ud835\udfcf\ud835\udfcf\ud835\udfcf 1111 1111 1111 y", "x [REDACTED:credit_card] y", true },
        { "fullwidth digits escaped", @"\uff14\uff11\uff11\uff11 1111 1111 1111", "[REDACTED:credit_card]", true },
        { "an address with an escaped at sign, between emoji", @"\ud83d\ude00 write to dana\u0040example.org \ud83d\ude00", "\U0001F600 write to [REDACTED:email] \U0001F600", false },
        { "an address in escaped quotes and backslashes", @"\""dana@example.org\"" \\ \/ ok", "\"[REDACTED:email]\" \\ / ok", false },
    };

    [Theory]
    [MemberData(nameof(Escaped))]
    public void A_text_spelled_with_escapes_is_read_as_it_decodes(string what, string escaped, string sent, bool blocked)
    {
        var body = Chat(escaped);
        var result = RequestScrubber.Scrub(body, Policy);

        Assert.True(blocked == result.Blocked, what);
        Assert.Equal(sent, Content(body));
        Assert.Equal("messages[0].content", Assert.Single(result.Hits).Path);
    }

    [Fact]
    public void A_hit_far_into_a_long_escaped_text_is_redacted_at_its_exact_place()
    {
        // Longer than the stack buffer: the text is unescaped into a pooled array.
        var prose = string.Concat(Enumerable.Repeat(@"caf\u00e9 \u201cnum\u00e9ro\u201d 12 ", 40));
        var body = Chat(prose + @"call \u002b44 20 7946 0958, card \u0034111-1111-1111-1111. " + prose);
        var decoded = JsonNode.Parse("\"" + prose + "\"")!.GetValue<string>();

        var result = RequestScrubber.Scrub(body, Policy);

        Assert.True(result.Blocked);
        Assert.Equal(decoded + "call [REDACTED:phone], card [REDACTED:credit_card]. " + decoded, Content(body));
        Assert.Equal([decoded.Length + 5, decoded.Length + 28], result.Hits.Select(h => h.Hit.Start));
    }

    [Theory]
    [InlineData("4111 1111 1111 1111")]
    [InlineData(@"\u0034111\u00a01111\u00a01111\u00a01111")]
    [InlineData(@"card:\ud835\udfd2111-1111-1111-1111")]
    public void A_card_inside_a_key_is_blocked_and_the_hit_does_not_spell_it(string key)
    {
        var body = JsonNode.Parse("{\"model\":\"m\",\"metadata\":{\"" + key + "\":\"x\"},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")!.AsObject();

        var result = RequestScrubber.Scrub(body, Policy);

        Assert.True(result.Blocked);
        Assert.Equal(["credit_card"], result.BlockedBy);
        var hit = Assert.Single(result.Hits);
        Assert.EndsWith(" (name)", hit.Path, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", hit.Path, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", body.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("x", (string?)body["metadata"]!.AsObject().Single().Value);
    }

    [Theory]
    [InlineData(@"\ud800")]
    [InlineData(@"ok \udc00 4111 1111 1111 1111")]
    public void Half_a_surrogate_pair_is_never_read_as_text(string escaped)
    {
        // The gateway refuses such a body with a 400 before the boundary (RequestShape.TextProblem); the walk itself
        // fails as reading the string would, and never waves the text through as clean.
        Assert.Throws<InvalidOperationException>(() => RequestScrubber.Scrub(Chat(escaped), Policy));
    }

    [Fact]
    public void A_long_escaped_answer_with_a_card_is_redacted()
    {
        var prose = string.Concat(Enumerable.Repeat(@"Gr\u00fc\u00dfe, \u201cOK\u201d 7 ", 30));
        var answer = Encoding.UTF8.GetBytes("{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + prose + @"card \u0034111 1111 1111 1111" + "\"}}]}");

        var filtered = Policy.Answers!.Filter(answer, out var result);

        Assert.True(result.Redacted);
        var content = JsonNode.Parse(filtered)!["choices"]![0]!["message"]!["content"]!.GetValue<string>();
        Assert.EndsWith("card [REDACTED:credit_card]", content, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", content, StringComparison.Ordinal);
    }

    /// <summary>Pieces of text: prose, separators, non-Latin letters, an emoji (a surrogate pair), quotes, and things to find.</summary>
    private static readonly Gen<string> Text = Gen.OneOf(
            Gen.OneOf("hello ", "Grüße ", "число ", "\U0001F600", " ", "\u00a0", "\"", "\\", "/", "\t", "\n", "12 ", "2026-11-18 "),
            Gen.OneOf("4111 1111 1111 1111", "5500-0000-0000-0004", "dana@example.org", "+44 20 7946 0958", "4111\u00a01111\u00a01111\u00a01111"))
        .Array[1, 60].Select(parts => string.Concat(parts));

    /// <summary><paramref name="text"/> as a JSON string's inside, with the characters picked by <paramref name="escape"/> written as \u escapes.</summary>
    private static string Spell(string text, bool[] escape)
    {
        var json = new StringBuilder();
        var escaping = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            // Both halves of a surrogate pair are escaped, or neither: one half raw and one escaped is not UTF-16 text.
            escaping = char.IsLowSurrogate(c) ? escaping : escape[i % escape.Length];
            if (escaping || c < 0x20)
            {
                json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                json.Append(c is '"' or '\\' ? "\\" + c : c.ToString());
            }
        }
        return json.ToString();
    }

    [Fact]
    public void Any_escaping_of_a_value_or_a_key_scans_as_the_plain_text_does()
    {
        Gen.Select(Text, Text, Gen.Bool.Array[1, 7]).Sample((content, key, escape) =>
        {
            var plain = new JsonObject
            {
                ["model"] = "m",
                ["metadata"] = new JsonObject { [key] = "x" },
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = content }),
            };
            var escaped = JsonNode.Parse("{\"model\":\"m\",\"metadata\":{\"" + Spell(key, escape) + "\":\"x\"},\"messages\":[{\"role\":\"user\",\"content\":\"" + Spell(content, escape) + "\"}]}")!.AsObject();

            var expected = RequestScrubber.Scrub(plain, Policy);
            var actual = RequestScrubber.Scrub(escaped, Policy);

            Assert.Equal(expected.Blocked, actual.Blocked);
            Assert.Equal(expected.Counts, actual.Counts);
            Assert.Equal(expected.Hits, actual.Hits);
            Assert.Equal(plain.ToJsonString(), escaped.ToJsonString());
        });
    }
}
