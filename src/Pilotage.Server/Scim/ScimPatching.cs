using System.Text.Json;
using System.Text.RegularExpressions;

namespace Pilotage.Server.Scim;

/// <summary>One PATCH operation, read: <see cref="Op"/> is add, replace or remove.</summary>
public sealed record PatchStep(string Op, string? Path, JsonElement? Value);

/// <summary>Reading RFC 7644 §3.5.2 PATCH bodies: operations, attribute values, and the member paths of groups.</summary>
public static partial class ScimPatching
{
    /// <summary>A PATCH body's operations; an unknown op or a missing list is <c>invalidSyntax</c>, before anything changes.</summary>
    public static IReadOnlyList<PatchStep> Operations(ScimPatch patch)
    {
        if (patch.Schemas is { } schemas && !schemas.Contains(ScimSchemas.PatchOp, StringComparer.OrdinalIgnoreCase))
        {
            throw ScimException.BadRequest("invalidSyntax", $"a PATCH body has the schema {ScimSchemas.PatchOp}");
        }
        if (patch.Operations is not { Count: > 0 } operations) throw ScimException.BadRequest("invalidSyntax", "a PATCH body needs Operations: [{\"op\": \"replace\", \"path\": …, \"value\": …}]");
        if (operations.Count > 1000) throw ScimException.BadRequest("tooMany", "at most 1000 operations per PATCH");
        return operations.Select(o =>
        {
            var op = o.Op?.Trim().ToLowerInvariant();
            if (op is not ("add" or "replace" or "remove")) throw ScimException.BadRequest("invalidSyntax", $"unknown op '{o.Op}'; use add, replace or remove");
            if (op != "remove" && o.Value is null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined })
            {
                throw ScimException.BadRequest("invalidValue", $"the {op} operation{(o.Path is null ? "" : $" on {o.Path}")} has no value");
            }
            return new PatchStep(op, string.IsNullOrWhiteSpace(o.Path) ? null : o.Path.Trim(), o.Value);
        }).ToList();
    }

    /// <summary>The attributes of a path-less add or replace: its value must be an object.</summary>
    public static IEnumerable<(string Attribute, JsonElement Value)> Attributes(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Object } o
            ? o.EnumerateObject().Select(p => (p.Name, p.Value)).ToList()
            : throw ScimException.BadRequest("invalidValue", "an operation without a path needs an object value: {\"active\": false}");

    /// <summary>A boolean value (Entra ID sends <c>"False"</c> as a string).</summary>
    public static bool? Boolean(JsonElement? value, string attribute) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        { ValueKind: JsonValueKind.String } s when bool.TryParse(s.GetString(), out var b) => b,
        _ => throw ScimException.BadRequest("invalidValue", $"{attribute} must be true or false"),
    };

    /// <summary>A string value; null removes.</summary>
    public static string? Text(JsonElement? value, string attribute) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        _ => throw ScimException.BadRequest("invalidValue", $"{attribute} must be a string"),
    };

    /// <summary>The member ids in a value: <c>[{"value": "12"}, …]</c> or one such object.</summary>
    public static IReadOnlyList<string> MemberIds(JsonElement? value)
    {
        if (value is null or { ValueKind: JsonValueKind.Null }) return [];
        var items = value.Value.ValueKind switch
        {
            JsonValueKind.Array => value.Value.EnumerateArray().ToList(),
            JsonValueKind.Object => [value.Value],
            _ => throw ScimException.BadRequest("invalidValue", "members must be a list of {\"value\": \"<user id>\"}"),
        };
        return items.Select(i => i.ValueKind == JsonValueKind.Object && i.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw ScimException.BadRequest("invalidValue", "each member is {\"value\": \"<user id>\"}")).ToList();
    }

    /// <summary>
    /// A member path: <c>members</c> (null id), or <c>members[value eq "12"]</c> (that member). Anything else
    /// that starts with <c>members</c> is <c>invalidPath</c>; other paths are null.
    /// </summary>
    public static (bool IsMembers, string? Id) MemberPath(string path)
    {
        if (string.Equals(path, "members", StringComparison.OrdinalIgnoreCase)) return (true, null);
        if (!path.StartsWith("members", StringComparison.OrdinalIgnoreCase)) return (false, null);
        var match = MemberFilter().Match(path);
        return match.Success ? (true, match.Groups["id"].Value) : throw ScimException.BadRequest("invalidPath", $"cannot read the path '{path}'; use members or members[value eq \"<user id>\"]");
    }

    [GeneratedRegex("""^members\[\s*value\s+eq\s+"(?<id>[0-9]{1,19})"\s*\]$""", RegexOptions.IgnoreCase)]
    private static partial Regex MemberFilter();
}
