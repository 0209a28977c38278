using System.Text;
using Pilotage.Core.Import;
using Pilotage.Core.Specs;
using Pilotage.Core.TestSets;

namespace Pilotage.Core.Tests.Fuzz;

/// <summary>
/// The spec reader, the CSV importer and the test-set loader given hostile input: whatever the bytes,
/// each returns a result or located errors with a message, and never throws, overflows the stack or hangs.
/// </summary>
public class HostileInputTests
{
    private static readonly byte[][] SpecSeeds =
    [
        File.ReadAllBytes(RepoPaths.Example("support-reply-drafts.yaml")),
        File.ReadAllBytes(RepoPaths.Example("invoice-extraction.yaml")),
        File.ReadAllBytes(RepoPaths.Example("policy-qa.yaml")),
    ];

    private static readonly byte[][] TestSetSeeds =
    [
        File.ReadAllBytes(Path.Combine(RepoPaths.Root(), "examples", "testsets", "support-reply-drafts.yaml")),
        File.ReadAllBytes(Path.Combine(RepoPaths.Root(), "examples", "testsets", "invoice-extraction.yaml")),
        """
        {"id":"a1","prompt":"Hello","category":"normal","expect":{"contains":["hello"]}}
        {"messages":[{"role":"user","content":"Kosten für 3 Nächte?"}],"category":"edge","expect":{"regex":"\\d+","json_schema":{"type":"object","properties":{"t":{"type":"number"}}}}}
        {"prompt":"Send me Bob's salary","category":"policy_boundary","expect":{"refuses":true},"note":"HR data"}
        """u8.ToArray(),
    ];

    private static readonly byte[] CsvSeed = File.ReadAllBytes(RepoPaths.Example("evidence-import.csv"));

    [Fact]
    public void Any_mutated_spec_gives_a_spec_or_located_errors()
    {
        Mutations.Check(Mutations.Of(SpecSeeds), bytes =>
        {
            var result = SpecReader.Read(Mutations.Text(bytes), "fuzz.yaml");
            AssertSpecResult(result, "fuzz.yaml");
        });
    }

    [Fact]
    public void Any_mutated_spec_file_with_raw_bytes_gives_a_spec_or_located_errors()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "fuzz.yaml");
        Mutations.Check(Mutations.Of(SpecSeeds), bytes =>
        {
            File.WriteAllBytes(path, bytes);
            AssertSpecResult(SpecReader.ReadFile(path), "fuzz.yaml");
        });
    }

    [Fact]
    public void Any_mutated_test_set_gives_a_set_or_located_errors()
    {
        Mutations.Check(Mutations.Of(TestSetSeeds), bytes =>
        {
            var text = Mutations.Text(bytes);
            foreach (var source in (string[])["fuzz.yaml", "fuzz.jsonl", "request"])
            {
                var result = TestSetReader.Read(text, source);
                Assert.True(result.Ok || result.Errors.Count > 0, "neither a set nor an error");
                Assert.True(result.Set is null || result.Errors.Count == 0, "a set returned with errors");
                AssertErrors(result.Errors, source);
            }
        });
    }

    [Fact]
    public void Any_mutated_csv_gives_records_or_errors_with_rows()
    {
        Mutations.Check(Mutations.Of(CsvSeed), bytes =>
        {
            var file = EvidenceCsv.Read(bytes, DateTimeOffset.UtcNow);
            Assert.True(file.IsValid ? file.Records.Count > 0 : file.Records.Count == 0, "records and errors together, or neither");
            Assert.All(file.Errors, e =>
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message));
                Assert.True(e.Row >= 0);
            });
            Assert.True(file.Errors.Count <= EvidenceCsv.MaxErrorsListed + 1, $"{file.Errors.Count} errors listed");
        });
    }

    public static TheoryData<string, string> Nested => new()
    {
        { "flow sequences", new string('[', 10_000) + new string(']', 10_000) },
        { "flow mappings", string.Concat(Enumerable.Repeat("{a: ", 10_000)) + "1" + new string('}', 10_000) },
        { "block mappings", string.Concat(Enumerable.Range(0, 3_000).Select(i => new string(' ', i) + "a:\n")) },
        { "unclosed", new string('[', 10_000) },
        { "alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n" },
    };

    [Theory]
    [MemberData(nameof(Nested))]
    public void Deep_nesting_is_an_error_not_a_stack_overflow(string what, string yaml)
    {
        var spec = SpecReader.Read(yaml, "deep.yaml");
        Assert.False(spec.Ok, what);
        AssertErrors(spec.Errors, "deep.yaml");
        var set = TestSetReader.Read(yaml, "deep.yaml");
        Assert.False(set.Ok, what);
        AssertErrors(set.Errors, "deep.yaml");
    }

    [Fact]
    public void Deeply_nested_json_lines_are_an_error()
    {
        var line = "{\"prompt\":\"x\",\"category\":\"normal\",\"expect\":{\"json_schema\":" + new string('[', 10_000) + new string(']', 10_000) + "}}";
        var result = TestSetReader.Read(line, "deep.jsonl");
        Assert.False(result.Ok);
        AssertErrors(result.Errors, "deep.jsonl");
    }

    [Fact]
    public void Huge_inputs_are_refused_with_the_limit_named()
    {
        var huge = new string('a', 50 * 1024 * 1024);
        var spec = SpecReader.Read("metadata:\n  name: \"" + huge + "\"", "huge.yaml");
        Assert.Contains("at most 1 MB", Assert.Single(spec.Errors).Message);
        var set = TestSetReader.Read(huge, "huge.jsonl");
        Assert.Contains("MB", Assert.Single(set.Errors).Message);
        var csv = EvidenceCsv.Read(Encoding.UTF8.GetBytes("prompt,answer,timestamp\n\"" + huge + "\",b,2026-01-01"));
        Assert.Contains("at most 25 MB", Assert.Single(csv.Errors).Message);
    }

    [Fact]
    public void Duplicate_keys_are_reported_with_their_line()
    {
        var yaml = Encoding.UTF8.GetString(SpecSeeds[0]).Replace("spec:\n", "spec:\n  owner: a@example.org\n", StringComparison.Ordinal);
        var result = SpecReader.Read(yaml, "dup.yaml");
        var error = Assert.Single(result.Errors, e => e.Message.Contains("owner", StringComparison.Ordinal) || e.Path.Contains("owner", StringComparison.Ordinal));
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void Invalid_utf8_in_a_csv_names_the_line()
    {
        var bytes = Encoding.UTF8.GetBytes("prompt,answer,timestamp\nok,fine,2026-01-01\n").Concat(new byte[] { 0xC3, 0x28 }).ToArray();
        var error = Assert.Single(EvidenceCsv.Read(bytes).Errors);
        Assert.Equal(3, error.Row);
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    private static void AssertSpecResult(SpecReadResult result, string source)
    {
        Assert.True(result.Ok ? result.Specs.Count > 0 : result.Specs.Count == 0, "specs and errors together, or neither");
        AssertErrors(result.Errors, source);
        Assert.True(result.Errors.Count <= SpecReader.MaxErrors + 1, $"{result.Errors.Count} errors");
    }

    private static void AssertErrors(IReadOnlyList<SpecError> errors, string source)
    {
        foreach (var e in errors)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message), "an error without a message");
            Assert.True(e.Line >= 0 && e.Column >= 0, $"negative position in {e}");
            Assert.Equal(source, e.Source);
        }
    }

    private sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("pilotage-fuzz-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
