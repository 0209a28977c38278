using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pilotage.Core.Specs;
using YamlDotNet.Core;

namespace Pilotage.Core.TestSets;

/// <summary>
/// Bridges JSON and the <see cref="YNode"/> tree, so one validator serves YAML and JSON Lines with the
/// same messages and positions.
/// </summary>
internal static partial class JsonTrees
{
    /// <summary>The same bound as YAML nesting; a case is about four levels deep.</summary>
    public const int MaxDepth = YamlTreeLoader.MaxDepth;

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JsonNumber();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex YamlNumber();

    /// <summary>
    /// Parses one JSON Lines line into a node tree whose marks carry <paramref name="lineNumber"/> and the
    /// 1-based character column of each token. Iterative (Utf8JsonReader), depth-bounded, never throws.
    /// </summary>
    public static (YNode? Root, YamlLoadError? Error) ParseLine(string line, int lineNumber)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
        var columns = new ColumnCounter(bytes);
        var stack = new Stack<(YNode Node, YNode? PendingKey)>();
        YNode? root = null;
        try
        {
            while (reader.Read())
            {
                var mark = new Mark(reader.TokenStartIndex, lineNumber, columns.ColumnAt((int)reader.TokenStartIndex));
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        stack.Push((new YMapping(mark), null));
                        break;
                    case JsonTokenType.StartArray:
                        stack.Push((new YSequence(mark), null));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        Attach(stack, stack.Pop().Node, ref root);
                        break;
                    case JsonTokenType.PropertyName or JsonTokenType.String:
                        Attach(stack, new YScalar(mark, reader.GetString() ?? "", ScalarStyle.DoubleQuoted, explicitString: true), ref root);
                        break;
                    case JsonTokenType.Number:
                        Attach(stack, new YScalar(mark, Encoding.UTF8.GetString(reader.ValueSpan), ScalarStyle.Plain, explicitString: false), ref root);
                        break;
                    case JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null:
                        Attach(stack, new YScalar(mark, Encoding.UTF8.GetString(reader.ValueSpan), ScalarStyle.Plain, explicitString: false), ref root);
                        break;
                    default:
                        break;
                }
            }
            if (root is null || stack.Count > 0)
            {
                return (null, new YamlLoadError("malformed JSON: the line ends before its value does", lineNumber, columns.ColumnAt(bytes.Length)));
            }
            return (root, null);
        }
        catch (JsonException e)
        {
            var column = columns.ColumnAt((int)Math.Min(e.BytePositionInLine ?? 0, bytes.Length));
            return (null, new YamlLoadError("malformed JSON: " + FirstSentence(e.Message), lineNumber, column));
        }
        catch (InvalidOperationException e)
        {
            // GetString refuses escapes that make no text, such as a lone "\ud800" (found by the fuzz tests).
            var column = columns.ColumnAt((int)Math.Min(reader.TokenStartIndex, bytes.Length));
            return (null, new YamlLoadError("malformed JSON: " + FirstSentence(e.Message) + " Write characters as themselves or as complete \\u escapes.", lineNumber, column));
        }
    }

    private static void Attach(Stack<(YNode Node, YNode? PendingKey)> stack, YNode node, ref YNode? root)
    {
        if (stack.Count == 0)
        {
            root = node;
            return;
        }
        var (parent, pendingKey) = stack.Pop();
        switch (parent)
        {
            case YSequence sequence:
                sequence.Items.Add(node);
                stack.Push((parent, null));
                break;
            case YMapping when pendingKey is null:
                stack.Push((parent, node));
                break;
            case YMapping mapping:
                mapping.Pairs.Add(new KeyValuePair<YNode, YNode>(pendingKey, node));
                stack.Push((parent, null));
                break;
            default:
                stack.Push((parent, pendingKey));
                break;
        }
    }

    /// <summary>System.Text.Json messages end with internal positions ("LineNumber: 0 | BytePositionInLine: 12."); ours are better.</summary>
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    /// <summary>Byte offsets to 1-based character columns, counting forward only so a whole line costs O(length).</summary>
    private sealed class ColumnCounter(byte[] bytes)
    {
        private int byteOffset;
        private int chars;

        public int ColumnAt(int offset)
        {
            offset = Math.Clamp(offset, 0, bytes.Length);
            if (offset < byteOffset)
            {
                byteOffset = 0;
                chars = 0;
            }
            chars += Encoding.UTF8.GetCharCount(bytes, byteOffset, offset - byteOffset);
            byteOffset = offset;
            return chars + 1;
        }
    }

    /// <summary>
    /// Writes a node as compact JSON: quoted scalars are strings; plain ones become null, booleans or
    /// numbers as YAML 1.2 reads them. Recursion is safe here: the loaders cap depth at <see cref="MaxDepth"/>.
    /// Returns an error (with its node) for what JSON cannot hold, such as a non-text key.
    /// </summary>
    public static (string? Json, string? Error, YNode? At) ToJson(YNode node)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxDepth + 1, SkipValidation = false }))
        {
            if (Write(writer, node) is { } problem)
            {
                return (null, problem.Error, problem.At);
            }
        }
        return (Encoding.UTF8.GetString(buffer.ToArray()), null, null);
    }

    private static (string Error, YNode At)? Write(Utf8JsonWriter writer, YNode node)
    {
        switch (node)
        {
            case YScalar scalar:
                WriteScalar(writer, scalar);
                return null;
            case YSequence sequence:
                writer.WriteStartArray();
                foreach (var item in sequence.Items)
                {
                    if (Write(writer, item) is { } problem)
                    {
                        return problem;
                    }
                }
                writer.WriteEndArray();
                return null;
            case YMapping mapping:
                writer.WriteStartObject();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var (key, value) in mapping.Pairs)
                {
                    if (key is not YScalar { IsNull: false } keyScalar)
                    {
                        return ($"a JSON object key must be text, found {key.Describe()}", key);
                    }
                    if (!seen.Add(keyScalar.Value))
                    {
                        return ($"duplicate key '{keyScalar.Value}'", key);
                    }
                    writer.WritePropertyName(keyScalar.Value);
                    if (Write(writer, value) is { } problem)
                    {
                        return problem;
                    }
                }
                writer.WriteEndObject();
                return null;
            default:
                return ($"cannot be written as JSON: {node.Describe()}", node);
        }
    }

    private static void WriteScalar(Utf8JsonWriter writer, YScalar scalar)
    {
        if (scalar.IsText)
        {
            writer.WriteStringValue(scalar.Value);
        }
        else if (scalar.IsNull)
        {
            writer.WriteNullValue();
        }
        else if (scalar.Value is "true" or "True" or "TRUE")
        {
            writer.WriteBooleanValue(true);
        }
        else if (scalar.Value is "false" or "False" or "FALSE")
        {
            writer.WriteBooleanValue(false);
        }
        else if (JsonNumber().IsMatch(scalar.Value))
        {
            writer.WriteRawValue(scalar.Value, skipInputValidation: true);
        }
        else if (YamlNumber().IsMatch(scalar.Value)
                 && double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                 && double.IsFinite(number))
        {
            writer.WriteNumberValue(number); // YAML-only spellings such as +1, .5 or 1.
        }
        else
        {
            writer.WriteStringValue(scalar.Value); // plain text such as `integer` in `type: integer`
        }
    }
}
