using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;

namespace Pilotage.Server.Dashboard;

/// <summary>Text helpers for pages: everything is HTML-encoded first, then only Pilotage's own markers are marked up.</summary>
public static partial class DashboardText
{
    /// <summary>The text, encoded, with the data boundary's <c>[REDACTED:detector]</c> placeholders highlighted.</summary>
    public static IHtmlContent Highlight(string? text)
    {
        var encoded = WebUtility.HtmlEncode(text ?? "");
        return new HtmlString(Redaction().Replace(encoded, m => $"<mark class=\"hit\" title=\"found by the {m.Groups[1].Value} detector\">{m.Value}</mark>"));
    }

    /// <summary>Detector hits of an interaction as "detector: count (action)" lines.</summary>
    public static IReadOnlyList<string> Hits(JsonElement? hits)
    {
        if (hits is not { ValueKind: JsonValueKind.Object } json) return [];
        var lines = new List<string>();
        foreach (var property in json.EnumerateObject())
        {
            lines.Add(property.Value.ValueKind == JsonValueKind.Object
                ? $"{property.Name}: {Read(property.Value, "count")} ({Read(property.Value, "action")})"
                : $"{property.Name}: {property.Value}");
        }
        return lines;
    }

    public static string Age(double seconds) => seconds switch
    {
        < 60 => $"{seconds:0} s",
        < 3600 => $"{seconds / 60:0} min",
        < 86_400 => $"{seconds / 3600:0.#} h",
        _ => $"{seconds / 86_400:0.#} d",
    };

    private static string Read(JsonElement element, string name) => element.TryGetProperty(name, out var value) ? value.ToString() : "";

    [GeneratedRegex(@"\[REDACTED:([A-Za-z0-9_\-]+)\]")]
    private static partial Regex Redaction();
}
