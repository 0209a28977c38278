using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using Pilotage.Core.Metrics;

namespace Pilotage.Core.Specs;

/// <summary>
/// Field readers shared by the spec and test-set validators. Each one reports its own problem through
/// <see cref="Error"/> (with the field path and the node's line and column) and returns null, so reading
/// carries on and one pass finds every problem.
/// </summary>
internal abstract partial class YamlFieldReader
{
    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Number();

    [GeneratedRegex("^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex WholeNumber();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", RegexOptions.CultureInvariant)]
    private static partial Regex IsoDate();

    /// <summary>A mapping whose keys were checked; <see cref="Get"/> returns the value node of a known key.</summary>
    protected sealed class Map(string path, YMapping node)
    {
        public string Path { get; } = path;
        public YMapping Node { get; } = node;
        public Dictionary<string, YNode> Values { get; } = new(StringComparer.Ordinal);

        public string Child(string key) => Path.Length == 0 ? key : Path + "." + key;

        /// <summary>The value of <paramref name="key"/>, or null when absent or written as null.</summary>
        public YNode? Get(string key) =>
            Values.TryGetValue(key, out var value) && value is not YScalar { IsNull: true } ? value : null;
    }

    /// <summary>Reports one problem at <paramref name="node"/>.</summary>
    protected abstract void Error(string path, string message, YNode node);

    /// <summary>How "must not be empty" names the field at <paramref name="path"/>: its last dotted segment.</summary>
    protected virtual string FieldName(string path)
    {
        var dot = path.LastIndexOf('.');
        return dot < 0 ? path : path[(dot + 1)..];
    }

    /// <summary>Field names people use for a literal credential: refused with the way to reference one instead.</summary>
    private static bool LooksLikeSecretField(string key)
    {
        var plain = key.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        return plain is "apikey" or "key" or "token" or "secret" or "password" or "authorization" or "bearer" or "accesstoken" or "secretkey" or "clientsecret";
    }

    /// <summary>Checks a mapping's keys (plain, unique, allowed here, with a did-you-mean for typos).</summary>
    protected Map? MapOf(YNode node, string path, ImmutableArray<string> allowed)
    {
        if (node is not YMapping mapping)
        {
            Error(path, $"expected a mapping (key: value pairs), found {node.Describe()}", node);
            return null;
        }
        var map = new Map(path, mapping);
        var keys = new Dictionary<string, YNode>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Pairs)
        {
            if (keyNode is not YScalar { IsNull: false } scalarKey)
            {
                Error(path, $"a key must be a plain name, found {keyNode.Describe()}", keyNode);
                continue;
            }
            var key = scalarKey.Value;
            var childPath = map.Child(key);
            if (!keys.TryAdd(key, keyNode))
            {
                Error(childPath, $"duplicate key '{key}' (first at line {keys[key].Line})", keyNode);
            }
            else if (allowed.Contains(key))
            {
                map.Values[key] = value;
            }
            else if (LooksLikeSecretField(key))
            {
                Error(childPath,
                    $"unknown field '{key}': a spec never holds a secret (it is stored, versioned and shown in diffs and the audit trail); "
                    + "put the key in an environment variable of the server and name that variable with upstream.apiKeyEnv, e.g. apiKeyEnv: OPENAI_API_KEY",
                    keyNode);
            }
            else
            {
                var suggestion = EditDistance.Closest(key, allowed);
                Error(childPath,
                    $"unknown field '{key}'" + (suggestion is null ? $" (allowed here: {string.Join(", ", allowed)})" : $" (did you mean {suggestion}?)"),
                    keyNode);
            }
        }
        return map;
    }

    protected YNode? Required(Map map, string key)
    {
        if (map.Get(key) is { } value)
        {
            return value;
        }
        if (map.Values.TryGetValue(key, out var nullValue))
        {
            Error(map.Child(key), $"'{key}' must not be empty", nullValue);
        }
        else
        {
            Error(map.Child(key), $"missing required field '{key}'", map.Node);
        }
        return null;
    }

    protected static T? Optional<T>(Map map, string key, Func<YNode, string, T?> read) where T : class =>
        map.Get(key) is { } node ? read(node, map.Child(key)) : null;

    protected string? RequiredText(Map map, string key) =>
        Required(map, key) is { } node ? TextOf(node, map.Child(key), required: true) : null;

    protected string? Text(Map map, string key) =>
        map.Get(key) is { } node ? TextOf(node, map.Child(key), required: false) : null;

    protected string? TextOf(YNode node, string path, bool required)
    {
        if (node is not YScalar scalar)
        {
            Error(path, $"expected text, found {node.Describe()}", node);
            return null;
        }
        if (required && string.IsNullOrWhiteSpace(scalar.Value))
        {
            Error(path, $"'{FieldName(path)}' must not be empty", node);
            return null;
        }
        return scalar.Value;
    }

    protected List<string> TextList(Map map, string key) =>
        ListOf(map, key, (node, path) => TextOf(node, path, required: true));

    protected List<T> ListOf<T>(Map map, string key, Func<YNode, string, T?> read) where T : class =>
        [.. Items(map, key).Select(item => read(item.Node, item.Path)).OfType<T>()];

    protected List<T> ListOf<T>(Map map, string key, Func<YNode, string, T?> read) where T : struct =>
        [.. Items(map, key).Select(item => read(item.Node, item.Path)).OfType<T>()];

    /// <summary>The items of the list under <paramref name="key"/> with their paths; none when absent or not a list (reported).</summary>
    private List<(YNode Node, string Path)> Items(Map map, string key)
    {
        if (map.Get(key) is not { } node)
        {
            return [];
        }
        if (node is not YSequence list)
        {
            Error(map.Child(key), $"expected a list, found {node.Describe()}", node);
            return [];
        }
        return [.. list.Items.Select((item, i) => (item, $"{map.Child(key)}[{i}]"))];
    }

    protected T? Enum<T>(Map map, string key) where T : struct, Enum =>
        map.Get(key) is { } node ? EnumOf<T>(node, map.Child(key)) : null;

    protected T? EnumOf<T>(YNode node, string path) where T : struct, Enum
    {
        if (node is not YScalar scalar)
        {
            Error(path, $"expected one of {string.Join(", ", SpecEnum.Names<T>())}, found {node.Describe()}", node);
            return null;
        }
        if (SpecEnum.TryParse<T>(scalar.Value, out var value))
        {
            return value;
        }
        Error(path, $"invalid value '{scalar.Value}': allowed values are {string.Join(", ", SpecEnum.Names<T>())}", node);
        return null;
    }

    protected List<T> EnumList<T>(Map map, string key) where T : struct, Enum =>
        ListOf<T>(map, key, (node, path) => EnumOf<T>(node, path));

    /// <summary>The plain scalar text of a number, or null (reported) when the node is not one.</summary>
    private string? NumberText(YNode node, string path, bool whole)
    {
        var expected = whole ? "a whole number" : "a number";
        if (node is not YScalar scalar)
        {
            Error(path, $"expected {expected}, found {node.Describe()}", node);
            return null;
        }
        if (scalar.IsText || !Number().IsMatch(scalar.Value))
        {
            Error(path, $"expected {expected}, found {scalar.Describe()}", node);
            return null;
        }
        if (whole && !WholeNumber().IsMatch(scalar.Value))
        {
            Error(path, $"expected a whole number, found {scalar.Describe()}", node);
            return null;
        }
        return scalar.Value;
    }

    protected double? Double(Map map, string key, double min, double max, bool exclusiveMin = false)
    {
        if (map.Get(key) is not { } node || NumberText(node, map.Child(key), whole: false) is not { } text)
        {
            return null;
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            Error(map.Child(key), $"number '{text}' is out of range", node);
            return null;
        }
        if (value < min || value > max || (exclusiveMin && value <= min))
        {
            Error(map.Child(key), RangeMessage(key, Show(value), Show(min), Show(max), exclusiveMin), node);
            return null;
        }
        return value;
    }

    protected decimal? Decimal(Map map, string key, decimal min)
    {
        if (map.Get(key) is not { } node || NumberText(node, map.Child(key), whole: false) is not { } text)
        {
            return null;
        }
        if (!decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            Error(map.Child(key), $"number '{text}' is out of range", node);
            return null;
        }
        if (value < min)
        {
            Error(map.Child(key), $"{key} must be {min.ToString(CultureInfo.InvariantCulture)} or more, found {text}", node);
            return null;
        }
        // Canonical form: 0.50 and 0.5 are the same price, so they must hash the same.
        return value / 1.0000000000000000000000000000m;
    }

    protected int? Int(Map map, string key, int min)
    {
        if (map.Get(key) is not { } node || NumberText(node, map.Child(key), whole: true) is not { } text)
        {
            return null;
        }
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            Error(map.Child(key), $"number '{text}' is out of range", node);
            return null;
        }
        if (value < min)
        {
            Error(map.Child(key), $"{key} must be {min} or more, found {value}", node);
            return null;
        }
        return value;
    }

    protected bool? Bool(Map map, string key)
    {
        if (map.Get(key) is not { } node)
        {
            return null;
        }
        if (node is YScalar { IsText: false, Value: "true" or "True" or "TRUE" })
        {
            return true;
        }
        if (node is YScalar { IsText: false, Value: "false" or "False" or "FALSE" })
        {
            return false;
        }
        Error(map.Child(key), $"expected true or false, found {node.Describe()}", node);
        return null;
    }

    /// <param name="alternative">What else the field accepts, for the message (e.g. a relative end).</param>
    protected DateOnly? Date(YNode node, string path, string? alternative = null)
    {
        if (node is YScalar scalar && IsoDate().IsMatch(scalar.Value)
            && DateOnly.TryParseExact(scalar.Value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }
        Error(path, $"expected a date as YYYY-MM-DD{(alternative is null ? "" : " " + alternative)}, found {node.Describe()}", node);
        return null;
    }

    private static string RangeMessage(string key, string value, string min, string max, bool exclusiveMin) =>
        (exclusiveMin, max == Show(double.MaxValue)) switch
        {
            (true, true) => $"{key} must be more than {min}, found {value}",
            (false, true) => $"{key} must be {min} or more, found {value}",
            _ => $"{key} must be between {min} and {max}, found {value}",
        };

    protected static string Show(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
