using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.TestSets;

/// <summary>Every validation error kind, with its exact field path and position.</summary>
public class TestSetValidationTests
{
    private static string Header(string cases) => $"""
        apiVersion: pilotage/v1
        kind: TestSet
        metadata: {"{"} name: tt {"}"}
        spec:
          cases:
        {cases}
        """;

    private static SpecError SingleError(string text, string source = "t.yaml")
    {
        var result = TestSetReader.Read(text, source);
        Assert.Null(result.Set);
        return Assert.Single(result.Errors);
    }

    private static void AssertError(SpecError error, string path, int line, int column, string message)
    {
        Assert.Equal(path, error.Path);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_every_error_at_once_in_file_order()
    {
        var text = """
            apiVersion: pilotage/v2
            kind: TestSet
            metadata: { name: Bad_Name }
            spec:
              sytem: x
              cases:
                - prompt: hi
                  category: hard
                  expect: { contains: [hi] }
                - id: dup
                  prompt: a
                  category: edge
                  expect: { contain: [a] }
                - id: dup
                  messages: [ { role: bot, content: hi } ]
                  category: normal
                  expect: { regex: "(" }
            """;
        var result = TestSetReader.Read(text, "t.yaml");
        Assert.Null(result.Set);
        Assert.Equal(
        [
            "apiVersion@1:13",
            "metadata.name@3:19",
            "spec.sytem@5:3",
            "spec.cases[0].category@8:17",
            "spec.cases[1].expect.contain@13:17",
            "spec.cases[2].id@14:11",
            "spec.cases[2].messages[0].role@15:27",
            "spec.cases[2].expect.regex@17:24",
        ], result.Errors.Select(e => $"{e.Path}@{e.Line}:{e.Column}"));
        Assert.All(result.Errors, e => Assert.Equal("t.yaml", e.Source));
        Assert.True(result.Errors[2].Message.Contains("did you mean system?", StringComparison.Ordinal), string.Join("\n", result.Errors));
        Assert.Contains("did you mean contains?", result.Errors[4].Message, StringComparison.Ordinal);
        Assert.Contains("duplicate id 'dup' (first at line 10)", result.Errors[5].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_kind_names_the_mistake()
    {
        var text = Header("    - { prompt: a, category: normal, expect: { contains: [a] } }").Replace("kind: TestSet", "kind: AiSystem", StringComparison.Ordinal);
        AssertError(SingleError(text), "kind", 2, 7, "this is a system spec");
    }

    [Fact]
    public void Missing_top_level_fields()
    {
        var result = TestSetReader.Read("kind: TestSet\n", "t.yaml");
        Assert.Equal(["apiVersion", "metadata", "spec"], result.Errors.Select(e => e.Path));
        Assert.All(result.Errors, e => Assert.Equal((1, 1), (e.Line, e.Column)));
        Assert.All(result.Errors, e => Assert.StartsWith("missing required field", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_field_without_a_close_match_lists_the_allowed_ones()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { contains: [a] }, weight: 2 }")),
            "spec.cases[0].weight", 6, 65, "unknown field 'weight' (allowed here: id, messages, prompt, category, expect, note)");
    }

    [Fact]
    public void Unknown_category_suggests_the_right_spelling()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: missing-data, expect: { contains: [a] } }")),
            "spec.cases[0].category", 6, 30, "invalid category 'missing-data': allowed categories are normal, edge, unclear, missing_data, policy_boundary (did you mean missing_data?)");
    }

    [Fact]
    public void Category_and_expect_are_required()
    {
        var result = TestSetReader.Read(Header("    - { prompt: a }"), "t.yaml");
        Assert.Equal(["spec.cases[0].category", "spec.cases[0].expect"], result.Errors.Select(e => e.Path));
        Assert.All(result.Errors, e => Assert.Equal((6, 7), (e.Line, e.Column)));
    }

    [Fact]
    public void Messages_or_prompt_is_required_but_not_both()
    {
        AssertError(SingleError(Header("    - { category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages", 6, 7, "missing required field 'messages' (or 'prompt'");
        AssertError(SingleError(Header("    - { prompt: a, messages: [{role: user, content: b}], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].prompt", 6, 17, "use either 'messages' or 'prompt'");
    }

    [Fact]
    public void Messages_must_be_a_non_empty_list_ending_with_the_user()
    {
        AssertError(SingleError(Header("    - { messages: hi, category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages", 6, 19, "expected a list of chat messages");
        AssertError(SingleError(Header("    - { messages: [], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages", 6, 19, "at least one message");
        AssertError(SingleError(Header("    - { messages: [{role: user, content: a}, {role: assistant, content: b}], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages[1].role", 6, 46, "the last message must be from the user");
        AssertError(SingleError(Header("    - { messages: [{role: user, content: ''}], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages[0].content", 6, 42, "'content' must not be empty");
        AssertError(SingleError(Header("    - { messages: [{role: usr, content: a}], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages[0].role", 6, 27, "(did you mean user?)");
        AssertError(SingleError(Header("    - { messages: [{role: user, content: a, name: x}], category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].messages[0].name", 6, 45, "unknown field 'name'");
    }

    [Fact]
    public void Expect_needs_at_least_one_check()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: {} }")),
            "spec.cases[0].expect", 6, 46, "'expect' needs at least one check: contains, not_contains, regex, json_schema, refuses, human");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { human: false } }")),
            "spec.cases[0].expect.human", 6, 55, "'human: false' means nothing");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: yes }")),
            "spec.cases[0].expect", 6, 46, "expected a mapping");
    }

    [Fact]
    public void Contains_must_be_a_list_of_texts()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { contains: refund } }")),
            "spec.cases[0].expect.contains", 6, 58, "expected a list of texts, found 'refund' (write [\"refund\"] for a single text)");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { not_contains: [] } }")),
            "spec.cases[0].expect.not_contains", 6, 62, "must list at least one text");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { contains: [ok, [x]] } }")),
            "spec.cases[0].expect.contains[1]", 6, 63, "expected text, found a list");
    }

    [Fact]
    public void Refuses_and_human_are_booleans()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { refuses: yes } }")),
            "spec.cases[0].expect.refuses", 6, 57, "expected true or false, found 'yes'");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { human: 'true' } }")),
            "spec.cases[0].expect.human", 6, 55, "expected true or false, found the text \"true\"");
    }

    [Fact]
    public void Regex_must_compile()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { regex: '[a-' } }")),
            "spec.cases[0].expect.regex", 6, 55, "invalid regular expression");
    }

    [Fact]
    public void Json_schema_must_be_a_valid_schema()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { json_schema: { type: nope } } }")),
            "spec.cases[0].expect.json_schema", 6, 61, "invalid JSON Schema: 'nope' is not a valid JSON Schema value type");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { json_schema: object } }")),
            "spec.cases[0].expect.json_schema", 6, 61, "expected a JSON Schema");
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { json_schema: { $ref: 'https://example.org/s.json' } } }")),
            "spec.cases[0].expect.json_schema", 6, 61, "nothing is downloaded");
    }

    [Fact]
    public void Json_schema_keys_must_be_text()
    {
        AssertError(SingleError(Header("    - { prompt: a, category: normal, expect: { json_schema: { [x]: 1 } } }")),
            "spec.cases[0].expect.json_schema", 6, 63, "a JSON object key must be text");
    }

    [Fact]
    public void Ids_must_be_unique_valid_and_not_taken_by_a_generated_id()
    {
        AssertError(SingleError(Header("    - { id: 'has space', prompt: a, category: normal, expect: { contains: [a] } }")),
            "spec.cases[0].id", 6, 13, "invalid id 'has space'");
        var text = Header("""
                - { prompt: a, category: normal, expect: { contains: [a] } }
                - { id: case-1, prompt: b, category: normal, expect: { contains: [b] } }
            """);
        AssertError(SingleError(text), "spec.cases[0].id", 6, 7, "the id it would get, 'case-1', is already used at line 7");
    }

    [Fact]
    public void Duplicate_keys_are_reported_with_the_first_line()
    {
        var text = Header("""
                - prompt: a
                  category: normal
                  category: edge
                  expect: { contains: [a] }
            """);
        AssertError(SingleError(text), "spec.cases[0].category", 8, 7, "duplicate key 'category' (first at line 7)");
    }

    [Fact]
    public void Cases_must_be_a_non_empty_list()
    {
        AssertError(SingleError("apiVersion: pilotage/v1\nkind: TestSet\nmetadata: { name: tt }\nspec: { cases: [] }\n"),
            "spec.cases", 4, 16, "at least one case");
        AssertError(SingleError("apiVersion: pilotage/v1\nkind: TestSet\nmetadata: { name: tt }\nspec: { cases: {a: 1} }\n"),
            "spec.cases", 4, 16, "expected a list of cases");
    }

    [Fact]
    public void Only_one_document_per_file()
    {
        var text = Header("    - { prompt: a, category: normal, expect: { contains: [a] } }") + "\n---\nkind: TestSet\n";
        AssertError(SingleError(text), "", 7, 1, "holds one document");
    }

    [Fact]
    public void Malformed_yaml_is_located()
    {
        AssertError(SingleError("apiVersion: pilotage/v1\nspec: { cases: [\n"), "", 3, 1, "malformed YAML");
    }

    [Fact]
    public void Json_lines_errors_give_the_line_column_and_a_path_inside_the_case()
    {
        var text = string.Join('\n',
            """{"prompt":"a","category":"normal","expect":{"contains":["a"]}}""",
            """{"prompt":"b","category":"Edge","expect":{"contains":["b"]}}""",
            """{"prompt":"c","category":"edge","expect":{"regex":"(","human":true}}""",
            """{"prompt":"d","category":"edge","expect":{"contains":["d"]},"wieght":1}""",
            """["not","an","object"]""",
            """{"prompt":"e","category":"edge",}""",
            """{"id":"x","prompt":"f","category":"unclear","expect":{"human":true}}""",
            """{"id":"x","prompt":"g","category":"unclear","expect":{"human":true}}""",
            """{"prompt":"ü","category":"edge","expect":{"contains":"ü"}}""");
        var result = TestSetReader.Read(text, "cases.jsonl");
        Assert.Null(result.Set);
        Assert.Equal(
        [
            "category@2:26",
            "expect.regex@3:51",
            "wieght@4:61",
            "@5:1",
            "@6:33",
            "id@8:7",
            "expect.contains@9:54",
        ], result.Errors.Select(e => $"{e.Path}@{e.Line}:{e.Column}"));
        Assert.True(result.Errors[0].Message.Contains("(did you mean edge?)", StringComparison.Ordinal), string.Join("\n", result.Errors));
        Assert.Contains("unknown field 'wieght' (allowed here: id, messages, prompt, category, expect, note)", result.Errors[2].Message, StringComparison.Ordinal);
        Assert.Equal("each line must be one JSON object (a case), found a list", result.Errors[3].Message);
        Assert.StartsWith("malformed JSON", result.Errors[4].Message, StringComparison.Ordinal);
        Assert.Contains("duplicate id 'x' (first at line 7)", result.Errors[5].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_lines_duplicate_keys_are_errors()
    {
        var error = SingleError("""{"prompt":"a","prompt":"b","category":"edge","expect":{"contains":["a"]}}""", "c.jsonl");
        AssertError(error, "prompt", 1, 15, "duplicate key 'prompt'");
    }

    [Fact]
    public void Json_lines_quoted_booleans_are_text()
    {
        AssertError(SingleError("""{"prompt":"a","category":"edge","expect":{"refuses":"true"}}""", "c.jsonl"),
            "expect.refuses", 1, 53, "expected true or false, found the text \"true\"");
    }

    [Fact]
    public void Too_many_errors_are_capped()
    {
        var lines = Enumerable.Range(0, 500).Select(_ => """{"prompt":"a","category":"bogus","expect":{"contains":["a"]}}""");
        var result = TestSetReader.Read(string.Join('\n', lines), "c.jsonl");
        Assert.Equal(TestSetReader.MaxErrors + 1, result.Errors.Count);
        Assert.StartsWith("too many errors", result.Errors[^1].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("t.yaml")]
    [InlineData("t.jsonl")]
    public void Hostile_input_never_throws(string source)
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);
        var deepObject = string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000);
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                   + "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        string[] inputs =
        [
            deep, deepObject, bomb, "\0\u0001\u0002", "{", "}", "\"", "- - - -", ": :", "[1, 2", "\ud800", "*x", "!!binary AAAA",
            "{\"prompt\":\"a\",\"category\":\"edge\",\"expect\":{\"json_schema\":" + deepObject + "}}",
            Header("    - { prompt: a, category: normal, expect: { json_schema: *x } }"),
            "apiVersion: pilotage/v1\nkind: TestSet\nmetadata: { name: tt }\nspec: { cases: [ { prompt: a, category: normal, expect: { json_schema: {type: string, pattern: '(a+)+$'} } } ] }",
        ];
        foreach (var input in inputs)
        {
            var result = TestSetReader.Read(input, source);
            Assert.True(result.Set is not null || result.Errors.Count > 0, input.Length > 40 ? input[..40] : input);
        }
    }
}
