using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Protocols;
using Pilotage.Server.Gateway.Protocols.Upstream;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The relay reads the events of an Anthropic or Responses API stream passed through from their bytes
/// (<see cref="IUpstreamStream.TryReadText"/>) and, when that declines, translates them from their JSON tree
/// (<see cref="IUpstreamStream.Translate"/>, then reads each chunk as the relay does). Both must tell the same: for
/// every event the one-pass reading accepts, the tree reads the same text and nothing else (no tool call, no finish,
/// no usage, not the end), in the same state of the stream; for every event the tree refuses, the one-pass reading declines.
/// </summary>
public sealed class EventScannerTests
{
    /// <summary>An Anthropic stream after <c>message_start</c>, a text block at 0 and a tool_use block at 1.</summary>
    private static AnthropicUpstreamStream Anthropic(bool started = true)
    {
        var stream = new AnthropicUpstreamStream();
        if (!started) return stream;
        _ = stream.Translate("message_start", """{"type":"message_start","message":{"id":"msg_1","model":"m","usage":{"input_tokens":9}}}""").ToList();
        _ = stream.Translate("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""").ToList();
        _ = stream.Translate("content_block_start", """{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"lookup","input":{}}}""").ToList();
        return stream;
    }

    private static ResponsesUpstreamStream Responses(bool finished = false)
    {
        var stream = new ResponsesUpstreamStream();
        _ = stream.Translate("response.created", """{"type":"response.created","response":{"id":"resp_1","model":"m"}}""").ToList();
        if (finished) _ = stream.Translate("response.completed", """{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":1,"output_tokens":2}}}""").ToList();
        return stream;
    }

    public static TheoryData<string> AnthropicEvents => new()
    {
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"We will refund "}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"line one\nline \"two\" \u00e9\u20ac \ud83d\ude00"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"caf\u00e9 – ünïcödé 😀"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":""}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"<b>&\u0027+`\u2028\u0001\t\/ \\ \ud83d\ude00\u00e9"}}""",
        """{"delta":{"text":"order","type":"text_delta","extra":{"text":"x","text":"y"}},"index":0,"type":"content_block_delta"}""",
        """ { "type" : "content_block_delta" , "index" : 0 , "delta" : { "type" : "text_delta" , "text" : "spaced" } } """,
        """{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"id\":"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}""",
        """{"type":"content_block_stop","index":0}""",
        """{"type":"content_block_stop"}""",
        """{"type":"ping"}""",
        """{"type":"ping","delta":{"type":"text_delta","text":"not text"}}""",
        """{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}""",
        """{"type":"message_stop"}""",
        """{"type":"content_block_start","index":2,"content_block":{"type":"text","text":"first"}}""",
        // What the tree refuses (the relay's 502 upstream_malformed) or reads its own way: the scanner declines.
        """{"type":"content_block_delta","index":5,"delta":{"type":"text_delta","text":"a block never started"}}""",
        """{"type":"content_block_delta","index":"0","delta":{"type":"text_delta","text":"x"}}""",
        """{"type":"content_block_delta","index":1.5,"delta":{"type":"text_delta","text":"x"}}""",
        """{"type":"content_block_delta","delta":{"type":"text_delta","text":"no index"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":5}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x","text":"y"}}""",
        """{"type":"content_block_delta","index":0,"index":0,"delta":{"type":"text_delta","text":"x"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"refund \ud800"}}""",
        """{"t\u0079pe":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"escaped key"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"t\u0079pe":"text_delta","text":"escaped key"}}""",
        """{"type":"content_block_d\u0065lta","index":0,"delta":{"type":"text_delta","text":"escaped value"}}""",
        """{"type":7,"index":0,"delta":{"type":"text_delta","text":"x"}}""",
        """{"index":0,"delta":{"type":"text_delta","text":"no type"}}""",
        """{"type":"error","error":{"type":"overloaded_error","message":"busy"}}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}} {"b":2}""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}},""",
        """{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}""",
        """[{"type":"ping"}]""",
        """not json""",
        "",
        """{"type":"ping","a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}""",
    };

    [Theory]
    [MemberData(nameof(AnthropicEvents))]
    public void Anthropic_events_read_in_one_pass_read_as_their_tree_or_are_declined(string data)
    {
        AssertAgrees(Anthropic(), Anthropic(), "content_block_delta", data, Anthropic());
        // Before message_start only a ping is allowed; after message_stop nothing is read.
        AssertAgrees(Anthropic(started: false), Anthropic(started: false), "content_block_delta", data, Anthropic(started: false));
    }

    public static TheoryData<string> ResponsesEvents => new()
    {
        """{"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"We will refund ","logprobs":[]}""",
        """{"type":"response.refusal.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"I can't"}""",
        """{"type":"response.output_text.delta","delta":"line one\nline \"two\" \u00e9\u20ac \ud83d\ude00"}""",
        """{"type":"response.output_text.delta","delta":""}""",
        """{"delta":"first","type":"response.output_text.delta","obfuscation":{"a":1,"a":2}}""",
        """{"type":"response.function_call_arguments.delta","output_index":1,"delta":"{\"id\""}""",
        """{"type":"response.output_text.done","text":"whole"}""",
        """{"type":"response.in_progress","response":{"id":"resp_1"}}""",
        """{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":3,"output_tokens":4}}}""",
        """{"type":"response.output_item.added","output_index":1,"item":{"type":"function_call","call_id":"c","name":"lookup","arguments":""}}""",
        // Declined: read as a tree, which reads or refuses them as it always did.
        """{"type":"response.output_text.delta","delta":"has a response","response":{"id":"resp_up"}}""",
        """{"type":"response.output_text.delta","delta":7}""",
        """{"type":"response.output_text.delta"}""",
        """{"type":"response.output_text.delta","delta":"x","delta":"y"}""",
        """{"type":"response.output_text.delta","type":"response.output_text.delta","delta":"x"}""",
        """{"type":"response.output_text.delta","delta":"refund \ud800"}""",
        """{"type":"response.output_text.delt\u0061","delta":"escaped value"}""",
        """{"d\u0065lta":"escaped key","type":"response.output_text.delta"}""",
        """{"type":null,"delta":"x"}""",
        """{"type":"error","message":"busy"}""",
        """{"type":"response.failed","response":{"error":{"message":"no"}}}""",
        """{"type":"response.output_text.delta","delta":"x"} {}""",
        "[DONE]",
        """{"type":"response.output_text.delta","delta":"x\"}""",
    };

    [Theory]
    [MemberData(nameof(ResponsesEvents))]
    public void Responses_events_read_in_one_pass_read_as_their_tree_or_are_declined(string data)
    {
        AssertAgrees(Responses(), Responses(), "response.output_text.delta", data);
        AssertAgrees(Responses(finished: true), Responses(finished: true), "response.output_text.delta", data);
    }

    [Fact]
    public void The_common_events_are_read_in_one_pass_rather_than_declined()
    {
        using var text = new AnswerText();
        text.Append("before:");
        Assert.True(Anthropic().TryReadText("""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"caf\u00e9\n"}}"""u8, text));
        Assert.True(Anthropic().TryReadText("""{"type":"ping"}"""u8, text));
        Assert.True(Anthropic(started: false).TryReadText("""{"type":"ping"}"""u8, text));
        Assert.True(Anthropic().TryReadText("""{"type":"content_block_stop","index":0}"""u8, text));
        Assert.True(Responses().TryReadText("""{"type":"response.output_text.delta","sequence_number":3,"delta":"Hi"}"""u8, text));
        Assert.Equal("before:café\nHi", text.ToString());
        // A long text (past the stack buffer), and a declined event that leaves nothing behind.
        var longText = new string('é', 5000);
        Assert.True(Responses().TryReadText(Encoding.UTF8.GetBytes($$"""{"type":"response.output_text.delta","delta":"{{longText}}"}"""), text));
        Assert.EndsWith(longText, text.ToString(), StringComparison.Ordinal);
        var before = text.Length;
        Assert.False(Anthropic().TryReadText("""{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"kept?"}}"""u8, text));
        Assert.False(Responses().TryReadText("""{"type":"response.output_text.delta","delta":"kept?","response":{}}"""u8, text));
        Assert.Equal(before, text.Length);
    }

    [Fact]
    public void A_text_delta_becomes_the_chunk_its_tree_becomes_with_the_id_and_model_escaped_alike()
    {
        var tree = new AnthropicUpstreamStream();
        var chunked = new AnthropicUpstreamStream();
        foreach (var stream in new[] { tree, chunked })
        {
            _ = stream.Translate("message_start", """{"type":"message_start","message":{"id":"msg_<é>","model":"modèle \"1\" 😀","usage":{"input_tokens":9}}}""").ToList();
            _ = stream.Translate("content_block_start", """{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}""").ToList();
        }
        using var text = new AnswerText();
        text.Append("already: ");
        // The chunk written for one delta is reused for the next: each is what its own tree becomes.
        foreach (var delta in new[] { "caf\\u00e9 ", "😀 \\ud83d\\ude00", "<&>" })
        {
            var data = $$$"""{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"{{{delta}}}"}}""";
            Assert.True(chunked.TryReadChunk(Encoding.UTF8.GetBytes(data), text, out var chunk));
            Assert.Equal(Assert.Single(tree.Translate("content_block_delta", data)), Encoding.UTF8.GetString(chunk.Span));
        }
        Assert.Equal("already: café 😀 😀<&>", text.ToString());
        Assert.True(chunked.TryReadChunk("""{"type":"ping"}"""u8, text, out var none));
        Assert.True(none.IsEmpty);
    }

    /// <summary>Events put together at random from pieces real and hostile upstreams send.</summary>
    [Fact]
    public void Random_events_read_the_same_both_ways()
    {
        string[] anthropic =
        [
            "\"type\":\"content_block_delta\"", "\"type\":\"ping\"", "\"type\":\"content_block_stop\"", "\"type\":\"message_stop\"", "\"type\":5",
            "\"index\":0", "\"index\":1", "\"index\":3", "\"index\":\"0\"", "\"index\":null",
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \\\"you\\\"\\n\"}", "\"delta\":{\"type\":\"text_delta\",\"text\":\"é😀\"}",
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"\\ud800\"}", "\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"t\"}",
            "\"delta\":{\"text\":\"x\",\"text\":\"y\",\"type\":\"text_delta\"}", "\"delta\":\"text\"", "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\"}",
            "\"message\":{\"id\":\"m\"}", "\"x\":{\"y\":[{\"z\":\"\\u0041\"}]}", "\"\\u0074ype\":\"ping\"",
        ];
        string[] responses =
        [
            "\"type\":\"response.output_text.delta\"", "\"type\":\"response.refusal.delta\"", "\"type\":\"response.output_text.done\"", "\"type\":\"error\"",
            "\"delta\":\"Hi \\\"you\\\"\\n\"", "\"delta\":\"é😀\"", "\"delta\":\"\\ud800\"", "\"delta\":5", "\"delta\":{\"a\":1}",
            "\"response\":{\"id\":\"r\"}", "\"sequence_number\":3", "\"item_id\":\"msg_1\"", "\"output_index\":0", "\"logprobs\":[]", "\"d\\u0065lta\":\"x\"",
        ];
        var random = new Random(27);
        for (var i = 0; i < 2000; i++)
        {
            var data = "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 5)).Select(_ => anthropic[random.Next(anthropic.Length)])) + "}";
            AssertAgrees(Anthropic(), Anthropic(), "content_block_delta", data, Anthropic());
            data = "{" + string.Join(",", Enumerable.Range(0, random.Next(0, 5)).Select(_ => responses[random.Next(responses.Length)])) + "}";
            AssertAgrees(Responses(), Responses(), "response.output_text.delta", data);
        }
    }

    /// <summary>
    /// <paramref name="tree"/> and <paramref name="scanner"/> are two streams in the same state: the tree translates the
    /// event and reads each chunk as the relay does (its text, whether it calls a tool, finishes, counts, or ends the stream).
    /// </summary>
    /// <param name="chunked">A third stream in the same state, for a chat client: the chunk it writes in one pass is the tree's, byte for byte.</param>
    private static void AssertAgrees(IUpstreamStream tree, IUpstreamStream scanner, string eventName, string data, IUpstreamStream? chunked = null)
    {
        using var treeText = new AnswerText();
        var onlyText = true;
        var refused = false;
        List<string> translated = [];
        try
        {
            translated = tree.Translate(eventName, data).ToList();
            foreach (var chunk in translated)
            {
                if (chunk == "[DONE]")
                {
                    onlyText = false;
                    continue;
                }
                var parsed = JsonNode.Parse(chunk)!.AsObject();
                var reading = ChunkScanner.Read(parsed, treeText);
                var choice = parsed["choices"] is JsonArray { Count: > 0 } choices ? choices[0] : null;
                onlyText &= reading.PromptTokens is null && reading.CompletionTokens is null && choice?["delta"]?["tool_calls"] is null && choice?["finish_reason"] is null;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException)
        {
            refused = true;
        }
        using var scannedText = new AnswerText();
        var scanned = scanner.TryReadText(Encoding.UTF8.GetBytes(data), scannedText);
        if (chunked is not null)
        {
            using var chunkedText = new AnswerText();
            Assert.Equal(scanned, chunked.TryReadChunk(Encoding.UTF8.GetBytes(data), chunkedText, out var chunk));
            Assert.Equal(scannedText.ToString(), chunkedText.ToString());
            if (scanned)
            {
                Assert.True(translated.Count <= 1, $"one event, more than one chunk: {data}");
                Assert.Equal(translated.Count == 0 ? "" : translated[0], Encoding.UTF8.GetString(chunk.Span));
            }
        }
        if (!scanned)
        {
            Assert.Equal(0, scannedText.Length);
            return;
        }
        Assert.False(refused, $"read in one pass an event the tree refuses: {data}");
        Assert.True(onlyText, $"read in one pass an event the tree reads more of: {data}");
        Assert.Equal(treeText.ToString(), scannedText.ToString());
    }
}
