using System.Text.Json;

namespace Pilotage.Core.Specs;

/// <summary>
/// The spelling of spec enums in YAML and canonical JSON: lowercase snake case
/// (<c>ReadOnly</c> ↔ <c>read_only</c>), so the two formats agree and people type what they read.
/// </summary>
public static class SpecEnum
{
    public static string ToName<T>(T value) where T : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Every allowed spelling, in declaration order (used in error messages).</summary>
    public static IReadOnlyList<string> Names<T>() where T : struct, Enum =>
        Enum.GetValues<T>().Select(ToName).ToArray();

    /// <summary>Exact, case-sensitive match of the snake-case name.</summary>
    public static bool TryParse<T>(string? text, out T value) where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(ToName(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }
        value = default;
        return false;
    }
}
