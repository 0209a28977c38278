using System.Text.Json.Nodes;

namespace Pilotage.Core.Specs;

/// <summary>
/// One field-level change between two versions of a spec.
/// </summary>
/// <param name="Path">YAML-style field path (<c>spec.config.temperature</c>, <c>spec.rollout[1].mode</c>,
/// <c>metadata.title</c>); empty for a whole new system.</param>
/// <param name="Before">The old value (a scalar as text, a list or section as compact JSON); null when the field was absent.</param>
/// <param name="After">The new value, rendered the same way; null when the field is removed.</param>
public sealed record SpecChange(string Path, string? Before, string? After);

/// <summary>
/// What <c>pilotage diff</c> shows and <c>pilotage apply</c> records. Computed on canonical JSON, so
/// formatting, key order and spelled-out defaults never show up as changes.
/// </summary>
public static class SpecDiff
{
    /// <summary>
    /// Field-level changes from <paramref name="before"/> to <paramref name="after"/>. A new system
    /// (<paramref name="before"/> null) is one change with path "" whose <c>After</c> is the canonical JSON.
    /// Lists of sections (rollout, pauseRules, criteria, gate, detectors) are compared item by item by
    /// position; lists of names (groups, block, questions…) are compared as one value. Equal specs give no change.
    /// </summary>
    public static IReadOnlyList<SpecChange> Compare(SystemSpec? before, SystemSpec after)
    {
        ArgumentNullException.ThrowIfNull(after);
        var afterJson = SpecCanonicalJson.Serialize(after);
        if (before is null)
        {
            return [new SpecChange("", null, afterJson)];
        }
        var changes = new List<SpecChange>();
        var left = JsonNode.Parse(SpecCanonicalJson.Serialize(before))!.AsObject();
        var right = JsonNode.Parse(afterJson)!.AsObject();
        foreach (var key in Keys(left, right))
        {
            Walk(TopLevelPath(key), left[key], right[key], changes);
        }
        return MergeRelativeEnd(changes, before.Pilot, after.Pilot);
    }

    /// <summary>
    /// <c>ends: +90d</c> is stored as the date and the offset; a person wrote one field, so the diff shows
    /// one: <c>spec.pilot.ends: 2027-03-04 (+90d) → 2027-04-03 (+120d)</c>.
    /// </summary>
    private static List<SpecChange> MergeRelativeEnd(List<SpecChange> changes, PilotSpec? before, PilotSpec? after)
    {
        const string Ends = "spec.pilot.ends", Relative = "spec.pilot.endsRelative";
        if (!changes.Any(c => c.Path is Ends or Relative) || before is null || after is null) return changes;
        var merged = new SpecChange(Ends, Written(before), Written(after));
        var at = changes.FindIndex(c => c.Path is Ends or Relative);
        changes.RemoveAll(c => c.Path is Ends or Relative);
        changes.Insert(at, merged);
        return changes;

        static string Written(PilotSpec pilot) =>
            pilot.EndsRelative is { } relative ? $"{PilotEnd.Day(pilot.Ends)} ({relative})" : PilotEnd.Day(pilot.Ends);
    }

    /// <summary>
    /// True when a change touches <c>spec.config</c> or <c>spec.upstream</c>: past the pilot these are
    /// change requests that need approval and a passing re-evaluation (design.md, "System spec").
    /// A whole new system (path "") is not a change of a running one, so it does not count.
    /// </summary>
    public static bool TouchesChangeControl(IReadOnlyList<SpecChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        return changes.Any(c => IsUnder(c.Path, "spec.config") || IsUnder(c.Path, "spec.upstream"));
    }

    private static bool IsUnder(string path, string prefix) =>
        path.StartsWith(prefix, StringComparison.Ordinal)
        && (path.Length == prefix.Length || path[prefix.Length] is '.' or '[');

    /// <summary>The canonical JSON is flat (name, title, owner…); the YAML it came from nests them.</summary>
    private static string TopLevelPath(string key) => key switch
    {
        "name" => "metadata.name",
        "title" => "metadata.title",
        _ => "spec." + key,
    };

    /// <summary>Keys of the new version in order, then keys only the old one had.</summary>
    private static IEnumerable<string> Keys(JsonObject left, JsonObject right) =>
        right.Select(p => p.Key).Concat(left.Select(p => p.Key).Where(k => !right.ContainsKey(k)));

    private static void Walk(string path, JsonNode? left, JsonNode? right, List<SpecChange> changes)
    {
        if (JsonNode.DeepEquals(left, right))
        {
            return;
        }
        if (left is JsonObject leftObject && right is JsonObject rightObject)
        {
            foreach (var key in Keys(leftObject, rightObject))
            {
                Walk(path + "." + key, leftObject[key], rightObject[key], changes);
            }
            return;
        }
        if (left is JsonArray leftArray && right is JsonArray rightArray && (HasObjects(leftArray) || HasObjects(rightArray)))
        {
            for (var i = 0; i < Math.Max(leftArray.Count, rightArray.Count); i++)
            {
                Walk($"{path}[{i}]", i < leftArray.Count ? leftArray[i] : null, i < rightArray.Count ? rightArray[i] : null, changes);
            }
            return;
        }
        changes.Add(new SpecChange(path, Render(left), Render(right)));
    }

    private static bool HasObjects(JsonArray array) => array.Any(item => item is JsonObject);

    private static string? Render(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => node.ToJsonString(),
    };
}
