using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// A hit's path (<see cref="FieldHit.Path"/>) is spelled when read, by climbing from the object or array that holds the
/// field up to the body. It must read exactly as the walk spelled it eagerly (the walk without shortcuts still does):
/// generated bodies nest objects and arrays, arrays in arrays, keys that JSON escapes or that look like paths themselves
/// (dots, brackets, quotes, the empty key, other scripts), and keys holding data, renamed where they clash.
/// </summary>
public class FieldPathPropertyTests
{
    private static readonly DataBoundaryPolicy Mixed = TestPolicies.Mixed;

    /// <summary>Keys as JSON spells them: plain, escaped, path-like, empty, other scripts, and holding data (renamed).</summary>
    private static readonly string[] Keys =
    [
        "content", "text", "messages", "a.b", "x[0]", "]", "[", "", " ", "\\\"q\\\"", "back\\\\slash", "tab\\t", "caf\u00e9", "\\u00e9t\\u00e9",
        "\u4e2d", "\U0001F600", "role", "type", "a@b.co", "x@y.co", "c\\u0040d.co", "dana.lee@example.org",
    ];

    /// <summary>Values: clean, short and long, and hits of each action behind escapes.</summary>
    private static readonly string[] Values =
    [
        "ok", "plain words", "write to dana.lee@example.org please", "a\\u0040b.co", "+44 20 7946 0958", "4111 1111 1111 1111",
        "caf\u00e9 x@y.co", "\\ud83d\\ude00 a@b.co", string.Concat(Enumerable.Repeat("long prose with words ", 14)) + "e@f.co",
    ];

    private static readonly Gen<string> Key = Gen.Int[0, Keys.Length - 1].Select(i => Keys[i]);

    private static readonly Gen<string> Leaf = Gen.Frequency(
        (6, Gen.Int[0, Values.Length - 1].Select(i => $"\"{Values[i]}\"")), (1, Gen.Const("7")), (1, Gen.Const("null")));

    /// <summary>A value nested up to <paramref name="depth"/> levels: objects (keys may repeat once escaped or renamed), arrays, arrays of arrays.</summary>
    private static Gen<string> Node(int depth) => depth == 0
        ? Leaf
        : Gen.Frequency(
            (3, Leaf),
            (2, Gen.Select(Key, Node(depth - 1)).Array[0, 4].Select(members =>
                "{" + string.Join(",", members.DistinctBy(m => m.Item1).Select(m => $"\"{m.Item1}\":{m.Item2}")) + "}")),
            (2, Node(depth - 1).Array[0, 4].Select(items => $"[{string.Join(",", items)}]")));

    private static readonly Gen<string> Request = Gen.Select(Node(4), Node(3), (a, b) =>
        $$"""{"model":"m","messages":[{"role":"user","content":{{a}}},{"role":"user","content":"x@y.co"}],"extra":{{b}}}""");

    [Fact]
    public void A_path_spelled_when_read_is_the_path_the_walk_spells() =>
        Request.Sample(json =>
        {
            var fast = Outcome(json, shortcuts: true);
            var full = Outcome(json, shortcuts: false);
            return fast == full;
        }, iter: 3000);

    [Fact]
    public void A_path_is_read_the_same_any_number_of_times_and_names_renamed_keys_as_sent()
    {
        var body = JsonNode.Parse("""
            {"model":"m","meta":{"a@b.co":{"x.y":["ok",["z@w.co"]]},"c@d.co":{"":"e@f.co"}},"messages":[{"role":"user","content":"ok"},{"role":"user","content":"write to g@h.co"}]}
            """)!.AsObject();

        var result = RequestScrubber.Scrub(body, Mixed);

        Assert.Equal(
            [
                "meta.[REDACTED:email] (name)", "meta.[REDACTED:email].x.y[1][0]", "meta.[REDACTED:email] (name)", "meta.[REDACTED:email]#2.",
                "messages[1].content",
            ],
            result.Hits.Select(h => h.Path));
        Assert.Equal(result.Hits.Select(h => h.Path), result.Hits.Select(h => h.Path));
        Assert.Equal(result.Hits[1], result.Hits[1]);
        Assert.NotEqual(result.Hits[1], result.Hits[4]);
    }

    /// <summary>The hits with their paths, read after the walk, and the body after it; or the refusal to read the body.</summary>
    private static string Outcome(string json, bool shortcuts)
    {
        try
        {
            var body = JsonNode.Parse(json)!.AsObject();
            var result = RequestScrubber.Scrub(body, Mixed, null, shortcuts);
            return string.Join(";", result.Hits.Select(h => $"{h.Path}:{h.Hit.Detector}:{h.Hit.Start}:{h.Hit.Length}")) + "|" + body.ToJsonString();
        }
        catch (InvalidOperationException e)
        {
            return e.GetType().Name;
        }
    }
}
