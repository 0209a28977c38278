using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using Pilotage.Core.DataBoundary;
using Pilotage.Core.Specs;

namespace Pilotage.Core.Tests.DataBoundary;

/// <summary>
/// With <see cref="RedactedValues.Utf8"/> a long redacted message goes back as the request's own escaped UTF-8 between
/// the hits, cut at byte offsets mapped from the text's UTF-16 offsets. Held to the string redaction: whatever a client
/// escapes or spells outside ASCII (an escaped '@' or digit, quotes and backslashes, accents, surrogate pairs literal or
/// escaped), the body written is the same JSON as with strings, with the same hits, and no hit's text in it.
/// </summary>
public sealed class RedactedUtf8Tests
{
    private static readonly DataBoundaryPolicy Policy = DataBoundaryPolicy.From(new DataBoundarySpec
    {
        Block = ["credit_card", "iban", "secret", "us_ssn", "uk_nino", "eu_vat"],
        Redact = ["email", "phone"],
    });

    private static readonly DataBoundaryPolicy RedactAll = DataBoundaryPolicy.From(new DataBoundarySpec { Redact = [.. DataBoundaryPolicy.BuiltInDetectors] });

    /// <summary>Pieces of a message as JSON spells them: prose, hits, escapes, other scripts, emoji literal and escaped.</summary>
    private static readonly string[] Pieces =
    [
        "The parcel was due on Tuesday. ", "order 55213 ", "caf\u00e9 ", "\u4e2d\u6587 ", "\U0001F600", "\\ud83d\\ude00", "\\u00e9", "\\n", "\\t", "\\\"", "\\\\", "\\/",
        "dana.lee@example.org", "dana\\u0040example.org", "d\u00f6rte@ex\u00e4mple.de", "+44 20 7946 0958", "\\u002b44 20 7946 0958", "\\u0034111 1111 1111 1111",
        "4111 1111 1111 1111", "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE", "078-05-1120", " ", ", ", ".", "x", "\U0001D41A@b.co",
        "a@b.co\\ud83d\\ude00", "\\ud83d\\ude00a@b.co", "a@b.co\U0001F600", "\U0001F600a@b.co", "a@b.co\\n", "\\na@b.co",
    ];

    private static readonly Gen<string> Message = Gen.Int[0, Pieces.Length - 1].Array[1, 60].Select(p => string.Concat(p.Select(i => Pieces[i])));

    private static string Chat(string escaped, string filler) =>
        $$"""{"model":"m","messages":[{"role":"system","content":"{{filler}}"},{"role":"user","content":"{{escaped}}"},{"role":"user","content":[{"type":"text","text":"{{escaped}} {{filler}}"}]}]}""";

    private static readonly string Filler = string.Concat(Enumerable.Repeat("Please answer politely and briefly. ", 8));

    [Fact]
    public void A_message_written_from_its_utf8_is_the_message_redacted_as_a_string() =>
        Gen.Select(Message, Gen.Int[0, 1]).Sample((message, pad) =>
        {
            // Padded or not: short texts stay strings, long ones take the UTF-8 path; both must read the same.
            var json = Chat(pad == 1 ? Filler + message : message, Filler);
            return Same(Policy, json) && Same(RedactAll, json);
        }, iter: 2000);

    [Fact]
    public void A_body_with_no_message_written_from_its_utf8_is_written_byte_for_byte_as_the_serializer_writes_it() =>
        Message.Sample(message =>
        {
            // The gateway's writer replaced JsonSerializer's: what it sends and records is otherwise unchanged.
            var body = JsonNode.Parse(Chat(message, Filler))!.AsObject();
            RequestScrubber.Scrub(body, Policy, null, RedactedValues.Strings);
            body["messages"]!.AsArray().Add(new JsonObject { ["role"] = "user", ["content"] = "caf\u00e9 <b>&'\"\U0001F600", ["n"] = 1.5 });
            return ScrubbedBody.ToUtf8Bytes(body).AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(body));
        }, iter: 500);

    [Theory]
    [InlineData(@"write to dana\u0040example.org today", "email")]
    [InlineData(@"\ud83d\ude00dana@example.org\ud83d\ude00", "email")]
    [InlineData("\U0001F600dana@example.org\U0001F600", "email")]
    [InlineData(@"call \u002b44 20 7946 0958\n now", "phone")]
    [InlineData(@"\""dana@example.org\"" \\ \/", "email")]
    [InlineData("d\u00f6rte@ex\u00e4mple.de and \u4e2d\u6587", "email")]
    [InlineData(@"caf\u00e9 \u00e9 dana@example.org\t\u00e9", "email")]
    [InlineData(@"\u0064\u0061\u006e\u0061\u0040\u0065\u0078\u0061\u006d\u0070\u006c\u0065\u002e\u006f\u0072\u0067", "email")]
    public void A_hit_beside_escapes_and_other_scripts_is_cut_at_its_exact_bytes(string escaped, string detector)
    {
        var json = Chat(Filler + escaped + " " + Filler, Filler);
        var body = JsonNode.Parse(json)!.AsObject();
        var result = RequestScrubber.Scrub(body, Policy, null, RedactedValues.Utf8);

        Assert.Contains(result.Counts, c => c.Detector == detector);
        // The UTF-8 path was taken (the node is no string), so the comparison below tests it and not the fallback.
        Assert.False(((JsonValue)body["messages"]![1]!["content"]!).TryGetValue<string>(out _));
        Assert.True(Same(Policy, json), "the message written from its UTF-8 differs from the string redaction: " + Show(Policy, json));
        var sent = JsonNode.Parse(body.ToJsonString())!["messages"]![1]!["content"]!.GetValue<string>();
        Assert.Contains($"[REDACTED:{detector}]", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("example", sent, StringComparison.Ordinal);
        Assert.DoesNotContain("7946", sent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_text_a_key_other_than_a_message_s_text_or_a_text_set_in_code_stays_a_string()
    {
        var body = JsonNode.Parse($$"""{"model":"m","user":"{{Filler}} dana@example.org","messages":[{"role":"user","content":"dana@example.org"}]}""")!.AsObject();
        body["messages"]!.AsArray().Add(new JsonObject { ["role"] = "user", ["content"] = Filler + " dana@example.org" });
        RequestScrubber.Scrub(body, Policy, null, RedactedValues.Utf8);

        Assert.Equal(Filler + " [REDACTED:email]", body["user"]!.GetValue<string>());
        Assert.Equal("[REDACTED:email]", body["messages"]![0]!["content"]!.GetValue<string>());
        Assert.Equal(Filler + " [REDACTED:email]", body["messages"]![1]!["content"]!.GetValue<string>());
    }

    /// <summary>Pieces in plain ASCII with no escape: a message of them is cut at its units' own offsets, with no search.</summary>
    private static readonly string[] PlainPieces =
    [
        "The parcel was due on Tuesday. ", "order 55213 ", "dana.lee@example.org", "a@b.co", "+44 20 7946 0958", "4111 1111 1111 1111",
        "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE", "078-05-1120", " ", ", ", ".", "x",
    ];

    [Fact]
    public void A_plain_message_is_cut_where_the_mapping_cuts_it_and_written_as_the_string_redaction() =>
        Gen.Int[0, PlainPieces.Length - 1].Array[1, 60].Select(p => string.Concat(p.Select(i => PlainPieces[i]))).Sample(message =>
        {
            var raw = Encoding.UTF8.GetBytes($"\"{Filler}{message}\"");
            var found = Policy.Scan(Filler + message, null).Kept;
            var mapped = new int[2 * found.Count];
            var plain = found.SelectMany(f => new[] { f.Start + 1, f.End + 1 });
            return RedactedUtf8.Map(raw, found, mapped) && mapped.SequenceEqual(plain) && Same(Policy, Chat(Filler + message, Filler)) && Same(RedactAll, Chat(message, Filler));
        }, iter: 1000);

    [Theory]
    // A cut between the two units of a pair has no byte offset in UTF-8, and splits an escaped pair: refused, so a string is built.
    [InlineData("\"\\ud83d\\ude00ab\"", 1, false)]
    [InlineData("\"\U0001F600ab\"", 1, false)]
    [InlineData("\"\U0001F600ab\"", 2, true)]
    [InlineData("\"\\ud83d\\ude00ab\"", 2, true)]
    [InlineData("\"\\u00e9\u00e9\u4e2dab\"", 3, true)]
    public void A_cut_inside_a_surrogate_pair_is_refused(string raw, int at, bool mapped)
    {
        var cuts = new int[2];
        Assert.Equal(mapped, RedactedUtf8.Map(Encoding.UTF8.GetBytes(raw), [new Finding(0, at, 1)], cuts));
    }

    /// <summary>Both ways the same hits at the same paths, and the same JSON written (escapes may be spelled differently).</summary>
    /// <summary>A message with one hit keeps its cut in the node itself, one with more in an array: both write what a string would.</summary>
    [Theory]
    [InlineData("dana.lee@example.org ")]
    [InlineData(" dana.lee@example.org")]
    [InlineData("write to dana\\u0040example.org today \\ud83d\\ude00")]
    [InlineData("dana.lee@example.org and +44 20 7946 0958")]
    [InlineData("a@b.co, c@d.co, e@f.co and 020 7946 0958")]
    public void A_message_with_one_hit_or_several_is_written_as_its_string_redaction(string escaped)
    {
        var json = Chat(Filler + escaped + Filler, Filler);
        var body = JsonNode.Parse(json)!.AsObject();
        RequestScrubber.Scrub(body, Policy, null, RedactedValues.Utf8);
        var written = Encoding.UTF8.GetString(ScrubbedBody.ToUtf8Bytes(body));
        Assert.True(Same(Policy, json), Show(Policy, json));
        Assert.DoesNotContain("example.org", written, StringComparison.Ordinal);
        Assert.DoesNotContain("7946", written, StringComparison.Ordinal);
        Assert.Contains("[REDACTED:email]", written, StringComparison.Ordinal);
    }

    private static bool Same(DataBoundaryPolicy policy, string json)
    {
        var asStrings = JsonNode.Parse(json)!.AsObject();
        var asUtf8 = JsonNode.Parse(json)!.AsObject();
        var a = Describe(RequestScrubber.Scrub(asStrings, policy, null, RedactedValues.Strings));
        var b = Describe(RequestScrubber.Scrub(asUtf8, policy, null, RedactedValues.Utf8));
        var expected = JsonNode.Parse(asStrings.ToJsonString());
        // As the gateway writes it, and as a reflection-based serializer does (the node names its converter).
        return a == b && JsonNode.DeepEquals(expected, JsonNode.Parse(ScrubbedBody.ToUtf8Bytes(asUtf8)))
            && JsonNode.DeepEquals(expected, JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(asUtf8)))
            && JsonNode.DeepEquals(expected, JsonNode.Parse(asUtf8.ToJsonString()));
    }

    private static string Show(DataBoundaryPolicy policy, string json)
    {
        var asStrings = JsonNode.Parse(json)!.AsObject();
        var asUtf8 = JsonNode.Parse(json)!.AsObject();
        var a = Describe(RequestScrubber.Scrub(asStrings, policy, null, RedactedValues.Strings));
        var b = Describe(RequestScrubber.Scrub(asUtf8, policy, null, RedactedValues.Utf8));
        return a + "\n" + b + "\n" + asStrings.ToJsonString() + "\n" + Encoding.UTF8.GetString(ScrubbedBody.ToUtf8Bytes(asUtf8));
    }

    private static string Describe(ScrubResult result) =>
        string.Join(";", result.Hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Path}:{h.Hit.Detector}:{h.Hit.Start}:{h.Hit.Length}")))
        + "|" + string.Join(";", result.Counts.Select(c => $"{c.Detector}:{c.Action}:{c.Count}"));
}
