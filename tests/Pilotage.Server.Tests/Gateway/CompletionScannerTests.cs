using System.Text;
using Pilotage.Server.Gateway;

namespace Pilotage.Server.Tests.Gateway;

public sealed class CompletionScannerTests
{
    [Theory]
    [InlineData("""{"id":"x","choices":[{"message":{"content":"hi","usage":{"prompt_tokens":9}}}],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46}}""", true, 12, 34)]
    [InlineData("""{"usage":{"nested":{"prompt_tokens":5},"completion_tokens":3}}""", true, 0, 3)]
    [InlineData("""{"object":"list","data":[],"usage":{"prompt_tokens":8,"total_tokens":8}}""", true, 8, 0)]
    [InlineData("""{"usage":null}""", true, 0, 0)]
    [InlineData("""{"\ud800":1,"usage":{"\udc00":2,"prompt_tokens":7,"completion_tokens":3}}""", true, 7, 3)]
    [InlineData("""{"id":"x","choices":[""", false, 0, 0)]
    [InlineData("""[1,2]""", false, 0, 0)]
    [InlineData("""{"a":1} {"b":2}""", false, 0, 0)]
    [InlineData("""not json""", false, 0, 0)]
    public void Reads_usage_and_rejects_what_is_not_one_JSON_object(string json, bool ok, int prompt, int completion)
    {
        Assert.Equal(ok, CompletionScanner.TryScan(Encoding.UTF8.GetBytes(json), out var p, out var c));
        Assert.Equal(prompt, p);
        Assert.Equal(completion, c);
    }
}
