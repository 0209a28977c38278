using System.Text;
using System.Text.Json;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Protocols.Upstream;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The one-pass translation of whole Responses and Anthropic answers agrees byte for byte with the node trees it
/// replaces on every answer it reads, and declines (leaving them to the trees, which read or refuse them as before)
/// every answer where the trees would do something it does not: keys twice or escaped, lone surrogates, failures,
/// Anthropic tool calls, odd types.
/// </summary>
public sealed class AnswerTranslationTests
{
    private static byte[] TreeResponses(byte[] answer) =>
        JsonSerializer.SerializeToUtf8Bytes(ResponsesUpstreamAnswer.ToChat(CommonContent.Object(answer, "the answer")), GatewayJsonContext.Default.JsonNode);

    private static byte[] TreeAnthropic(byte[] answer) =>
        JsonSerializer.SerializeToUtf8Bytes(AnthropicUpstreamAnswer.ToChat(CommonContent.Object(answer, "the answer")), GatewayJsonContext.Default.JsonNode);

    public static TheoryData<string> ReadResponses => new()
    {
        """{"id":"resp_1","object":"response","created_at":1764000000,"status":"completed","model":"gpt-x","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Thank you. We will refund the order within 5 days.","annotations":[]}]}],"usage":{"input_tokens":120,"output_tokens":40,"total_tokens":160}}""",
        """{"object":"response","status":"completed","output":[{"type":"reasoning","summary":[]},{"type":"message","content":[{"type":"output_text","text":"a"},{"type":"output_text","text":"b"},{"type":"refusal","refusal":"no"},{"type":"input_image"},7,null]},3,"x",{"type":"message","content":"not a list"}]}""",
        """{"object":"response","status":"completed","output":[{"type":"function_call","call_id":"call_9","name":"send_email","arguments":"{\"to\":\"a@b.c\"}"},{"type":"function_call","name":"lookup"},{"type":"function_call","call_id":5,"name":"third","arguments":{"x":1}}],"usage":{"input_tokens":"12","output_tokens":1.5}}""",
        """{"object":"response","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"cut"}]}],"created_at":1.5,"usage":{"input_tokens":3000000000,"output_tokens":2}}""",
        """{"object":"response","status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[],"created_at":null,"id":null,"model":7}""",
        """{"object":"response","status":"incomplete","output":[{"type":"message","content":[{"type":"output_text","text":"x"}]},{"type":"function_call","name":"f"}]}""",
        """{"object":"respons\u0065","status":"in_progress","output":[{"type":"message","content":[{"type":"output_text","text":"Gr\u00fc\u00dfe \ud83d\ude00 <b>&amp; \"quoted\" \\ \n\t"}]}],"usage":"none"}""",
        """{"object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"Grüße, ça va? 日本語 — “quotes” ✓"}]}],"created_at":-5}""",
        """{"object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":""}]}],"usage":{}}""",
    };

    public static TheoryData<string> DeclinedResponses => new()
    {
        """{"object":"response","object":"response","status":"completed","output":[]}""",
        """{"object":"response","status":"completed","output":[{"type":"message","type":"message","content":[]}]}""",
        """{"object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"a","text":"b"}]}]}""",
        """{"object":"response","status":"completed","output":[],"usage":{"input_tokens":1,"input_tokens":2}}""",
        """{"object":"response","st\u0061tus":"completed","output":[]}""",
        """{"object":"response","status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"\ud800 lone"}]}]}""",
        """{"object":"response","status":"failed","error":{"message":"overloaded"},"output":[]}""",
        """{"object":"chat.completion","output":[]}""",
        """{"object":"response","status":"completed"}""",
        """{"object":"response","status":"completed","output":[],"created_at":"1764000000"}""",
        """{"object":"response","status":"completed","output":[{"type":"function_call","call_id":"c"}]}""",
        """{"object":"response","status":"incomplete","incomplete_details":{"reason":"a","reason":"b"},"output":[]}""",
        """[1,2]""",
        """{"object":"response",""",
    };

    public static TheoryData<string> ReadAnthropic => new()
    {
        """{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Thank you. We will refund the order."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":120,"output_tokens":40}}""",
        """{"type":"message","content":[{"type":"thinking","thinking":"hm"},{"type":"text","text":"a"},3,{"type":"text","text":"b"},{"type":"text"}],"stop_reason":"max_tokens","usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":"7","output_tokens":2}}""",
        """{"type":"message","content":[],"stop_reason":"refusal","usage":{"input_tokens":2147483647,"cache_read_input_tokens":1,"output_tokens":1}}""",
        """{"type":"messag\u0065","id":7,"model":null,"content":[{"type":"text","text":"Grüße \ud83d\ude00 \"q\" \\ </script>"}],"stop_reason":"pause_turn"}""",
    };

    public static TheoryData<string> DeclinedAnthropic => new()
    {
        """{"type":"message","content":[{"type":"tool_use","id":"toolu_1","name":"send_email","input":{"to":"a@b.c"}}],"stop_reason":"tool_use"}""",
        """{"type":"message","type":"message","content":[]}""",
        """{"type":"message","content":[{"type":"text","text":"a","text":"b"}]}""",
        """{"type":"message","content":[],"usage":{"output_tokens":1,"output_tokens":2}}""",
        """{"type":"message","content":[{"type":"text","text":"\udc00"}]}""",
        """{"type":"message","content":"text"}""",
        """{"type":"error","error":{"type":"overloaded_error"}}""",
    };

    [Theory]
    [MemberData(nameof(ReadResponses))]
    public void A_responses_answer_it_reads_gives_the_same_bytes_as_the_node_tree(string answer)
    {
        var bytes = Encoding.UTF8.GetBytes(answer);
        Assert.True(AnswerTranslation.TryResponses(bytes, out var chat));
        Assert.Equal(Encoding.UTF8.GetString(TreeResponses(bytes)), Encoding.UTF8.GetString(chat));
    }

    [Theory]
    [MemberData(nameof(DeclinedResponses))]
    public void A_responses_answer_the_node_tree_reads_differently_or_refuses_is_declined(string answer)
    {
        var bytes = Encoding.UTF8.GetBytes(answer);
        Assert.False(AnswerTranslation.TryResponses(bytes, out _));
    }

    [Theory]
    [MemberData(nameof(ReadAnthropic))]
    public void An_anthropic_answer_it_reads_gives_the_same_bytes_as_the_node_tree(string answer)
    {
        var bytes = Encoding.UTF8.GetBytes(answer);
        Assert.True(AnswerTranslation.TryAnthropic(bytes, out var chat));
        Assert.Equal(Encoding.UTF8.GetString(TreeAnthropic(bytes)), Encoding.UTF8.GetString(chat));
    }

    [Theory]
    [MemberData(nameof(DeclinedAnthropic))]
    public void An_anthropic_answer_the_node_tree_reads_differently_or_refuses_is_declined(string answer)
    {
        var bytes = Encoding.UTF8.GetBytes(answer);
        Assert.False(AnswerTranslation.TryAnthropic(bytes, out _));
    }

    /// <summary>Random answers built from the pieces above: whatever the one pass reads, it reads as the tree does.</summary>
    [Fact]
    public void Random_answers_read_in_one_pass_agree_with_the_node_tree()
    {
        var random = new Random(27);
        string[] texts = ["\"plain\"", "\"Grüße \\u00e9 \\ud83d\\ude00\"", "\"\"", "7", "null", "\"\\ud800\"", "{\"x\":1}", "\"a\\\"b\\\\c\\n\""];
        string[] types = ["\"message\"", "\"function_call\"", "\"reasoning\"", "\"output_text\"", "\"text\"", "3", "\"tool_use\""];
        string Pick(string[] from) => from[random.Next(from.Length)];
        var read = 0;
        for (var n = 0; n < 2000; n++)
        {
            string Part() => $$"""{"type":{{Pick(types)}},"text":{{Pick(texts)}},"refusal":{{Pick(texts)}}}""";
            string Item() => $$"""{"type":{{Pick(types)}},"content":[{{Part()}},{{Part()}}],"call_id":{{Pick(texts)}},"name":{{Pick(texts)}},"arguments":{{Pick(texts)}}}""";
            var responses = Encoding.UTF8.GetBytes($$$"""{"object":"response","status":{{{Pick(["\"completed\"", "\"incomplete\"", "null", "\"failed\""])}}},"id":{{{Pick(texts)}}},"model":{{{Pick(texts)}}},"created_at":{{{Pick(["1", "1.5", "null", "-3", "99999999999"])}}},"output":[{{{Item()}}},{{{Item()}}}],"usage":{"input_tokens":{{{Pick(["1", "\"2\"", "3.5", "null"])}}},"output_tokens":{{{Pick(["4", "5e0", "null"])}}}}}""");
            if (AnswerTranslation.TryResponses(responses, out var chat))
            {
                read++;
                Assert.Equal(Encoding.UTF8.GetString(TreeResponses(responses)), Encoding.UTF8.GetString(chat));
            }
            var anthropic = Encoding.UTF8.GetBytes($$$"""{"type":"message","id":{{{Pick(texts)}}},"model":{{{Pick(texts)}}},"content":[{{{Part()}}},{{{Part()}}}],"stop_reason":{{{Pick(["\"end_turn\"", "\"max_tokens\"", "null", "\"tool_use\""])}}},"usage":{"input_tokens":{{{Pick(["1", "\"2\"", "null"])}}},"cache_read_input_tokens":{{{Pick(["1", "2.5"])}}},"output_tokens":3}}""");
            if (AnswerTranslation.TryAnthropic(anthropic, out var fromAnthropic))
            {
                read++;
                Assert.Equal(Encoding.UTF8.GetString(TreeAnthropic(anthropic)), Encoding.UTF8.GetString(fromAnthropic));
            }
        }
        // Most random answers are read in one pass, so the agreement above is tested, not declined away.
        Assert.True(read > 500, $"only {read} of 4000 random answers were read in one pass");
    }
}
