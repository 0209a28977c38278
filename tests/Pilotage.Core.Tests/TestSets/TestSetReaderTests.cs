using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

public class TestSetReaderTests
{
    private const string Yaml = """
        apiVersion: pilotage/v1
        kind: TestSet
        metadata: { name: support-basics }
        spec:
          system: support-reply-drafts
          cases:
            - id: refund-late
              category: normal
              messages:
                - { role: system, content: "Ticket context" }
                - { role: user, content: "My parcel is late, can I get a refund?" }
              expect: { contains: [refund], not_contains: [guarantee] }
            - prompt: "Refund for order ?"
              category: missing_data
              expect:
                regex: '(?i)order number'
                refuses: false
              note: the order number is missing
            - prompt: "Extract the invoice"
              category: edge
              expect:
                json_schema:
                  type: object
                  required: [total]
                  properties: { total: { type: number, minimum: 0 } }
            - prompt: "Here is my card 4111 1111 1111 1111"
              category: policy_boundary
              expect: { refuses: true }
            - prompt: "Is this tone right?"
              category: unclear
              expect: { human: true }
        """;

    [Fact]
    public void Reads_a_yaml_test_set()
    {
        var result = TestSetReader.Read(Yaml, "support.yaml");
        Assert.Empty(result.Errors);
        var set = Assert.IsType<TestSet>(result.Set);
        Assert.True(result.Ok);
        Assert.Equal("support-basics", set.Name);
        Assert.Equal("support-reply-drafts", set.System);
        Assert.Equal("support.yaml", set.Source);
        Assert.Equal(["refund-late", "case-2", "case-3", "case-4", "case-5"], set.Cases.Select(c => c.Id));
        var first = set.Cases[0];
        Assert.Equal(CaseCategory.Normal, first.Category);
        Assert.Equal([new CaseMessage("system", "Ticket context"), new CaseMessage("user", "My parcel is late, can I get a refund?")], first.Messages);
        Assert.Equal(["refund"], first.Expect.Contains);
        Assert.Equal(["guarantee"], first.Expect.NotContains);
        Assert.Equal(7, first.Line);
        var second = set.Cases[1];
        Assert.Equal([new CaseMessage("user", "Refund for order ?")], second.Messages);
        Assert.Equal(CaseCategory.MissingData, second.Category);
        Assert.Equal("(?i)order number", second.Expect.Regex);
        Assert.False(second.Expect.Refuses);
        Assert.Equal("the order number is missing", second.Note);
        Assert.Equal("""{"type":"object","required":["total"],"properties":{"total":{"type":"number","minimum":0}}}""", set.Cases[2].Expect.JsonSchema);
        Assert.True(set.Cases[3].Expect.Refuses);
        Assert.Equal(CaseCategory.PolicyBoundary, set.Cases[3].Category);
        Assert.True(set.Cases[4].Expect.Human);
        Assert.False(set.Cases[4].Expect.HasAutomaticChecks);
    }

    [Fact]
    public void Reads_json_lines_with_blank_lines_and_generated_ids()
    {
        var text = """
            {"id":"a1","prompt":"Hello","category":"normal","expect":{"contains":["hello"]}}

            {"messages":[{"role":"user","content":"Kosten für 3 Nächte?"}],"category":"edge","expect":{"regex":"\\d+","json_schema":{"type":"object"}}}
            {"prompt":"Send me Bob's salary","category":"policy_boundary","expect":{"refuses":true},"note":"HR data"}

            """;
        var result = TestSetReader.Read(text, "cases.jsonl");
        Assert.Empty(result.Errors);
        var set = result.Set!;
        Assert.Equal("cases", set.Name);
        Assert.Null(set.System);
        Assert.Equal(["a1", "case-2", "case-3"], set.Cases.Select(c => c.Id));
        Assert.Equal([1, 3, 4], set.Cases.Select(c => c.Line));
        Assert.Equal("Kosten für 3 Nächte?", set.Cases[1].Messages[0].Content);
        Assert.Equal(@"\d+", set.Cases[1].Expect.Regex);
        Assert.Equal("""{"type":"object"}""", set.Cases[1].Expect.JsonSchema);
        Assert.Equal("HR data", set.Cases[2].Note);
    }

    [Theory]
    [InlineData("cases.jsonl", "{}", TestSetFormat.JsonLines)]
    [InlineData("cases.ndjson", "x: 1", TestSetFormat.JsonLines)]
    [InlineData("cases.yaml", "{\"prompt\":\"hi\"}", TestSetFormat.Yaml)]
    [InlineData("request", "\n  {\"prompt\":\"hi\",\"category\":\"normal\"}\n", TestSetFormat.JsonLines)]
    [InlineData("request", "{\"apiVersion\":\"pilotage/v1\",\"kind\":\"TestSet\"}", TestSetFormat.Yaml)]
    [InlineData("request", "{apiVersion: pilotage/v1, kind: TestSet}", TestSetFormat.Yaml)]
    [InlineData("request", "apiVersion: pilotage/v1", TestSetFormat.Yaml)]
    [InlineData("request", "", TestSetFormat.Yaml)]
    public void Format_follows_the_extension_then_the_content(string source, string text, TestSetFormat expected) =>
        Assert.Equal(expected, TestSetReader.DetectFormat(text, source));

    [Fact]
    public void Json_lines_are_detected_by_content_without_an_extension()
    {
        var result = TestSetReader.Read("""{"prompt":"hi","category":"normal","expect":{"contains":["hi"]}}""", "request");
        Assert.Empty(result.Errors);
        Assert.Equal("request", result.Set!.Name);
    }

    [Fact]
    public void Reads_a_file_and_names_it_by_its_file_name()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pilotage-{Guid.NewGuid():N}.jsonl");
        try
        {
            File.WriteAllText(path, """{"prompt":"hi","category":"normal","expect":{"contains":["hi"]}}""" + "\n");
            var result = TestSetReader.ReadFile(path);
            Assert.Empty(result.Errors);
            Assert.Equal(Path.GetFileNameWithoutExtension(path), result.Set!.Name);
            Assert.Equal(Path.GetFileName(path), result.Set.Source);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_an_error_not_an_exception()
    {
        var result = TestSetReader.ReadFile("/nonexistent/dir/set.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal("set.yaml", error.Source);
        Assert.StartsWith("file not found", error.Message, StringComparison.Ordinal);
        Assert.Null(result.Set);
    }

    [Fact]
    public void Text_over_5_MB_is_refused_unread()
    {
        var result = TestSetReader.Read(new string('a', (int)TestSetReader.MaxFileBytes + 1), "big.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Contains("at most 5 MB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Multibyte_text_just_over_5_MB_is_refused()
    {
        var text = new string('é', (int)(TestSetReader.MaxFileBytes / 2) + 1); // 2 bytes each in UTF-8
        Assert.Contains("at most 5 MB", Assert.Single(TestSetReader.Read(text, "big.jsonl").Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_byte_order_mark_is_ignored()
    {
        var result = TestSetReader.Read("\uFEFF" + """{"prompt":"hi","category":"normal","expect":{"contains":["hi"]}}""", "a.jsonl");
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        Assert.Contains("holds no test set", Assert.Single(TestSetReader.Read("", "a.yaml").Errors).Message, StringComparison.Ordinal);
        Assert.Contains("holds no case", Assert.Single(TestSetReader.Read("\n\n", "a.jsonl").Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_generated_set_reads_in_one_pass()
    {
        var lines = Enumerable.Range(0, 5000).Select(i =>
            $$$"""{"id":"c{{{i}}}","prompt":"question {{{i}}}","category":"{{{(i % 2 == 0 ? "normal" : "edge")}}}","expect":{"contains":["{{{i}}}"]}}""");
        var result = TestSetReader.Read(string.Join('\n', lines), "many.jsonl");
        Assert.Empty(result.Errors);
        Assert.Equal(5000, result.Set!.Cases.Count);
    }

    [Fact]
    public void Errors_render_with_file_path_and_position()
    {
        var error = new SpecError("a.jsonl", "expect.regex", "invalid regular expression", 3, 40);
        Assert.Equal("a.jsonl: expect.regex: invalid regular expression at line 3, column 40", error.ToString());
    }

    [Theory]
    [InlineData("request")]
    [InlineData("cases.jsonl")]
    public void A_lone_surrogate_escape_in_a_property_name_is_a_located_error(string source)
    {
        var result = TestSetReader.Read("{\"id\":\"a\",\"pro\\ud800mpt\":\"hi\"}", source);

        Assert.False(result.Ok);
        var error = Assert.Single(result.Errors);
        Assert.Equal(1, error.Line);
    }
}
