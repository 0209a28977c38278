using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Pilotage.Core.Specs;

/// <summary>
/// A minimal YAML node tree with source marks. It is built from YamlDotNet's event parser rather than
/// <c>YamlStream</c> because <c>YamlStream</c> stops at the first duplicate key (we want every problem
/// at once) and loads recursively, so deeply nested input overflows the stack, which cannot be caught.
/// </summary>
internal abstract class YNode(Mark start)
{
    public int Line { get; } = (int)Math.Min(start.Line, int.MaxValue);
    public int Column { get; } = (int)Math.Min(start.Column, int.MaxValue);

    /// <summary>Nodes in this subtree with aliases expanded: bounds the work a validator may do.</summary>
    public long Size { get; set; } = 1;

    public abstract string Describe();
}

internal sealed class YScalar(Mark start, string value, ScalarStyle style, bool explicitString) : YNode(start)
{
    public string Value { get; } = value;

    /// <summary>Quoted, block or <c>!!str</c>-tagged: always text, never a number, boolean or null.</summary>
    public bool IsText { get; } = explicitString || style is not (ScalarStyle.Plain or ScalarStyle.Any);

    public bool IsNull => !IsText && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Describe() => IsText ? $"the text \"{Value}\"" : $"'{Value}'";
}

internal sealed class YSequence(Mark start) : YNode(start)
{
    public List<YNode> Items { get; } = [];

    public override string Describe() => "a list";
}

internal sealed class YMapping(Mark start) : YNode(start)
{
    public List<KeyValuePair<YNode, YNode>> Pairs { get; } = [];

    public override string Describe() => "a mapping";
}

/// <summary>One YAML document of a stream; <see cref="Root"/> is null for an empty document.</summary>
internal sealed record YDocument(YNode? Root, int Line, int Column);

/// <summary>Problems that stop a file from being read at all, with where they were found.</summary>
internal sealed record YamlLoadError(string Message, int Line, int Column);

internal static class YamlTreeLoader
{
    /// <summary>Deeper than any real spec (about 6 levels) by far; low enough to keep everything iterative and cheap.</summary>
    public const int MaxDepth = 64;

    /// <summary>Nodes per document with aliases expanded: stops "billion laughs" alias bombs.</summary>
    public const long MaxExpandedNodes = 1_000_000;

    private sealed class Frame(YNode node)
    {
        public YNode Node { get; } = node;
        public YNode? PendingKey { get; set; }
        public string? Anchor { get; init; }
    }

    /// <summary>Parses every document of <paramref name="text"/>; on failure returns the one error that stopped it.</summary>
    public static (IReadOnlyList<YDocument> Documents, YamlLoadError? Error) Load(string text)
    {
        var documents = new List<YDocument>();
        var parser = new Parser(new StringReader(text));
        var stack = new Stack<Frame>();
        var anchors = new Dictionary<string, YNode>(StringComparer.Ordinal);
        YNode? root = null;
        Mark documentStart = Mark.Empty;
        Mark last = Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                var current = parser.Current!;
                last = current.Start;
                switch (current)
                {
                    case DocumentStart:
                        root = null;
                        documentStart = current.Start;
                        anchors.Clear(); // anchors are scoped to their document
                        break;
                    case DocumentEnd:
                        documents.Add(new YDocument(root is YScalar { IsNull: true } ? null : root,
                            (int)documentStart.Line, (int)documentStart.Column));
                        break;
                    case Scalar scalar:
                    {
                        var node = new YScalar(scalar.Start, scalar.Value, scalar.Style,
                            scalar.Tag.IsEmpty is false && scalar.Tag.Value == "tag:yaml.org,2002:str");
                        Remember(anchors, scalar.Anchor, node);
                        if (Attach(stack, node, ref root) is { } error)
                        {
                            return (documents, error);
                        }
                        break;
                    }
                    case AnchorAlias alias:
                    {
                        if (!anchors.TryGetValue(alias.Value.Value, out var target))
                        {
                            return (documents, new YamlLoadError(
                                $"alias *{alias.Value.Value} refers to no anchor defined before it", (int)alias.Start.Line, (int)alias.Start.Column));
                        }
                        if (Attach(stack, target, ref root) is { } error)
                        {
                            return (documents, error);
                        }
                        break;
                    }
                    case MappingStart or SequenceStart:
                    {
                        if (stack.Count >= MaxDepth)
                        {
                            return (documents, new YamlLoadError(
                                $"nesting is deeper than {MaxDepth} levels; a spec never needs that", (int)current.Start.Line, (int)current.Start.Column));
                        }
                        var properties = (NodeEvent)current;
                        YNode node = current is MappingStart ? new YMapping(current.Start) : new YSequence(current.Start);
                        stack.Push(new Frame(node) { Anchor = properties.Anchor.IsEmpty ? null : properties.Anchor.Value });
                        break;
                    }
                    case MappingEnd or SequenceEnd:
                    {
                        var frame = stack.Pop();
                        if (frame.Node is YMapping && frame.PendingKey is not null)
                        {
                            // A key without value cannot happen with a well-formed event stream; be defensive anyway.
                            return (documents, new YamlLoadError("mapping key without a value", frame.Node.Line, frame.Node.Column));
                        }
                        if (frame.Anchor is not null)
                        {
                            anchors[frame.Anchor] = frame.Node;
                        }
                        if (Attach(stack, frame.Node, ref root) is { } error)
                        {
                            return (documents, error);
                        }
                        break;
                    }
                    default:
                        break;
                }
            }
        }
        catch (YamlException e)
        {
            return (documents, new YamlLoadError("malformed YAML: " + e.Message, (int)e.Start.Line, (int)e.Start.Column));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet throws this (without a mark) for some unterminated flow collections: point at
            // the innermost collection still open, which is the likely culprit.
            var (line, column) = stack.Count > 0 ? (stack.Peek().Node.Line, stack.Peek().Node.Column) : ((int)last.Line, (int)last.Column);
            return (documents, new YamlLoadError(
                "malformed YAML: the text ends inside an unclosed '[' or '{' (or a similar construct) that starts here", line, column));
        }
        return (documents, null);
    }

    private static void Remember(Dictionary<string, YNode> anchors, AnchorName anchor, YNode node)
    {
        if (!anchor.IsEmpty)
        {
            anchors[anchor.Value] = node;
        }
    }

    private static YamlLoadError? Attach(Stack<Frame> stack, YNode node, ref YNode? root)
    {
        if (stack.Count == 0)
        {
            root = node;
            return null;
        }
        var frame = stack.Peek();
        // Saturating addition: aliases can make sizes grow exponentially.
        frame.Node.Size = Math.Min(frame.Node.Size + node.Size, MaxExpandedNodes + 1);
        if (frame.Node.Size > MaxExpandedNodes)
        {
            return new YamlLoadError(
                $"the document expands to more than {MaxExpandedNodes} nodes (through aliases or sheer size); split it or remove the aliases",
                node.Line, node.Column);
        }
        switch (frame.Node)
        {
            case YSequence sequence:
                sequence.Items.Add(node);
                break;
            case YMapping when frame.PendingKey is null:
                frame.PendingKey = node;
                break;
            case YMapping mapping:
                mapping.Pairs.Add(new KeyValuePair<YNode, YNode>(frame.PendingKey, node));
                frame.PendingKey = null;
                break;
            default:
                break;
        }
        return null;
    }
}
