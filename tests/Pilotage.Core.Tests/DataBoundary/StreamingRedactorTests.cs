using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>Streamed answers: matches split across chunk boundaries are caught, and streaming stays streaming.</summary>
public class StreamingRedactorTests
{
    private static readonly DataBoundaryPolicy Redacting = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Redact = [.. DataBoundaryPolicy.BuiltInDetectors],
        Answers = AnswerBoundaryMode.Redact,
    });

    private static readonly DataBoundaryPolicy Blocking = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card"],
        Redact = ["email"],
        Answers = AnswerBoundaryMode.Block,
    });

    private static string Stream(DataBoundaryPolicy policy, IEnumerable<string> chunks)
    {
        var redactor = new StreamingRedactor(policy);
        var output = new StringBuilder();
        foreach (var chunk in chunks) output.Append(redactor.Push(chunk));
        return output.Append(redactor.Flush()).ToString();
    }

    private const string Answer =
        "Sure. The card on file is 4111\u00a01111\u20131111.1111 and the account is DE89 3704 0044 0532 0130 00; " +
        "write to dana\uff20example.org or call +44 20 7946 0958. The key is AKIAIOSFODNN7EXAMPLE and the SSN 123-45-6789. Anything else?";

    private const string Expected =
        "Sure. The card on file is [REDACTED:credit_card] and the account is [REDACTED:iban]; " +
        "write to [REDACTED:email] or call [REDACTED:phone]. The key is [REDACTED:secret] and the SSN [REDACTED:us_ssn]. Anything else?";

    [Fact]
    public void A_whole_answer_in_one_piece_is_redacted()
    {
        Assert.Equal(Expected, Stream(Redacting, [Answer]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(16)]
    public void Matches_split_across_chunks_of_any_size_are_redacted(int size)
    {
        var chunks = Enumerable.Range(0, (Answer.Length + size - 1) / size).Select(i => Answer.Substring(i * size, Math.Min(size, Answer.Length - (i * size))));
        Assert.Equal(Expected, Stream(Redacting, chunks));
    }

    [Fact]
    public void Any_split_of_the_answer_gives_the_same_redacted_text()
    {
        Gen.Int[1, Answer.Length - 1].Array[1, 12].Sample(cuts =>
        {
            var points = cuts.Distinct().Order().ToList();
            var chunks = new List<string>();
            var from = 0;
            foreach (var p in points.Append(Answer.Length))
            {
                chunks.Add(Answer[from..p]);
                from = p;
            }
            return Stream(Redacting, chunks) == Expected;
        }, iter: 500);
    }

    [Fact]
    public void Text_far_from_any_match_goes_out_before_the_answer_ends()
    {
        var redactor = new StreamingRedactor(Redacting);
        var released = new StringBuilder();
        var prose = string.Concat(Enumerable.Repeat("This is ordinary prose with nothing to hide. ", 10));
        foreach (var word in prose.Split(' ')) released.Append(redactor.Push(word + " "));
        // Only the window a match could still span is held back.
        Assert.True(released.Length >= prose.Length - 200, $"released {released.Length} of {prose.Length} characters");
        Assert.True(redactor.Pending <= 200);
    }

    [Fact]
    public void Zero_width_padding_cannot_stretch_a_number_past_the_window()
    {
        var padded = "card 4111" + new string('\u200b', 500) + " 1111 1111 1111 done";
        var chunks = padded.Chunk(5).Select(c => new string(c));
        Assert.Equal("card [REDACTED:credit_card] done", Stream(Redacting, chunks));
    }

    [Fact]
    public void A_private_key_cut_into_chunks_is_held_until_it_ends()
    {
        var key = "-----BEGIN RSA PRIVATE KEY-----\n" + string.Join("\n", Enumerable.Repeat("MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun", 20)) + "\n-----END RSA PRIVATE KEY-----";
        var redactor = new StreamingRedactor(Redacting);
        var output = new StringBuilder();
        foreach (var chunk in ("here: " + key + " ok").Chunk(9)) output.Append(redactor.Push(new string(chunk)));
        output.Append(redactor.Flush());
        Assert.Equal("here: [REDACTED:secret] ok", output.ToString());
    }

    [Fact]
    public void A_blocking_hit_stops_the_stream_and_releases_nothing_of_it()
    {
        var redactor = new StreamingRedactor(Blocking);
        var output = new StringBuilder();
        foreach (var chunk in new[] { "Your card is 4111 11", "11 1111 1111, and more text follows here." }) output.Append(redactor.Push(chunk));
        output.Append(redactor.Flush());
        Assert.True(redactor.Blocked);
        Assert.Equal(["credit_card"], redactor.BlockedBy);
        Assert.DoesNotContain("1111", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Openai_stream_chunks_are_rewritten_and_the_rest_goes_out_with_the_finish_chunk()
    {
        var filter = Redacting.Answers!.Stream();
        var deltas = new[] { "Call me at +44 20 79", "46 0958 or mail da", "na@exam", "ple.org." };
        var sent = new StringBuilder();
        foreach (var delta in deltas)
        {
            var chunk = new JsonObject { ["id"] = "c1", ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = delta } }) };
            var rewritten = JsonNode.Parse(filter.Filter(chunk.ToJsonString()))!;
            sent.Append((string?)rewritten["choices"]![0]!["delta"]!["content"]);
        }
        var finish = JsonNode.Parse(filter.Filter("""{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"""))!;
        sent.Append((string?)finish["choices"]![0]!["delta"]!["content"]);
        Assert.Equal("Call me at [REDACTED:phone] or mail [REDACTED:email].", sent.ToString());
        Assert.Null(filter.Finish());
    }

    [Fact]
    public void Tool_call_arguments_in_a_stream_are_redacted_too()
    {
        var filter = Redacting.Answers!.Stream();
        var sent = new StringBuilder();
        foreach (var part in new[] { "{\"card\":\"4111 1111", " 1111 1111\"}" })
        {
            var chunk = new JsonObject
            {
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["delta"] = new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = 0, ["function"] = new JsonObject { ["arguments"] = part } }) },
                }),
            }.ToJsonString();
            sent.Append((string?)JsonNode.Parse(filter.Filter(chunk))!["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]);
        }
        var last = JsonNode.Parse(filter.Finish()!)!;
        sent.Append((string?)last["choices"]![0]!["delta"]!["tool_calls"]![0]!["function"]!["arguments"]);
        Assert.Equal("{\"card\":\"[REDACTED:credit_card]\"}", sent.ToString());
    }

    [Fact]
    public void A_whole_answer_is_redacted_and_its_logprobs_dropped()
    {
        var answer = JsonNode.Parse("""{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"card 4111-1111-1111-1111"},"logprobs":{"content":[{"token":"4111"}]},"finish_reason":"stop"}]}""")!.AsObject();
        var result = Redacting.Answers!.Filter(answer);
        Assert.True(result.Redacted);
        Assert.Equal("card [REDACTED:credit_card]", (string?)answer["choices"]![0]!["message"]!["content"]);
        Assert.Null(answer["choices"]![0]!["logprobs"]);
        Assert.Equal("chat.completion", (string?)answer["object"]);
    }
}
