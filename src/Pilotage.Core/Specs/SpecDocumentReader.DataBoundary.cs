using System.Text.RegularExpressions;

namespace Pilotage.Core.Specs;

/// <summary>The <c>dataBoundary</c> section: built-in detectors to block or redact, custom patterns, and answers.</summary>
internal sealed partial class SpecDocumentReader
{
    private DataBoundarySpec? ReadDataBoundary(YNode node, string path)
    {
        if (MapOf(node, path, DataBoundaryKeys) is not { } map)
        {
            return null;
        }
        var detectors = ListOf(map, "detectors", ReadDetector);
        var declared = new Dictionary<string, YNode>(StringComparer.Ordinal);
        for (var i = 0; i < detectors.Count; i++)
        {
            var (detector, nameNode) = detectors[i];
            var detectorPath = $"{map.Child("detectors")}[{i}].name";
            if (BuiltInDetectors.Contains(detector.Name))
            {
                Error(detectorPath, $"'{detector.Name}' is a built-in detector; give the custom one another name", nameNode);
            }
            else if (!declared.TryAdd(detector.Name, nameNode))
            {
                Error(detectorPath, $"duplicate detector name '{detector.Name}' (first at line {declared[detector.Name].Line})", nameNode);
            }
        }
        var known = BuiltInDetectors.Concat(declared.Keys).ToArray();
        var boundary = new DataBoundarySpec
        {
            Block = DetectorNames(map, "block", known),
            Redact = DetectorNames(map, "redact", known),
            Detectors = detectors.Select(d => d.Spec).ToArray(),
            Answers = Enum<AnswerBoundaryMode>(map, "answers"),
        };
        if (boundary.Answers is not null && boundary.Block.Count == 0 && boundary.Redact.Count == 0)
        {
            Error(map.Child("answers"), "'answers' applies the boundary's detectors to answers, and none is listed: name detectors under block or redact", map.Get("answers")!);
        }
        return boundary;
    }

    private List<string> DetectorNames(Map map, string key, string[] known)
    {
        var names = TextList(map, key);
        // Names and list items are paired by walking the list itself: TextList leaves out items that are
        // not text (reported there), so an index into it need not be an index into the list. The fuzz
        // tests found the older index-based pairing throwing on such lists.
        if (map.Get(key) is not YSequence list)
        {
            return names;
        }
        for (var i = 0; i < list.Items.Count; i++)
        {
            if (list.Items[i] is not YScalar { IsNull: false } item || known.Contains(item.Value))
            {
                continue;
            }
            var suggestion = Metrics.EditDistance.Closest(item.Value, known);
            Error($"{map.Child(key)}[{i}]",
                $"unknown detector '{item.Value}'" + (suggestion is null ? "" : $" (did you mean {suggestion}?)")
                + $": use a built-in one ({string.Join(", ", BuiltInDetectors)}) or declare it under dataBoundary.detectors",
                item);
        }
        return names;
    }

    private (CustomDetectorSpec Spec, YNode NameNode)? ReadDetector(YNode node, string path)
    {
        if (MapOf(node, path, DetectorKeys) is not { } map)
        {
            return null;
        }
        var name = RequiredText(map, "name");
        if (name is not null && !DetectorName().IsMatch(name))
        {
            Error(map.Child("name"), $"invalid detector name '{name}': use lowercase letters, digits and '_', starting with a letter", map.Get("name")!);
        }
        var pattern = RequiredText(map, "pattern");
        if (pattern is not null)
        {
            try
            {
                _ = new Regex(pattern, RegexOptions.CultureInvariant, DetectorTimeout);
            }
            catch (ArgumentException e)
            {
                Error(map.Child("pattern"), $"pattern does not compile as a .NET regular expression: {e.Message}", map.Get("pattern")!);
            }
        }
        return name is null || pattern is null ? null : (new CustomDetectorSpec { Name = name, Pattern = pattern }, map.Get("name")!);
    }
}
