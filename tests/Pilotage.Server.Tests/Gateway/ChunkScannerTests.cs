using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pilotage.Server.Gateway;
using Pilotage.Server.Gateway.Pipeline;

namespace Pilotage.Server.Tests.Gateway;

/// <summary>
/// The relay reads a streamed chunk from its bytes (<see cref="ChunkScanner.TryRead"/>) and, when the scanner declines,
/// from its JSON tree (<see cref="ChunkScanner.Read"/>). Both must tell the same: for every chunk the tree reads, the
/// scanner reads the same counts and text or declines; for every chunk the tree refuses, the scanner declines.
/// </summary>
public sealed class ChunkScannerTests
{
    public static TheoryData<string> Chunks => new()
    {
        """{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"We will refund "},"finish_reason":null}]}""",
        """{"id":"c","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":54,"total_tokens":94}}""",
        """{"choices":[{"delta":{"content":"line one\nline \"two\" \u00e9\u20ac \ud83d\ude00"}}]}""",
        """{"choices":[{"delta":{"content":"caf\u00e9 – ünïcödé 😀"}}]}""",
        """{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}},{"delta":{}},{"delta":{"content":null}}]}""",
        """{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"lookup","arguments":"{\"id\":1}"}}]}}]}""",
        """{"choices":[5,"x",null,[1],{"delta":"text"},{"delta":{"content":7}},{"delta":{"content":{"a":1}}}],"usage":"none"}""",
        """{"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":"12","completion_tokens":1e3}}""",
        """{"choices":[],"usage":{"prompt_tokens":1.5,"completion_tokens":2147483648}}""",
        """{"choices":[],"usage":{"prompt_tokens":-3,"completion_tokens":0}}""",
        """{"usage":{"prompt_tokens":7}}""",
        """{"choices":[]}""",
        """{"choices":{}}""",
        """{"usage":null,"choices":null}""",
        """{"usage":{"nested":{"prompt_tokens":5,"prompt_tokens":6},"completion_tokens":3},"choices":[]}""",
        """{"choices":[{"delta":{"content":"x","extra":{"content":"y","content":"z"}}}]}""",
        """ { "choices" : [ { "delta" : { "content" : "spaced" } } ] } """,
        // What the tree refuses (the relay's 502 upstream_malformed) or reads its own way: the scanner declines.
        """{"choices":[],"choices":[{"delta":{"content":"x"}}]}""",
        """{"usage":{"prompt_tokens":1,"prompt_tokens":2}}""",
        """{"choices":[{"delta":{"content":"x"},"delta":{"content":"y"}}]}""",
        """{"choices":[{"delta":{"content":"x","content":"y"}}]}""",
        """{"choices":[{"delta":{"content":"refund \ud800"}}]}""",
        """{"ch\u006fices":[{"delta":{"content":"escaped key"}}]}""",
        """{"\ud800":1,"choices":[]}""",
        """[1,2]""",
        "\"text\"",
        """{"choices":[""",
        """{"a":1} {"b":2}""",
        """{"a":1},""",
        """not json""",
        "",
        """{"choices":[{"delta":{"content":"x"}}]} // comment""",
        """{"choices":[{"delta":{"content":"x"}},]}""",
        """{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}""",
    };

    [Theory]
    [MemberData(nameof(Chunks))]
    public void The_scanner_reads_what_the_tree_reads_or_declines(string chunk) => AssertAgrees(chunk);

    [Fact]
    public void The_scanner_reads_the_common_chunks_itself_rather_than_declining()
    {
        using var text = new AnswerText();
        text.Append("before:");
        Assert.True(ChunkScanner.TryRead(Encoding.UTF8.GetBytes("""{"choices":[{"delta":{"content":"caf\u00e9\n"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}"""), text, out var reading));
        Assert.Equal("before:café\n", text.ToString());
        Assert.Equal(new ChunkScanner.Reading(3, 4, UsageOnly: false), reading);
        Assert.True(ChunkScanner.TryRead("""{"id":"c","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":54}}"""u8, text, out reading));
        Assert.Equal(new ChunkScanner.Reading(40, 54, UsageOnly: true), reading);
        // A long text (past the scanner's stack buffer) and a declined chunk leaves nothing behind.
        var longText = new string('é', 5000);
        Assert.True(ChunkScanner.TryRead(Encoding.UTF8.GetBytes($$$"""{"choices":[{"delta":{"content":"{{{longText}}}"}}]}"""), text, out _));
        Assert.EndsWith(longText, text.ToString(), StringComparison.Ordinal);
        var before = text.Length;
        Assert.False(ChunkScanner.TryRead("""{"choices":[{"delta":{"content":"kept?"}}],"choices":[]}"""u8, text, out _));
        Assert.Equal(before, text.Length);
    }

    /// <summary>Chunks put together at random from pieces real and hostile upstreams send.</summary>
    [Fact]
    public void Random_chunks_read_the_same_both_ways()
    {
        string[] members =
        [
            "\"id\":\"c\"", "\"object\":\"chat.completion.chunk\"", "\"created\":1", "\"model\":\"m\"",
            "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5}", "\"usage\":{\"prompt_tokens\":\"1\"}", "\"usage\":null", "\"usage\":[1]",
            "\"choices\":[]", "\"choices\":[{\"delta\":{\"content\":\"Hi \\\"you\\\"\\n\"}}]", "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"é😀\"},\"finish_reason\":null}]",
            "\"choices\":[{\"delta\":{\"content\":\"x\",\"content\":\"y\"}}]", "\"choices\":[{\"delta\":{\"content\":\"\\ud800\"}}]", "\"choices\":[7,{\"delta\":[]}]",
            "\"choices\":{\"delta\":{}}", "\"system_fingerprint\":null", "\"x\":{\"y\":[{\"z\":\"\\u0041\"}]}", "\"\\u0063hoices\":[]",
        ];
        var random = new Random(27);
        for (var i = 0; i < 2000; i++)
        {
            var picked = Enumerable.Range(0, random.Next(0, 5)).Select(_ => members[random.Next(members.Length)]);
            AssertAgrees("{" + string.Join(",", picked) + "}");
        }
    }

    public static TheoryData<string> Calls => new()
    {
        """{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"send_email","arguments":"{}"}}]}}]}""",
        """{"choices":[{"delta":{"tool\u005fcalls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"choices":[{"delta":{"function_call":{"name":"send_email"}}}]}""",
        """{"choices":[{"delta":{"function\u005fcall":{"name":"send_email"}}}]}""",
        """{"choices":[{"message":{"tool\u005fcalls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"choices":[{"m\u0065ssage":{"tool_calls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"choices":[{"d\u0065lta":{"tool_calls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"ch\u006fices":[{"delta":{"tool_calls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"choices":[{"delta":{"content":"x"}},{"delta":{"tool_calls":[{"function":{"name":"send_email"}}]}}]}""",
        """{"choices":[{"delta":{"content":"no call, but the word tool_calls"}}]}""",
    };

    /// <summary>
    /// Read-only mode reads a chunk in one pass when <see cref="ChunkScanner.MayCallTool"/> says it names no call and
    /// the scanner reads it; the tree must then find no side-effecting call in it, whatever way the call is written.
    /// </summary>
    [Theory]
    [MemberData(nameof(Calls))]
    [MemberData(nameof(Chunks))]
    public void A_chunk_read_in_one_pass_in_read_only_mode_calls_nothing_the_tree_would_block(string chunk) => AssertCallsNothing(chunk);

    [Fact]
    public void Random_chunks_with_calls_are_never_read_in_one_pass_in_read_only_mode()
    {
        string[] members =
        [
            "\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]", "\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"name\":\"send_email\"}}]}}]",
            "\"choices\":[{\"delta\":{\"tool\\u005fcalls\":[{\"function\":{\"name\":\"send_email\"}}]}}]", "\"choices\":[{\"message\":{\"function_call\":{\"name\":\"send_email\"}}}]",
            "\"choices\":[{\"delta\":{\"function\\u005fcall\":{\"name\":\"send_email\"}},\"m\\u0065ssage\":{}}]", "\"usage\":{\"prompt_tokens\":1}", "\"id\":\"c\"",
            "\"x\":{\"tool_calls\":[{\"function\":{\"name\":\"send_email\"}}]}", "\"choices\":[{\"delta\":{\"content\":\"message\"}}]",
        ];
        var random = new Random(6);
        for (var i = 0; i < 2000; i++)
        {
            var picked = Enumerable.Range(0, random.Next(0, 4)).Select(_ => members[random.Next(members.Length)]);
            AssertCallsNothing("{" + string.Join(",", picked) + "}");
        }
    }

    [Fact]
    public void A_chunk_of_text_alone_is_read_in_one_pass_in_read_only_mode()
    {
        Assert.False(ChunkScanner.MayCallTool("""{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"We will refund "},"finish_reason":null}]}"""u8));
        Assert.False(ChunkScanner.MayCallTool("""{"id":"c","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":54}}"""u8));
    }

    private static void AssertCallsNothing(string chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(chunk);
        using var text = new AnswerText();
        if (ChunkScanner.MayCallTool(bytes) || !ChunkScanner.TryRead(bytes, text, out _)) return;
        var tree = JsonNode.Parse(chunk, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        Assert.Null(SystemConfiguration.BlockedToolCall(tree, new HashSet<string> { "send_email" }));
    }

    private static void AssertAgrees(string chunk)
    {
        var bytes = Encoding.UTF8.GetBytes(chunk);
        ChunkScanner.Reading? tree = null;
        using var treeText = new AnswerText();
        try
        {
            if (JsonNode.Parse(chunk, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) is JsonObject parsed) tree = ChunkScanner.Read(parsed, treeText);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            // refused by the tree: the scanner must decline
        }
        using var scannedText = new AnswerText();
        var scanned = ChunkScanner.TryRead(bytes, scannedText, out var reading);
        if (tree is null)
        {
            Assert.False(scanned, $"the scanner read a chunk the tree refuses: {chunk}");
            Assert.Equal(0, scannedText.Length);
            return;
        }
        if (!scanned)
        {
            Assert.Equal(0, scannedText.Length);
            return;
        }
        Assert.Equal(tree, reading);
        Assert.Equal(treeText.ToString(), scannedText.ToString());
    }
}
