using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Pilotage.Core.Metrics;
using Pilotage.Core.Specs;

namespace Pilotage.Core.TestSets;

/// <summary>
/// Validates test-set nodes (from YAML or JSON Lines) and builds the model. Every check reports and
/// carries on, so one pass finds every problem; cases are built only while no error was seen.
/// </summary>
internal sealed partial class TestSetValidator(string source) : YamlFieldReader
{
    public const string ApiVersion = "pilotage/v1";
    public const string Kind = "TestSet";

    private static readonly ImmutableArray<string> RootKeys = ["apiVersion", "kind", "metadata", "spec"];
    private static readonly ImmutableArray<string> MetadataKeys = ["name", "title"];
    private static readonly ImmutableArray<string> SpecKeys = ["system", "cases"];
    private static readonly ImmutableArray<string> CaseKeys = ["id", "messages", "prompt", "category", "expect", "note"];
    private static readonly ImmutableArray<string> MessageKeys = ["role", "content"];
    private static readonly ImmutableArray<string> ExpectKeys = ["contains", "not_contains", "regex", "json_schema", "refuses", "human"];
    private static readonly ImmutableArray<string> Roles = ["system", "user", "assistant"];

    [GeneratedRegex("^[a-z][a-z0-9-]{1,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$", RegexOptions.CultureInvariant)]
    private static partial Regex CaseId();

    private readonly List<SpecError> errors = [];

    /// <summary>Explicit ids seen so far, with the line of their first use.</summary>
    private readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);

    /// <summary>Cases without an id: their 1-based position and node, to name them once every explicit id is known.</summary>
    private readonly List<(int Position, YNode Node)> unnamed = [];

    /// <summary>Every error reported, including those beyond <see cref="TestSetReader.MaxErrors"/>.</summary>
    public int Reported { get; private set; }

    public IReadOnlyList<SpecError> Errors => errors;

    public void Add(string path, string message, int line, int column)
    {
        Reported++;
        if (errors.Count < TestSetReader.MaxErrors)
        {
            errors.Add(new SpecError(source, path, message, line, column));
        }
        else if (errors.Count == TestSetReader.MaxErrors)
        {
            errors.Add(new SpecError(source, "", $"too many errors: only the first {TestSetReader.MaxErrors} are shown", 0, 0));
        }
    }

    protected override void Error(string path, string message, YNode node) => Add(path, message, node.Line, node.Column);

    /// <summary>Reads the YAML form; returns the name, system and the case nodes with their paths.</summary>
    public (string? Name, string? System, List<TestCase> Cases) ReadDocument(YNode root)
    {
        var cases = new List<TestCase>();
        if (MapOf(root, "", RootKeys) is not { } top)
        {
            return (null, null, cases);
        }
        if (RequiredText(top, "apiVersion") is { } apiVersion && apiVersion != ApiVersion)
        {
            Error("apiVersion", $"unsupported apiVersion '{apiVersion}': expected {ApiVersion}", top.Get("apiVersion")!);
        }
        if (RequiredText(top, "kind") is { } kind && kind != Kind)
        {
            var hint = kind == "AiSystem" ? " (this is a system spec: apply it with pilotage apply, not as a test set)" : "";
            Error("kind", $"unsupported kind '{kind}': expected {Kind}{hint}", top.Get("kind")!);
        }
        string? name = null;
        if (Required(top, "metadata") is { } metadataNode && MapOf(metadataNode, "metadata", MetadataKeys) is { } metadata)
        {
            name = RequiredText(metadata, "name");
            if (name is not null && !Slug().IsMatch(name))
            {
                Error("metadata.name", $"invalid name '{name}': use 2-63 lowercase letters, digits or hyphens, starting with a letter", metadata.Get("name")!);
                name = null;
            }
            _ = Text(metadata, "title");
        }
        string? system = null;
        if (Required(top, "spec") is { } specNode && MapOf(specNode, "spec", SpecKeys) is { } spec)
        {
            system = Text(spec, "system");
            if (system is not null && !Slug().IsMatch(system))
            {
                Error("spec.system", $"invalid system name '{system}': it is the metadata.name of an AiSystem spec (lowercase letters, digits, hyphens)", spec.Get("system")!);
            }
            if (Required(spec, "cases") is { } casesNode)
            {
                if (casesNode is not YSequence list)
                {
                    Error("spec.cases", $"expected a list of cases, found {casesNode.Describe()}", casesNode);
                }
                else if (list.Items.Count == 0)
                {
                    Error("spec.cases", "a test set needs at least one case", casesNode);
                }
                else
                {
                    for (var i = 0; i < list.Items.Count; i++)
                    {
                        if (ReadCase(list.Items[i], $"spec.cases[{i}]", i + 1) is { } testCase)
                        {
                            cases.Add(testCase);
                        }
                    }
                }
            }
        }
        return (name, system, cases);
    }

    /// <summary>Reads one case; <paramref name="position"/> is 1-based and names a case that has no id.</summary>
    public TestCase? ReadCase(YNode node, string path, int position)
    {
        var before = Reported;
        if (MapOf(node, path, CaseKeys) is not { } map)
        {
            return null;
        }
        var id = Text(map, "id");
        if (id is not null)
        {
            var idNode = map.Get("id")!;
            if (!CaseId().IsMatch(id))
            {
                Error(map.Child("id"), $"invalid id '{id}': use 1-100 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", idNode);
            }
            else if (!ids.TryAdd(id, idNode.Line))
            {
                Error(map.Child("id"), $"duplicate id '{id}' (first at line {ids[id]})", idNode);
            }
        }
        else
        {
            unnamed.Add((position, node));
        }

        var messages = ReadMessages(map);
        var category = ReadCategory(map);
        var expect = Required(map, "expect") is { } expectNode ? ReadExpectation(expectNode, map.Child("expect")) : null;
        var note = Text(map, "note");

        if (Reported != before || messages is null || category is null || expect is null)
        {
            return null;
        }
        return new TestCase(id ?? GeneratedId(position), messages, category.Value, expect, note, node.Line);
    }

    public static string GeneratedId(int position) => $"case-{position}";

    /// <summary>A generated id must not take an explicit one: report the clash on the case that lacks an id.</summary>
    public void CheckGeneratedIds(string casesPath)
    {
        foreach (var (position, node) in unnamed)
        {
            var generated = GeneratedId(position);
            if (ids.TryGetValue(generated, out var line))
            {
                Error(casesPath.Length == 0 ? "id" : $"{casesPath}[{position - 1}].id",
                    $"this case has no id, and the id it would get, '{generated}', is already used at line {line}: give it an id", node);
            }
        }
    }

    private List<CaseMessage>? ReadMessages(Map map)
    {
        var messagesNode = map.Get("messages");
        var promptNode = map.Get("prompt");
        if (messagesNode is not null && promptNode is not null)
        {
            Error(map.Child("prompt"), "use either 'messages' or 'prompt' (a single user message), not both", promptNode);
            return null;
        }
        if (promptNode is not null)
        {
            return TextOf(promptNode, map.Child("prompt"), required: true) is { } prompt ? [new CaseMessage("user", prompt)] : null;
        }
        if (messagesNode is null)
        {
            Error(map.Child("messages"), "missing required field 'messages' (or 'prompt' for a single user message)", map.Node);
            return null;
        }
        var path = map.Child("messages");
        if (messagesNode is not YSequence list)
        {
            Error(path, $"expected a list of chat messages ({{role, content}}), found {messagesNode.Describe()}", messagesNode);
            return null;
        }
        if (list.Items.Count == 0)
        {
            Error(path, "a case needs at least one message", messagesNode);
            return null;
        }
        var result = new List<CaseMessage>(list.Items.Count);
        var ok = true;
        for (var i = 0; i < list.Items.Count; i++)
        {
            var itemPath = $"{path}[{i}]";
            if (MapOf(list.Items[i], itemPath, MessageKeys) is not { } message)
            {
                ok = false;
                continue;
            }
            var role = RequiredText(message, "role");
            if (role is not null && !Roles.Contains(role))
            {
                var suggestion = EditDistance.Closest(role, Roles);
                Error(message.Child("role"),
                    $"invalid role '{role}': allowed roles are {string.Join(", ", Roles)}" + (suggestion is null ? "" : $" (did you mean {suggestion}?)"),
                    message.Get("role")!);
                role = null;
            }
            var content = RequiredText(message, "content");
            if (role is null || content is null)
            {
                ok = false;
                continue;
            }
            result.Add(new CaseMessage(role, content));
        }
        if (ok && result[^1].Role != "user")
        {
            Error($"{path}[{result.Count - 1}].role",
                $"the last message must be from the user (the system answers it), found '{result[^1].Role}'", list.Items[^1]);
            return null;
        }
        return ok ? result : null;
    }

    private CaseCategory? ReadCategory(Map map)
    {
        if (RequiredText(map, "category") is not { } text)
        {
            return null;
        }
        if (SpecEnum.TryParse<CaseCategory>(text, out var category))
        {
            return category;
        }
        var names = SpecEnum.Names<CaseCategory>();
        var suggestion = EditDistance.Closest(text.Replace('-', '_').Replace(' ', '_'), names);
        Error(map.Child("category"),
            $"invalid category '{text}': allowed categories are {string.Join(", ", names)}" + (suggestion is null ? "" : $" (did you mean {suggestion}?)"),
            map.Get("category")!);
        return null;
    }

    private Expectation? ReadExpectation(YNode node, string path)
    {
        var before = Reported;
        if (MapOf(node, path, ExpectKeys) is not { } map)
        {
            return null;
        }
        var contains = NonEmptyTextList(map, "contains");
        var notContains = NonEmptyTextList(map, "not_contains");
        var regex = Text(map, "regex");
        if (regex is not null)
        {
            if (regex.Length == 0)
            {
                Error(map.Child("regex"), "'regex' must not be empty", map.Get("regex")!);
            }
            else if (Expectation.CompileRegex(regex).Error is { } regexError)
            {
                Error(map.Child("regex"), $"invalid regular expression: {regexError}", map.Get("regex")!);
            }
        }
        string? schema = null;
        if (map.Get("json_schema") is { } schemaNode)
        {
            schema = ReadSchema(schemaNode, map.Child("json_schema"));
        }
        var refuses = Bool(map, "refuses");
        var human = Bool(map, "human");
        if (human == false)
        {
            Error(map.Child("human"), "'human: false' means nothing: leave it out, or write 'human: true' to have a reviewer grade the answer", map.Get("human")!);
        }
        if (Reported != before)
        {
            return null;
        }
        var expectation = new Expectation
        {
            Contains = contains,
            NotContains = notContains,
            Regex = regex,
            JsonSchema = schema,
            Refuses = refuses,
            Human = human == true,
        };
        if (!expectation.HasAutomaticChecks && !expectation.Human)
        {
            Error(path, $"'expect' needs at least one check: {string.Join(", ", ExpectKeys)}", node);
            return null;
        }
        return expectation;
    }

    private string? ReadSchema(YNode node, string path)
    {
        if (node is not (YMapping or YScalar { IsText: false, Value: "true" or "false" }))
        {
            Error(path, $"expected a JSON Schema (a mapping such as {{type: object, required: [total]}}), found {node.Describe()}", node);
            return null;
        }
        var (json, conversionError, at) = JsonTrees.ToJson(node);
        if (json is null)
        {
            Error(path, conversionError ?? "cannot be written as JSON", at ?? node);
            return null;
        }
        if (Expectation.CompileSchema(json).Error is { } schemaError)
        {
            Error(path, $"invalid JSON Schema: {schemaError}", node);
            return null;
        }
        return json;
    }

    /// <summary>A test-set check names a list item by its list: 'contains', not 'contains[0]'.</summary>
    protected override string FieldName(string path)
    {
        var last = base.FieldName(path);
        var bracket = last.IndexOf('[', StringComparison.Ordinal);
        return bracket < 0 ? last : last[..bracket];
    }

    /// <summary>The texts an expectation looks for: when given, a non-empty list.</summary>
    private List<string> NonEmptyTextList(Map map, string key)
    {
        if (map.Get(key) is not { } node)
        {
            return [];
        }
        var path = map.Child(key);
        if (node is not YSequence list)
        {
            var example = node is YScalar scalar ? $" (write [\"{scalar.Value}\"] for a single text)" : "";
            Error(path, $"expected a list of texts, found {node.Describe()}{example}", node);
            return [];
        }
        if (list.Items.Count == 0)
        {
            Error(path, $"'{key}' must list at least one text (or be left out)", node);
            return [];
        }
        return TextList(map, key);
    }
}
