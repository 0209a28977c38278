using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using Json.Schema.Keywords;

namespace Pilotage.Core.TestSets;

/// <summary>
/// What an answer must satisfy. Every check that is set must pass (they combine with "and"); see
/// docs/testsets.md. Immutable: the regex and schema are compiled once, on first use, and shared by
/// every check, so one instance can be used from many threads.
/// </summary>
public sealed class Expectation
{
    /// <summary>Bounds a regex on one answer: a pattern that backtracks badly yields an Error verdict, not a hung evaluation.</summary>
    public static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Draft 2020-12 with <c>pattern</c> and <c>patternProperties</c> compiled with <see cref="RegexTimeout"/>:
    /// JsonSchema.Net compiles them without one, and a pattern such as <c>^(a+)+$</c> then takes seconds on a
    /// short answer. Immutable and stateless, so one instance serves every schema.
    /// </summary>
    private static readonly Dialect BoundedDialect =
        Dialect.Draft202012.Without([PatternKeyword.Instance]).With([new TimedPatternKeyword(), new TimedPatternPropertiesKeyword()]);

    private readonly Lazy<(Regex? Regex, string? Error)> compiledRegex;
    private readonly Lazy<(JsonSchema? Schema, string? Error)> compiledSchema;

    public Expectation()
    {
        // Lazily, because init properties are assigned after the constructor has run.
        compiledRegex = new Lazy<(Regex?, string?)>(() => Regex is null ? (null, null) : CompileRegex(Regex));
        compiledSchema = new Lazy<(JsonSchema?, string?)>(() => JsonSchema is null ? (null, null) : CompileSchema(JsonSchema));
    }

    /// <summary>Texts that must all appear in the answer (case-insensitive).</summary>
    public IReadOnlyList<string> Contains { get; init; } = [];

    /// <summary>Texts none of which may appear in the answer (case-insensitive).</summary>
    public IReadOnlyList<string> NotContains { get; init; } = [];

    /// <summary>A .NET regular expression the answer must match somewhere (case-sensitive unless it says <c>(?i)</c>).</summary>
    public string? Regex { get; init; }

    /// <summary>A JSON Schema (as JSON text) the answer, parsed as JSON, must be valid against. Draft 2020-12 unless it names another <c>$schema</c>.</summary>
    public string? JsonSchema { get; init; }

    /// <summary>True: the system must decline or escalate. False: it must answer (not decline). Null: not checked.</summary>
    public bool? Refuses { get; init; }

    /// <summary>A reviewer grades the answer later; the automatic verdict is at best <see cref="CaseVerdictKind.NeedsHuman"/>.</summary>
    public bool Human { get; init; }

    /// <summary>True when some check can be decided without a person.</summary>
    public bool HasAutomaticChecks => Contains.Count > 0 || NotContains.Count > 0 || Regex is not null || JsonSchema is not null || Refuses is not null;

    /// <summary>True when the checks need the answer's text (so a gateway refusal cannot satisfy them).</summary>
    internal bool NeedsAnswerText => Contains.Count > 0 || Regex is not null || JsonSchema is not null;

    internal (Regex? Regex, string? Error) CompiledRegex => compiledRegex.Value;

    internal (JsonSchema? Schema, string? Error) CompiledSchema => compiledSchema.Value;

    internal static (Regex? Regex, string? Error) CompileRegex(string pattern)
    {
        try
        {
            return (new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout), null);
        }
        catch (ArgumentException e)
        {
            return (null, e.Message);
        }
    }

    internal static (JsonSchema? Schema, string? Error) CompileSchema(string schemaJson)
    {
        try
        {
            using var document = JsonDocument.Parse(schemaJson);
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            {
                return (null, "a JSON Schema is a mapping (or true/false)");
            }
            if (FindKey(document.RootElement, "$schema"))
            {
                // $schema would switch to the library's own dialect, whose patterns have no timeout.
                return (null, "leave out $schema: test-set schemas are always JSON Schema draft 2020-12");
            }
            // A registry per schema: the global one would make two test sets that reuse an $id collide,
            // and it would keep every schema ever read alive. No Fetch is set, so a $ref never goes to the network.
            var options = new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = BoundedDialect };
            // The built schema keeps referring to the elements it was built from: give it a copy that
            // outlives the (pooled, disposed) document.
            var schema = Json.Schema.JsonSchema.Build(document.RootElement.Clone(), options);
            // A trial run surfaces most unresolvable $refs now, at read time, rather than on every answer.
            using var probe = JsonDocument.Parse("null");
            _ = schema.Evaluate(probe.RootElement);
            return (schema, null);
        }
        catch (JsonException e)
        {
            return (null, "not valid JSON: " + e.Message);
        }
        catch (RefResolutionException e) // before its base class, JsonSchemaException
        {
            return (null, e.Message + " (a $ref may only point inside the schema; nothing is downloaded)");
        }
        catch (JsonSchemaException e)
        {
            return (null, e.Message);
        }
        catch (RegexParseException e) // a bad 'pattern' or 'patternProperties' key, found by the fuzz tests
        {
            return (null, $"a pattern is not a valid regular expression ({e.Message})");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or NotSupportedException or OverflowException)
        {
            // The schema library validates keyword values by throwing these; any of them means the schema is wrong, not the server.
            return (null, e.Message);
        }
    }

    /// <summary>True when any object in <paramref name="root"/> has the key <paramref name="key"/>. Iterative: schemas can nest deeply.</summary>
    private static bool FindKey(JsonElement root, string key)
    {
        var pending = new Stack<JsonElement>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var element = pending.Pop();
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in element.EnumerateObject())
                {
                    if (property.NameEquals(key))
                    {
                        return true;
                    }
                    pending.Push(property.Value);
                }
            }
            else if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray())
                {
                    pending.Push(item);
                }
            }
        }
        return false;
    }

    private static Regex WithTimeout(Regex regex) => new(regex.ToString(), regex.Options, RegexTimeout);

    /// <summary><c>pattern</c> as the library reads it, recompiled with a match timeout.</summary>
    private sealed class TimedPatternKeyword : PatternKeyword
    {
        public override object? ValidateKeywordValue(JsonElement value) =>
            base.ValidateKeywordValue(value) is Regex regex ? WithTimeout(regex) : base.ValidateKeywordValue(value);
    }

    /// <summary><c>patternProperties</c> as the library reads it, each key recompiled with a match timeout.</summary>
    private sealed class TimedPatternPropertiesKeyword : PatternPropertiesKeyword
    {
        public override object? ValidateKeywordValue(JsonElement value) =>
            base.ValidateKeywordValue(value) is Dictionary<string, Regex> patterns
                ? patterns.ToDictionary(p => p.Key, p => WithTimeout(p.Value), StringComparer.Ordinal)
                : base.ValidateKeywordValue(value);
    }
}
