using System.Text;
using System.Text.Json;
using Pilotage.Core.Specs;

namespace Pilotage.Core.TestSets;

/// <summary>The two file formats of a test set (docs/testsets.md).</summary>
public enum TestSetFormat
{
    /// <summary>An <c>apiVersion: pilotage/v1, kind: TestSet</c> document.</summary>
    Yaml,

    /// <summary>One case object per line.</summary>
    JsonLines,
}

/// <summary>
/// Reads test sets from YAML or JSON Lines. Like <see cref="SpecReader"/> it never throws on bad input:
/// every problem becomes a <see cref="SpecError"/> with its field path and position (line and column in
/// both formats), all of them in one pass, and the set is returned only when there is none.
/// </summary>
public static class TestSetReader
{
    /// <summary>Larger input is refused unread: it bounds parser work, and thousands of cases fit well below it.</summary>
    public const long MaxFileBytes = 5 * 1024 * 1024;

    /// <summary>Beyond this many errors a file is clearly not a test set; more would only be noise.</summary>
    public const int MaxErrors = 200;

    /// <summary>Reads a test set from text.</summary>
    /// <param name="text">YAML or JSON Lines.</param>
    /// <param name="source">What errors name as their source. Its extension chooses the format
    /// (<c>.jsonl</c>/<c>.ndjson</c>: JSON Lines; <c>.yaml</c>/<c>.yml</c>: YAML); otherwise the content does.</param>
    public static TestSetReadResult Read(string text, string source)
    {
        text ??= "";
        source ??= "";
        var validator = new TestSetValidator(source);
        // Length first: a char is at least one UTF-8 byte, so huge text is refused without a full scan.
        var bytes = text.Length > MaxFileBytes ? text.Length : Encoding.UTF8.GetByteCount(text);
        if (bytes > MaxFileBytes)
        {
            validator.Add("", TooLarge(bytes), 0, 0);
            return new TestSetReadResult(null, validator.Errors);
        }
        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..]; // a byte-order mark left by an editor is not content
        }
        var set = DetectFormat(text, source) == TestSetFormat.JsonLines
            ? ReadJsonLines(text, source, validator)
            : ReadYaml(text, source, validator);
        return validator.Errors.Count == 0 && set is not null
            ? new TestSetReadResult(set, [])
            : new TestSetReadResult(null, Sorted(validator.Errors));
    }

    /// <summary>Reads one file; errors name the file by its name (not its full path).</summary>
    public static TestSetReadResult ReadFile(string path)
    {
        path ??= "";
        var source = InputFile.SourceName(path);
        TestSetReadResult? result = null;
        var problem = InputFile.Read(path, MaxFileBytes, TooLarge, text => result = Read(text, source));
        return problem is null ? result! : Failure(source, problem);
    }

    /// <summary>
    /// The format of <paramref name="text"/>: by the extension of <paramref name="source"/> when it is a
    /// known one, otherwise JSON Lines when the first non-blank line is a complete JSON object that is not
    /// itself a whole <c>TestSet</c> document (JSON is also YAML), and YAML in every other case.
    /// </summary>
    public static TestSetFormat DetectFormat(string text, string source)
    {
        var extension = Path.GetExtension(source ?? "").ToLowerInvariant();
        if (extension is ".jsonl" or ".ndjson")
        {
            return TestSetFormat.JsonLines;
        }
        if (extension is ".yaml" or ".yml")
        {
            return TestSetFormat.Yaml;
        }
        foreach (var rawLine in (text ?? "").AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty)
            {
                continue;
            }
            if (line[0] != '{')
            {
                return TestSetFormat.Yaml;
            }
            try
            {
                using var document = JsonDocument.Parse(line.ToString(), new JsonDocumentOptions { MaxDepth = JsonTrees.MaxDepth });
                return document.RootElement.TryGetProperty("apiVersion", out _) ? TestSetFormat.Yaml : TestSetFormat.JsonLines;
            }
            catch (JsonException)
            {
                return TestSetFormat.Yaml; // e.g. a YAML flow mapping such as {apiVersion: pilotage/v1, …}
            }
            catch (InvalidOperationException)
            {
                // A property name with a lone surrogate escape (\ud800) parses but cannot be compared;
                // the JSON Lines reader reports it with its line and column.
                return TestSetFormat.JsonLines;
            }
        }
        return TestSetFormat.Yaml;
    }

    private static TestSet? ReadYaml(string text, string source, TestSetValidator validator)
    {
        var (documents, loadError) = YamlTreeLoader.Load(text);
        if (loadError is not null)
        {
            validator.Add("", loadError.Message, loadError.Line, loadError.Column);
            return null;
        }
        var roots = documents.Where(d => d.Root is not null).ToList();
        if (roots.Count == 0)
        {
            validator.Add("", "the file holds no test set: expected an apiVersion: pilotage/v1, kind: TestSet document, or JSON Lines (one case per line)", 0, 0);
            return null;
        }
        if (roots.Count > 1)
        {
            validator.Add("", "a test set file holds one document; put each further set in its own file", roots[1].Line, roots[1].Column);
        }
        var (name, system, cases) = validator.ReadDocument(roots[0].Root!);
        validator.CheckGeneratedIds("spec.cases");
        return validator.Errors.Count == 0 && name is not null ? new TestSet(name, system, cases, source) : null;
    }

    private static TestSet? ReadJsonLines(string text, string source, TestSetValidator validator)
    {
        var cases = new List<TestCase>();
        var lineNumber = 0;
        var position = 0;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            if (rawLine.IsWhiteSpace())
            {
                continue; // blank lines (a trailing newline, a separator) are allowed
            }
            position++;
            if (validator.Reported > MaxErrors)
            {
                break;
            }
            var (root, error) = JsonTrees.ParseLine(rawLine.ToString(), lineNumber);
            if (error is not null)
            {
                validator.Add("", error.Message, error.Line, error.Column);
                continue;
            }
            if (root is not YMapping)
            {
                validator.Add("", $"each line must be one JSON object (a case), found {root!.Describe()}", root.Line, root.Column);
                continue;
            }
            if (validator.ReadCase(root, "", position) is { } testCase)
            {
                cases.Add(testCase);
            }
        }
        if (position == 0)
        {
            validator.Add("", "the file holds no case: write one JSON object per line", 0, 0);
            return null;
        }
        validator.CheckGeneratedIds("");
        var name = Path.GetFileNameWithoutExtension(source);
        return validator.Errors.Count == 0 ? new TestSet(string.IsNullOrEmpty(name) ? "test-set" : name, null, cases, source) : null;
    }

    private static TestSetReadResult Failure(string source, string message) =>
        new(null, [new SpecError(source, "", message, 0, 0)]);

    /// <summary>Validation visits fields in schema order; people read a file top to bottom.</summary>
    private static SpecError[] Sorted(IReadOnlyList<SpecError> errors) =>
        errors.Where(e => e.Line > 0).OrderBy(e => e.Line).ThenBy(e => e.Column)
            .Concat(errors.Where(e => e.Line <= 0))
            .ToArray();

    private static string TooLarge(long bytes) =>
        $"file is {InputFile.Megabytes(bytes)}; a test set file may be at most 5 MB: split it into several sets";
}
