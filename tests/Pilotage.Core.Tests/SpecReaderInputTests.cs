using System.Text;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests;

/// <summary>Multi-document and folder input, size limits, malformed and hostile YAML.</summary>
public class SpecReaderInputTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("pilotage-spec-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static string Named(string name) => SpecYaml.Minimal.Replace("demo-system", name, StringComparison.Ordinal);

    [Fact]
    public void Several_documents_in_one_text_give_several_specs()
    {
        var result = SpecReader.Read(Named("first") + "---\n" + Named("second") + "---\n", "two.yaml");
        Assert.Empty(result.Errors);
        Assert.Equal(["first", "second"], result.Specs.Select(s => s.Name));
    }

    [Fact]
    public void Empty_documents_are_skipped()
    {
        var result = SpecReader.Read("---\n# nothing here\n---\n" + Named("only") + "---\n---\n", "gaps.yaml");
        Assert.Empty(result.Errors);
        Assert.Equal("only", Assert.Single(result.Specs).Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# just a comment\n")]
    [InlineData("---\n---\n")]
    public void A_text_without_documents_is_an_error(string text)
    {
        var error = Assert.Single(SpecReader.Read(text, "empty.yaml").Errors);
        Assert.Equal(("empty.yaml", ""), (error.Source, error.Path));
        Assert.Contains("the file holds no YAML document", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_system_names_across_documents_are_reported_at_the_second()
    {
        var result = SpecReader.Read(Named("same") + "---\n" + Named("same"), "dup.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(("metadata.name", 15, 9), (error.Path, error.Line, error.Column));
        Assert.Equal("duplicate system name 'same': already defined in dup.yaml at line 4", error.Message);
    }

    [Fact]
    public void Errors_in_several_documents_are_all_reported_with_their_own_lines()
    {
        var result = SpecReader.Read(SpecYaml.With("  risk: severe") + "---\n" + Named("other").Replace("dana@example.org", "dana", StringComparison.Ordinal), "two.yaml");
        Assert.Equal([("spec.risk", 11), ("spec.owner", 18)], result.Errors.Select(e => (e.Path, e.Line)));
    }

    [Fact]
    public void A_folder_reads_every_yaml_file_in_name_order_but_not_sub_folders()
    {
        File.WriteAllText(Path.Combine(folder, "b.yml"), Named("bravo"));
        File.WriteAllText(Path.Combine(folder, "a.yaml"), Named("alpha"));
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "not a spec");
        Directory.CreateDirectory(Path.Combine(folder, "sub"));
        File.WriteAllText(Path.Combine(folder, "sub", "c.yaml"), "broken: [");

        var result = SpecReader.ReadPath(folder);
        Assert.Empty(result.Errors);
        Assert.Equal(["alpha", "bravo"], result.Specs.Select(s => s.Name));
    }

    [Fact]
    public void Duplicate_names_across_files_name_the_first_file()
    {
        File.WriteAllText(Path.Combine(folder, "a.yaml"), Named("same"));
        File.WriteAllText(Path.Combine(folder, "b.yaml"), Named("same"));
        var error = Assert.Single(SpecReader.ReadPath(folder).Errors);
        Assert.Equal(("b.yaml", "metadata.name", 4), (error.Source, error.Path, error.Line));
        Assert.Contains("already defined in a.yaml at line 4", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_folder_is_an_error() =>
        Assert.Contains("no .yaml or .yml file", Assert.Single(SpecReader.ReadPath(folder).Errors).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadPath_of_a_file_and_ReadFile_use_the_file_name_as_source()
    {
        var path = Path.Combine(folder, "one.yaml");
        File.WriteAllText(path, SpecYaml.With("  risk: severe"));
        Assert.Equal("one.yaml", Assert.Single(SpecReader.ReadPath(path).Errors).Source);
        Assert.Equal("one.yaml", Assert.Single(SpecReader.ReadFile(path).Errors).Source);
    }

    [Fact]
    public void A_missing_file_is_an_error_not_an_exception()
    {
        var error = Assert.Single(SpecReader.ReadPath(Path.Combine(folder, "nope.yaml")).Errors);
        Assert.Contains("file not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_10_MB_text_is_refused_unparsed()
    {
        var text = new string('#', 10 * 1024 * 1024);
        var error = Assert.Single(SpecReader.Read(text, "big.yaml").Errors);
        Assert.Equal(new SpecError("big.yaml", "", "file is 10.0 MB; a spec file may be at most 1 MB: split it into one file per system", 0, 0), error);
    }

    [Fact]
    public void A_10_MB_file_is_refused_without_reading_it()
    {
        var path = Path.Combine(folder, "big.yaml");
        using (var stream = File.Create(path))
        {
            stream.SetLength(10 * 1024 * 1024);
        }
        var error = Assert.Single(SpecReader.ReadFile(path).Errors);
        Assert.Equal("file is 10.0 MB; a spec file may be at most 1 MB: split it into one file per system", error.Message);
    }

    [Fact]
    public void Multi_byte_text_is_measured_in_bytes()
    {
        // 600 000 characters of 2 UTF-8 bytes each: under the limit in characters, over it in bytes.
        var text = "# " + new string('é', 600_000);
        Assert.Contains("file is 1.1 MB", Assert.Single(SpecReader.Read(text, "x.yaml").Errors).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apiVersion: pilotage/v1\nkind: AiSystem\n  bad: indent\n", 3, 6, "malformed YAML: ")]
    [InlineData("metadata: {name: x\n", 2, 1, "malformed YAML: ")]
    [InlineData("purpose: \"unterminated\n", 1, 10, "malformed YAML: ")]
    [InlineData("spec:\n\t- tab\n", 1, 1, "malformed YAML: While scanning a mapping, found invalid tab as indentation")]
    [InlineData("criteria: [1, 2\nnext: 3\n", 1, 11, "malformed YAML: the text ends inside an unclosed '[' or '{'")]
    public void Malformed_yaml_is_one_error_with_its_position(string text, int line, int column, string fragment)
    {
        var error = Assert.Single(SpecReader.Read(text, "bad.yaml").Errors);
        Assert.Equal("", error.Path);
        Assert.StartsWith(fragment, error.Message, StringComparison.Ordinal);
        Assert.Equal((line, column), (error.Line, error.Column));
    }

    [Fact]
    public void Deep_nesting_is_refused_without_overflowing_the_stack()
    {
        var error = Assert.Single(SpecReader.Read(new string('[', 200_000), "deep.yaml").Errors);
        Assert.Contains("nesting is deeper than 64 levels", error.Message, StringComparison.Ordinal);
        Assert.Equal((1, 65), (error.Line, error.Column));
    }

    [Fact]
    public void Deep_block_nesting_is_refused_too()
    {
        var text = string.Concat(Enumerable.Repeat("- ", 100_000)) + "x\n";
        Assert.Contains("nesting is deeper", Assert.Single(SpecReader.Read(text, "deep.yaml").Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_alias_bomb_is_refused_quickly()
    {
        var text = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 12; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }
        var error = Assert.Single(SpecReader.Read(text.ToString(), "bomb.yaml").Errors);
        Assert.Contains("expands to more than 1000000 nodes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aliases_within_bounds_are_resolved()
    {
        var yaml = SpecYaml.With("  pilot:\n    group: &g support-pilot\n    ends: 2026-12-31\n  rollout:\n    - { name: a, groups: [*g] }");
        var result = SpecReader.Read(yaml, "alias.yaml");
        Assert.Empty(result.Errors);
        Assert.Equal(["support-pilot"], Assert.Single(result.Specs).Rollout[0].Groups);
    }

    [Fact]
    public void An_undefined_alias_is_an_error()
    {
        var error = Assert.Single(SpecReader.Read("a: *nowhere\n", "alias.yaml").Errors);
        Assert.Equal((1, 4), (error.Line, error.Column));
        Assert.Contains("alias *nowhere refers to no anchor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_complex_key_is_an_error_not_an_exception()
    {
        var result = SpecReader.Read(SpecYaml.With("  ? [a, b]\n  : c"), "key.yaml");
        var error = Assert.Single(result.Errors);
        Assert.Equal(("spec", 11, 5), (error.Path, error.Line, error.Column));
        Assert.Contains("a key must be a plain name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Thousands_of_problems_are_capped()
    {
        var yaml = SpecYaml.With("  review:\n    reviewers: [" + string.Join(", ", Enumerable.Repeat("[x]", 5000)) + "]");
        var result = SpecReader.Read(yaml, "many.yaml");
        Assert.Equal(SpecReader.MaxErrors + 1, result.Errors.Count);
        Assert.Contains("too many errors", result.Errors[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_prefix_of_a_real_spec_reads_without_throwing()
    {
        var text = File.ReadAllText(RepoPaths.Example("support-reply-drafts.yaml"));
        for (var length = 0; length <= text.Length; length += 3)
        {
            var result = SpecReader.Read(text[..length], "prefix.yaml");
            Assert.True(result.Ok || result.Errors.Count > 0);
        }
    }

    [Theory]
    [InlineData("\0\u0001\u0002")]
    [InlineData("{{{{}}}}")]
    [InlineData("%YAML 9.9\n---\na: 1")]
    [InlineData("!!binary AAAA")]
    [InlineData("&a [*a]")]
    [InlineData("? ? ? ?")]
    [InlineData("- &x\n- *x\n")]
    [InlineData("spec: !!map {owner: 1}\n")]
    public void Hostile_input_gives_errors_not_exceptions(string text)
    {
        var result = SpecReader.Read(text, "hostile.yaml");
        Assert.NotEmpty(result.Errors);
        Assert.Empty(result.Specs);
    }
}
