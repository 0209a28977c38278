using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// Recording and redacting hits take shortcuts that must not change a thing: findings already in start order with no
/// overlap are kept as they come (no sort, no new list), and a scrub's hits and counts are gathered in arrays of their
/// own sizes. Generated findings are resolved with and without the shortcut; generated requests with hits at their
/// ends, side by side, in several fields, behind escapes and surrogate pairs, are scrubbed with every shortcut and
/// without, and the text applied through <see cref="DataBoundaryPolicy.Apply(string)"/> holds its hits where they are.
/// </summary>
public class HitRecordingPropertyTests
{
    private static readonly DataBoundaryPolicy Mixed = TestPolicies.MixedWithAnswers;

    /// <summary>Findings: half of them built in start order and apart (the shortcut's case), half anywhere (overlapping, out of order, touching).</summary>
    private static readonly Gen<Finding[]> Findings = Gen.OneOf(
        Gen.Select(Gen.Int[0, Mixed.DetectorCount - 1], Gen.Int[0, 4], Gen.Int[1, 12]).Array[0, 8].Select(parts =>
        {
            var at = 0;
            return parts.Select(p =>
            {
                var f = new Finding(p.Item1, at + p.Item2, p.Item3);
                at = f.End;
                return f;
            }).ToArray();
        }),
        Gen.Select(Gen.Int[0, Mixed.DetectorCount - 1], Gen.Int[0, 40], Gen.Int[1, 12]).Array[0, 8]
            .Select(parts => parts.Select(p => new Finding(p.Item1, p.Item2, p.Item3)).ToArray()));

    [Fact]
    public void Findings_in_order_and_apart_are_kept_as_the_sort_keeps_them() =>
        Findings.Sample(findings =>
        {
            var fast = Mixed.KeepNonOverlapping([.. findings], out var fastLost, shortcuts: true);
            var full = Mixed.KeepNonOverlapping([.. findings], out var fullLost, shortcuts: false);
            return fast.SequenceEqual(full) && fastLost == fullLost;
        }, iter: 5000);

    /// <summary>Texts as JSON spells them: hits of every kind, escapes, surrogate pairs, separators and filler.</summary>
    private static readonly string[] Pieces =
    [
        "dana.lee@example.org", "x@y.co", "a\\u0040b.co", "4111 1111 1111 1111", "+44 20 7946 0958", "020 7946 0958", "078-05-1120",
        "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE", "2026-11-18", "55213", " ", ", ", "; ", "\\n", "\\\"", "\\u00e9", "\u00e9",
        "\U0001F600", "\\ud83d\\ude00", "\u00a0", "\uff20", "word ", "The parcel was due on Tuesday but it is still at the depot. ",
    ];

    private static readonly Gen<string> Text = Gen.Int[0, Pieces.Length - 1].Array[1, 14].Select(p => string.Concat(p.Select(i => Pieces[i])));

    /// <summary>A chat request with one to four messages, each long enough for some to go back as UTF-8 (see <see cref="RedactedValues.Utf8"/>).</summary>
    private static readonly Gen<string> Request = Gen.Select(Text, Gen.Int[0, 3]).Array[1, 4].Select(messages =>
        "{\"model\":\"m\",\"messages\":[" + string.Join(",", messages.Select(m =>
            $"{{\"role\":\"user\",\"content\":\"{string.Concat(Enumerable.Repeat(m.Item1, 1 + m.Item2 * 4))}\"}}")) + "],\"user\":\"" + "x@y.co\"}");

    [Fact]
    public void A_scrub_records_and_redacts_the_hits_as_the_scrub_without_shortcuts_does() =>
        Request.Sample(json =>
        {
            var fast = JsonNode.Parse(json)!.AsObject();
            var full = JsonNode.Parse(json)!.AsObject();
            var written = JsonNode.Parse(json)!.AsObject();
            var a = Describe(RequestScrubber.Scrub(fast, Mixed, null, shortcuts: true));
            var b = Describe(RequestScrubber.Scrub(full, Mixed, null, shortcuts: false));
            var c = Describe(RequestScrubber.Scrub(written, Mixed, null, RedactedValues.Utf8));
            var sent = JsonNode.Parse(ScrubbedBody.ToUtf8Bytes(written));
            return a == b && a == c && fast.ToJsonString() == full.ToJsonString() && JsonNode.DeepEquals(sent, JsonNode.Parse(full.ToJsonString()));
        }, iter: 2000);

    /// <summary>
    /// A scrub gathers its hits and counts in pooled arrays and hands over copies: held against each message's text applied
    /// on its own (<see cref="DataBoundaryPolicy.Apply(string)"/>, which records no field and pools nothing), in requests
    /// with up to a few dozen hits (more than the first pooled array holds), and a result kept while the next scrubs run
    /// (which take the same arrays from the pool) stays as it was.
    /// </summary>
    [Fact]
    public void A_scrub_reports_each_messages_hits_as_its_text_alone_has_them_and_keeps_them() =>
        Gen.Select(Text, Gen.Int[0, 3]).Array[1, 12].Sample(messages =>
        {
            var json = "{\"model\":\"m\",\"messages\":[" + string.Join(",", messages.Select(m =>
                $"{{\"role\":\"user\",\"content\":\"{string.Concat(Enumerable.Repeat(m.Item1, 1 + m.Item2 * 4))}\"}}")) + "]}";
            var body = JsonNode.Parse(json)!.AsObject();
            var texts = body["messages"]!.AsArray().Select(m => m!["content"]!.GetValue<string>()).ToArray();
            var result = RequestScrubber.Scrub(body, Mixed, null, RedactedValues.Utf8);
            var before = Describe(result);
            var again = Describe(RequestScrubber.Scrub(JsonNode.Parse(json)!.AsObject(), Mixed));
            var alone = texts.Select(t => Mixed.Apply(t)).ToArray();
            var hits = alone.SelectMany((r, i) => r.Hits.Select(h => $"messages[{i}].content:{h.Detector}:{h.Action}:{h.Start}:{h.Length}"));
            var counts = alone.SelectMany(r => r.Counts).GroupBy(c => c.Detector).OrderBy(g => Mixed.IndexOf(g.Key))
                .Select(g => $"{g.Key}:{(g.Any(c => c.Action == BoundaryAction.Block) ? BoundaryAction.Block : BoundaryAction.Redact)}:{g.Sum(c => c.Count)}");
            var blockedBy = alone.SelectMany(r => r.BlockedBy).Distinct().OrderBy(Mixed.IndexOf);
            return before == $"{string.Join(";", hits)}|{string.Join(";", counts)}|{string.Join(";", blockedBy)}|"
                && Describe(result) == before && again == before;
        }, iter: 1500);

    [Fact]
    public void Apply_puts_each_placeholder_where_its_hit_was_and_counts_what_it_reports() =>
        Text.Sample(escaped =>
        {
            var text = JsonSerializer.Deserialize<string>($"\"{escaped}\"")!;
            var result = Mixed.Apply(text);
            var scan = Mixed.ScanWithoutShortcuts(text);
            var expected = new StringBuilder();
            var from = 0;
            foreach (var f in scan.Kept)
            {
                expected.Append(text, from, f.Start - from).Append("[REDACTED:").Append(Mixed.DetectorName(f.Detector)).Append(']');
                from = f.End;
            }
            expected.Append(text, from, text.Length - from);
            var counted = result.Hits.GroupBy(h => h.Detector).Sum(g => result.Counts.Single(c => c.Detector == g.Key).Count == g.Count() ? 0 : 1);
            var blocked = result.Hits.Where(h => h.Action == BoundaryAction.Block).Select(h => h.Detector).Distinct().Order(StringComparer.Ordinal);
            return result.Text == expected.ToString()
                && result.Hits.Select(h => (h.Start, h.Length)).SequenceEqual(scan.Kept.Select(f => (f.Start, f.Length)))
                && counted == 0 && result.Counts.Count == result.Hits.Select(h => h.Detector).Distinct().Count()
                && blocked.SequenceEqual(result.BlockedBy.Order(StringComparer.Ordinal)) && result.Blocked == blocked.Any();
        }, iter: 3000);

    /// <summary>Everything a scrub reports, as one comparable text: each hit with its path and span, counts, refusals.</summary>
    private static string Describe(ScrubResult result) =>
        string.Join(";", result.Hits.Select(h => $"{h.Path}:{h.Hit.Detector}:{h.Hit.Action}:{h.Hit.Start}:{h.Hit.Length}"))
        + "|" + string.Join(";", result.Counts.Select(c => $"{c.Detector}:{c.Action}:{c.Count}"))
        + "|" + string.Join(";", result.BlockedBy) + "|" + string.Join(";", result.Uninspectable);
}
