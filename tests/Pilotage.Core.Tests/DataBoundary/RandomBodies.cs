using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// Random chat-shaped request bodies as JSON text, for the tests that compare the element walk with the tree's (the
/// gateway's tests compile this file too, to hold the configured body to the tree's).
/// </summary>
internal static class RandomBodies
{
    /// <summary>Pieces of text: plain words, hits of every built-in detector and of the tests' custom patterns, escapes, other scripts.</summary>
    private static readonly string[] Pieces =
    [
        "hello", " ", "words and more words", "é", "東京", "🚀", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude80", "\\/", "<b>&</b>", "12", "2026-11-18",
        "dana.lee@example.org", "x@y.co", "a\\u0040b.co", "dana.lee\uff20example.org", "4111 1111 1111 1111", "4111-1111-1111-1111",
        "DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "DE136695976", "ATU13585627", "AB 12 34 56 C", "078-05-1120",
        "+44 20 7946 0958", "(555) 123-4567", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "TCKabc", "ORD-12345", "zzabzz",
        "\u200b", "\u00a0", "\ufb00", "data:image/png;base64,iVBORw0KGgo=", "caf\u00e9 x@y.co",
    ];

    /// <summary>Keys: the chat format's, structural ones, odd ones (escaped, path-like, empty, other scripts), long ones and ones holding hits.</summary>
    private static readonly string[] Keys =
    [
        "content", "text", "name", "role", "type", "id", "model", "data", "input_audio", "arguments", "user", "metadata", "detail", "url",
        "a.b", "x[0]", "", "caf\u00e9", "\\u00e9t\\u00e9", "\u4e2d", "tab\\t", "a_rather_long_key_name_that_is_not_structural",
        "a@b.co", "c\\u0040d.co", "dana.lee@example.org", "a@b.\ufb00", "TCKxyz",
    ];

    public static string Body(Random random)
    {
        var members = new List<string> { $"\"model\":{(random.Next(8) == 0 ? Text(random, 80) : "\"gpt-4o\"")}", $"\"messages\":{Messages(random)}" };
        void Maybe(string key, Func<string> value)
        {
            if (random.Next(3) == 0) members.Add($"\"{key}\":{value()}");
        }
        Maybe("stream", () => random.Next(2) == 0 ? "true" : "false");
        Maybe("stream_options", () => random.Next(2) == 0 ? "{\"include_usage\":true}" : $"{{\"x\":{Text(random, 6)}}}");
        Maybe("temperature", () => "0.25");
        Maybe("top_p", () => "1.0e0");
        Maybe("max_tokens", () => "100");
        Maybe("max_completion_tokens", () => "200");
        Maybe("user", () => Text(random, 4));
        Maybe("metadata", () => Any(random, 3));
        Maybe("tools", () => $"[{{\"type\":\"function\",\"function\":{{\"name\":\"lookup\",\"description\":{Text(random, 4)},\"parameters\":{Any(random, 2)}}}}}]");
        Maybe("input", () => random.Next(3) switch { 0 => "[1,2,3]", 1 => "7", _ => $"[{Text(random, 3)},[4]]" });
        Maybe("prompt", () => random.Next(2) == 0 ? "[\"a\",5]" : Text(random, 3));
        Maybe("extra", () => Any(random, 4));
        if (random.Next(6) == 0) members.Add($"\"{Key(random)}\":{Any(random, 2)}");
        var shuffled = members.DistinctBy(m => m[..(m.IndexOf("\":", StringComparison.Ordinal) + 1)]).OrderBy(_ => random.Next()).ToList();
        return "{" + string.Join(random.Next(2) == 0 ? "," : " ,\n ", shuffled) + "}";
    }

    private static string Messages(Random random)
    {
        var items = new List<string>();
        for (var i = random.Next(1, 5); i > 0; i--)
        {
            var members = new List<string> { $"\"role\":{(random.Next(10) == 0 ? Text(random, 40) : "\"user\"")}" };
            members.Add(random.Next(5) switch
            {
                0 => $"\"content\":{Text(random, 6)}",
                1 => $"\"content\":{Long(random)}",
                2 => $"\"content\":[{{\"type\":\"text\",\"text\":{Text(random, 5)}}},{{\"type\":\"image_url\",\"image_url\":{{\"url\":{Media(random)},\"detail\":\"high\"}}}}]",
                3 => $"\"content\":[{{\"type\":\"input_audio\",\"input_audio\":{{\"data\":{Text(random, 3)},\"format\":\"wav\"}}}},{{\"type\":\"base64\",\"data\":{Text(random, 3)}}}]",
                _ => "\"content\":null",
            });
            if (random.Next(3) == 0) members.Add($"\"name\":{Text(random, 2)}");
            if (random.Next(4) == 0)
            {
                members.Add($"\"tool_calls\":[{{\"id\":{Text(random, 1)},\"type\":\"function\",\"function\":{{\"name\":\"f\",\"arguments\":{Arguments(random)}}}}}]");
            }
            if (random.Next(8) == 0) members.Add($"\"{Key(random)}\":{Any(random, 2)}");
            items.Add("{" + string.Join(",", members.DistinctBy(m => m[..(m.IndexOf("\":", StringComparison.Ordinal) + 1)])) + "}");
        }
        return "[" + string.Join(",", items) + "]";
    }

    /// <summary>A value of any kind, nested up to <paramref name="depth"/>; keys may repeat, so an object keeps the first of each.</summary>
    public static string Any(Random random, int depth) => random.Next(depth > 0 ? 9 : 6) switch
    {
        0 => "null",
        1 => random.Next(2) == 0 ? "true" : "false",
        2 => (random.Next(-1000, 1000) / 8.0).ToString(CultureInfo.InvariantCulture),
        3 or 4 => Text(random, 5),
        5 => random.Next(6) == 0 ? Long(random) : Text(random, 2),
        6 => "[" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => Any(random, depth - 1))) + "]",
        _ => "{" + string.Join(",", Enumerable.Range(0, random.Next(4)).Select(_ => (Key(random), Any(random, depth - 1)))
            .DistinctBy(m => JsonSerializer.Deserialize<string>($"\"{m.Item1}\"")).Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}",
    };

    private static string Key(Random random) => Keys[random.Next(Keys.Length)];

    public static string Text(Random random, int pieces) =>
        "\"" + string.Concat(Enumerable.Range(0, random.Next(0, pieces + 1)).Select(_ => Pieces[random.Next(Pieces.Length)])) + "\"";

    /// <summary>A text past the stack's 256 characters (and the redacted UTF-8's threshold), hits anywhere in it.</summary>
    private static string Long(Random random)
    {
        var text = new StringBuilder("\"");
        while (text.Length < 300 + random.Next(400))
        {
            text.Append(random.Next(6) == 0 ? Pieces[random.Next(Pieces.Length)] : "long prose with words ");
        }
        return text.Append('"').ToString();
    }

    private static string Media(Random random) => random.Next(3) switch
    {
        0 => "\"data:image/png;base64,iVBORw0KGgodana.lee@example.org=\"",
        1 => "\"https://example.org/x@y.co.png\"",
        _ => Text(random, 2),
    };

    private static string Arguments(Random random) =>
        JsonSerializer.Serialize(JsonSerializer.Deserialize<string>(Text(random, 3)) is { } inner ? $"{{\"to\":\"{inner.Replace("\"", "", StringComparison.Ordinal).Replace("\\", "", StringComparison.Ordinal)}\"}}" : "{}");
}
