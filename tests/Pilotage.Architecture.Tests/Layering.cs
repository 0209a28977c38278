namespace Pilotage.Architecture.Tests;

/// <summary>
/// The allowed shape of a project's feature folders: layers from the bottom up. A feature may use
/// features of lower layers and of its own layer, never of a higher one, and the uses between
/// features must form no loop (so within a layer they run one way). Every folder has a layer.
/// </summary>
public sealed class Layering
{
    private readonly Dictionary<string, int> _layerOf = new(StringComparer.Ordinal);

    /// <param name="layers">Feature folder names per layer, the bottom layer first.</param>
    public Layering(params string[][] layers)
    {
        Layers = layers;
        for (var i = 0; i < layers.Length; i++)
        {
            foreach (var feature in layers[i])
            {
                _layerOf.Add(feature, i);
            }
        }
    }

    public IReadOnlyList<string[]> Layers { get; }

    /// <summary>Every broken rule, in words, each with the file and line that breaks it.</summary>
    public IReadOnlyList<string> Violations(ReferenceScanner.Result scan, IEnumerable<string> featureFolders)
    {
        var violations = new List<string>(scan.Problems);
        var folders = featureFolders.ToHashSet(StringComparer.Ordinal);
        violations.AddRange(folders.Where(f => !_layerOf.ContainsKey(f)).Order(StringComparer.Ordinal)
            .Select(f => $"feature folder {f} has no layer; add it to the layering (and to docs/architecture.md)"));
        violations.AddRange(_layerOf.Keys.Where(f => !folders.Contains(f)).Order(StringComparer.Ordinal)
            .Select(f => $"the layering names {f}, which is not a feature folder"));

        foreach (var reference in scan.References)
        {
            if (!_layerOf.TryGetValue(reference.To, out var to))
            {
                violations.Add($"{reference}: {reference.To} is not a feature this project may use");
            }
            else if (_layerOf.TryGetValue(reference.From, out var from) && to > from)
            {
                violations.Add($"upward reference {reference}: layer {from + 1} may not use layer {to + 1}");
            }
        }

        foreach (var loop in Cycles(scan.References))
        {
            var evidence = loop.Zip(loop.Skip(1).Append(loop[0]))
                .Select(e => scan.References.First(r => r.From == e.First && r.To == e.Second));
            violations.Add($"dependency loop {string.Join(" → ", loop.Append(loop[0]))}: {string.Join("; ", evidence)}");
        }

        return violations;
    }

    /// <summary>One loop through each group of features that reach each other (Tarjan's strongly connected components).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cycles(IEnumerable<FeatureReference> references)
    {
        var edges = references
            .GroupBy(r => r.From, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.To).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<List<string>>();

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in edges.GetValueOrDefault(v) ?? [])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w) && index.TryGetValue(w, out var wIndex))
                {
                    low[v] = Math.Min(low[v], wIndex);
                }
            }

            if (low[v] == index[v])
            {
                var component = new List<string>();
                string w;
                do
                {
                    w = stack.Pop();
                    onStack.Remove(w);
                    component.Add(w);
                }
                while (w != v);

                if (component.Count > 1)
                {
                    components.Add(component);
                }
            }
        }

        foreach (var v in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (!index.ContainsKey(v))
            {
                Visit(v);
            }
        }

        return components.Select(c => (IReadOnlyList<string>)LoopThrough(c.ToHashSet(StringComparer.Ordinal), edges)).ToList();
    }

    // A concrete loop inside a strongly connected component: walk from its first member until a member repeats.
    private static List<string> LoopThrough(HashSet<string> component, Dictionary<string, List<string>> edges)
    {
        var path = new List<string> { component.Order(StringComparer.Ordinal).First() };
        while (true)
        {
            var next = edges[path[^1]].First(component.Contains);
            var seen = path.IndexOf(next);
            if (seen >= 0)
            {
                return path[seen..];
            }

            path.Add(next);
        }
    }
}
