using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pilotage.Server.Storage;
using Pilotage.Server.Tests.Gateway;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// The walk-arounds of the data boundary, tried against a real server: a card number blocked as "4111 1111 1111 1111"
/// in every other spelling, in every field that reaches the model, in a CSV import, in text added to the evidence,
/// and coming back in the model's answer, whole or streamed. Each is refused or redacted, and nothing of it is sent
/// upstream or stored.
/// </summary>
public sealed class DataBoundaryAttackTests
{
    private const string Blocking = """
          dataBoundary:
            block: [credit_card, secret]
            redact: [email]
        """;

    private const string Card = "4111 1111 1111 1111";

    public static TheoryData<string, string> Spellings() => new()
    {
        { "dots", "4111.1111.1111.1111" },
        { "slashes", "4111/1111/1111/1111" },
        { "underscores", "4111_1111_1111_1111" },
        { "no-break spaces", "4111\u00a01111\u00a01111\u00a01111" },
        { "en dashes", "4111\u20131111\u20131111\u20131111" },
        { "zero-width characters inside", "41\u200b11 11\u200d11 1111\u2060 1111" },
        { "fullwidth digits", "\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11" },
        { "Arabic-Indic digits", "\u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661" },
        { "mixed separators and scripts", "\u0664111 - 1111.\uff11111_1111" },
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public async Task Every_spelling_of_a_blocked_card_number_is_refused(string spelling, string card)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody($"my card is {card}, thanks"));
        await AssertBlockedAsync(h, response, spelling);
        Assert.Empty(h.Upstream.Received);
    }

    public static TheoryData<string, string> Fields() => new()
    {
        { "user", $$$"""{"user":"{{{Card}}}","messages":[{"role":"user","content":"hi"}]}""" },
        { "metadata", $$$"""{"metadata":{"note":"{{{Card}}}"},"messages":[{"role":"user","content":"hi"}]}""" },
        { "message name", $$$"""{"messages":[{"role":"user","name":"{{{Card}}}","content":"hi"}]}""" },
        { "tool call arguments", $$$"""{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"pay","arguments":"{\"card\":\"{{{Card}}}\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}]}""" },
        { "tool result", $$$"""{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"card on file: {{{Card}}}"}]}""" },
        { "content part", $$$"""{"messages":[{"role":"user","content":[{"type":"text","text":"card {{{Card}}}"}]}]}""" },
        { "responses instructions", $$$"""{"instructions":"card {{{Card}}}","messages":[{"role":"user","content":"hi"}]}""" },
        { "anthropic system", $$$"""{"system":[{"type":"text","text":"card {{{Card}}}"}],"messages":[{"role":"user","content":"hi"}]}""" },
        { "legacy prompt", $$$"""{"prompt":"card {{{Card}}}","messages":[{"role":"user","content":"hi"}]}""" },
        { "tool definition", $$$"""{"tools":[{"type":"function","function":{"name":"pay","description":"pays with {{{Card}}}"}}],"messages":[{"role":"user","content":"hi"}]}""" },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_blocked_card_number_is_refused_in_every_field_that_reaches_the_model(string field, string json)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var body = JsonNode.Parse(json)!.AsObject();
        body["model"] = GatewayHarness.System;
        using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        var response = await h.Member.PostAsync("/v1/chat/completions", content);
        await AssertBlockedAsync(h, response, field);
        Assert.Empty(h.Upstream.Received);
    }

    /// <summary>The card as JSON escapes can spell it in the raw body the client sends: in a value, or in a key.</summary>
    public static TheoryData<string, string> EscapedBodies() => new()
    {
        { "a digit escaped", """{"messages":[{"role":"user","content":"card \u0034111 1111 1111 1111"}]}""" },
        { "every digit and separator escaped", """{"messages":[{"role":"user","content":"\u0034\u0031\u0031\u0031\u00a0\u0031\u0031\u0031\u0031\u00a0\u0031\u0031\u0031\u0031\u00a0\u0031\u0031\u0031\u0031"}]}""" },
        { "math bold digits as escaped surrogate pairs", """{"messages":[{"role":"user","content":"card \ud835\udfd2\ud835\udfcf\ud835\udfcf\ud835\udfcf 1111 1111 1111 ok"}]}""" },
        { "in a key", """{"metadata":{"4111 1111 1111 1111":"x"},"messages":[{"role":"user","content":"hi"}]}""" },
        { "in an escaped key", """{"metadata":{"\u0034111\u00a01111\u00a01111\u00a01111":"x"},"messages":[{"role":"user","content":"hi"}]}""" },
    };

    [Theory]
    [MemberData(nameof(EscapedBodies))]
    public async Task A_card_spelled_with_json_escapes_is_refused(string what, string json)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var response = await h.Member.PostAsync("/v1/chat/completions", Raw(json));
        await AssertBlockedAsync(h, response, what);
        Assert.Empty(h.Upstream.Received);
    }

    [Theory]
    [InlineData("half a surrogate pair in the content", """{"messages":[{"role":"user","content":"\ud800 4111 1111 1111 1111"}]}""")]
    [InlineData("half a surrogate pair in a key", """{"metadata":{"\udc00":"x"},"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("an escape JSON does not have", """{"messages":[{"role":"user","content":"\x34111 1111 1111 1111"}]}""")]
    [InlineData("a cut \\u escape", """{"messages":[{"role":"user","content":"\u03"}]}""")]
    public async Task A_bad_escape_is_a_400_naming_it_with_the_boundary_on(string what, string json)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var response = await h.Member.PostAsync("/v1/chat/completions", Raw(json));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {text}");
        Assert.StartsWith("invalid_", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString(), StringComparison.Ordinal);
        Assert.Empty(h.Upstream.Received);
    }

    [Fact]
    public async Task An_address_spelled_with_escapes_is_redacted_and_the_rest_is_sent_as_it_decodes()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var response = await h.Member.PostAsync("/v1/chat/completions",
            Raw("""{"messages":[{"role":"user","content":"\ud83d\ude00 write to dana\u0040example.org, caf\u00e9 \"ok\""}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("\U0001F600 write to [REDACTED:email], caf\u00e9 \"ok\"", (string?)h.Upstream.LastRequest["messages"]!.AsArray()[^1]!["content"]);
        Assert.DoesNotContain("example", h.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_long_message_redacted_from_its_bytes_is_sent_and_recorded_as_it_decodes_without_the_address()
    {
        // Long enough to be written from the request's own UTF-8 (RedactedValues.Utf8): escapes, accents and emoji on
        // both sides of the hit, an '@' and a '+' escaped.
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var prose = string.Concat(Enumerable.Repeat(@"caf\u00e9 \""ok\"" \\ \n ", 30));
        var response = await h.Member.PostAsync("/v1/chat/completions", Raw(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"" + prose + @"\ud83d\ude00dana\u0040example.org\ud83d\ude00 ref \u002b44." + prose + "\"}]}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var decoded = JsonNode.Parse("\"" + prose + "\"")!.GetValue<string>();
        var expected = decoded + "\U0001F600[REDACTED:email]\U0001F600 ref +44." + decoded;
        Assert.Equal(expected, (string?)h.Upstream.LastRequest["messages"]!.AsArray()[^1]!["content"]);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(expected, (string?)JsonNode.Parse(record.RequestContent!)!["messages"]!.AsArray()[^1]!["content"]);
        Assert.DoesNotContain("example", record.RequestContent, StringComparison.Ordinal);
        Assert.DoesNotContain("example", h.Upstream.LastRequest.ToJsonString(), StringComparison.Ordinal);
    }

    /// <summary>A raw chat body as written (escapes and all), for the harness's system.</summary>
    private static StringContent Raw(string json) =>
        new("{\"model\":\"" + GatewayHarness.System + "\"," + json[1..], Encoding.UTF8, "application/json");

    [Fact]
    public async Task Embeddings_input_is_scanned_in_every_spelling()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var response = await h.Member.PostAsJsonAsync("/v1/embeddings", new { model = GatewayHarness.System, input = new[] { "fine", "4111\u00a01111\u00a01111\u00a01111" } });
        await AssertBlockedAsync(h, response, "embeddings");
        Assert.Empty(h.Upstream.Received);
    }

    [Fact]
    public async Task A_secret_in_tool_arguments_is_refused_and_an_address_in_a_name_is_redacted()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var withKey = await h.Member.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = GatewayHarness.System,
            messages = new object[] { new { role = "user", content = "deploy", name = "ops" }, new { role = "assistant", content = "ok", tool_calls = new[] { new { id = "c", type = "function", function = new { name = "deploy", arguments = "{\"key\":\"AKIAIOSFODNN7EXAMPLE\"}" } } } } },
        });
        await AssertBlockedAsync(h, withKey, "secret", "secret");

        var withAddress = await h.Member.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = GatewayHarness.System,
            user = "dana\uff20example.org",
            messages = new object[] { new { role = "user", content = "hi", name = "lee@example.com" } },
        });
        Assert.Equal(HttpStatusCode.OK, withAddress.StatusCode);
        var sent = h.Upstream.LastRequest.ToJsonString();
        Assert.DoesNotContain("example", sent, StringComparison.Ordinal);
        Assert.Equal("[REDACTED:email]", (string?)h.Upstream.LastRequest["user"]);
    }

    [Fact]
    public async Task A_csv_import_holding_a_blocked_number_is_refused_with_its_row_named_and_redacted_text_is_stored_redacted()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var csv = "prompt,answer,timestamp\nplease refund,done,2026-03-01\ncharge 4111\u00a01111\u00a01111\u00a01111,ok,2026-03-02\n";
        // All or nothing: the blocked row refuses the file.
        var refused = await h.Owner.PostAsync($"/api/v1/systems/{GatewayHarness.System}/import?atomic=true", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var text = await refused.Content.ReadAsStringAsync();
        Assert.True(refused.StatusCode == HttpStatusCode.UnprocessableEntity, text);
        Assert.Contains("row 3, prompt", text, StringComparison.Ordinal);
        Assert.Contains("credit_card", text, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", text, StringComparison.Ordinal);
        Assert.Equal(0, await h.InteractionCountAsync());

        // By default the blocked row alone is refused, named without its value, and the other row is recorded.
        var partial = await h.Owner.PostAsync($"/api/v1/systems/{GatewayHarness.System}/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var partialText = await partial.Content.ReadAsStringAsync();
        Assert.True(partial.StatusCode == HttpStatusCode.OK, partialText);
        Assert.Contains("\"rejected\":1", partialText, StringComparison.Ordinal);
        Assert.Contains("credit_card", partialText, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", partialText, StringComparison.Ordinal);
        Assert.Equal(1, await h.InteractionCountAsync());

        var redacted = await h.Owner.PostAsync($"/api/v1/systems/{GatewayHarness.System}/import",
            new StringContent("prompt,answer,timestamp\nwrite to dana\uff20example.org,sent,2026-03-01\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, redacted.StatusCode);
        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        var row = await db.Interactions.AsNoTracking().SingleAsync(i => i.RequestContent != "please refund");
        Assert.Equal("write to [REDACTED:email]", row.RequestContent);
    }

    [Fact]
    public async Task Review_final_texts_feedback_and_incident_notes_pass_the_boundary()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: Blocking);
        var served = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("hello"));
        var id = served.Headers.GetValues("x-pilotage-interaction-id").Single();

        var review = await h.Owner.PostAsJsonAsync($"/v1/interactions/{id}/review", new { outcome = "edited", final_text = "Refund to 4111.1111.1111.1111 done." });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, review.StatusCode);
        Assert.Contains("final_text", await review.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var feedback = await h.Member.PostAsJsonAsync($"/v1/interactions/{id}/feedback", new { rating = 1, comment = "my card \u0664\u0661\u0661\u0661 1111 1111 1111 leaked" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, feedback.StatusCode);

        var redactedFeedback = await h.Member.PostAsJsonAsync($"/v1/interactions/{id}/feedback", new { rating = 1, comment = "mail me at dana@example.org" });
        Assert.True(redactedFeedback.IsSuccessStatusCode, await redactedFeedback.Content.ReadAsStringAsync());

        var incident = await h.Member.PostAsJsonAsync("/api/v1/incidents", new { system = GatewayHarness.System, kind = "complaint", severity = "low", title = "leak", description = "it showed 4111_1111_1111_1111" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, incident.StatusCode);

        await using var db = h.Server.App.Services.GetRequiredService<PilotageStore>().CreateDbContext();
        Assert.Empty(await db.Reviews.AsNoTracking().ToListAsync());
        Assert.Equal("mail me at [REDACTED:email]", (await db.Feedback.AsNoTracking().SingleAsync()).Comment);
        Assert.Empty(await db.Incidents.AsNoTracking().ToListAsync());
    }

    private const string AnswersRedacted = """
          dataBoundary:
            redact: [credit_card, email]
            answers: redact
        """;

    [Fact]
    public async Task A_card_number_in_the_answer_is_redacted_before_the_client_and_the_evidence_see_it()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: AnswersRedacted);
        h.Upstream.AnswerText = "Your card 4111\u00a01111\u00a01111\u00a01111 is on file; write to dana@example.org.";
        var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("which card?"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Your card [REDACTED:credit_card] is on file; write to [REDACTED:email].",
            JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.DoesNotContain("1111", record.ResponseContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_card_number_split_across_streamed_chunks_is_redacted_and_the_stream_still_streams()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: AnswersRedacted);
        // The fake upstream sends one word per chunk: the number arrives in four pieces.
        h.Upstream.AnswerText = "Your card 4111 1111 1111 1111 is on file and your address dana@example.org too, as you asked earlier today.";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("which card?", stream: true)) };
        using var response = await h.Member.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var answer = new StringBuilder();
        var withText = 0;
        foreach (var e in events)
        {
            var data = e["data: ".Length..];
            if (data == "[DONE]") continue;
            foreach (var choice in JsonNode.Parse(data)!["choices"]!.AsArray())
            {
                if (choice!["delta"]?["content"]?.GetValue<string>() is { Length: > 0 } piece)
                {
                    answer.Append(piece);
                    withText++;
                }
            }
        }
        Assert.Equal("Your card [REDACTED:credit_card] is on file and your address [REDACTED:email] too, as you asked earlier today.", answer.ToString());
        Assert.True(withText > 1, "the answer arrived in one piece: the boundary must not turn a stream into one message");
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.DoesNotContain("1111", record.ResponseContent, StringComparison.Ordinal);
        Assert.DoesNotContain("dana@", record.ResponseContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_answers_block_an_answer_holding_a_blocked_number_is_withheld_whole_or_streamed()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full", extra: """
              dataBoundary:
                block: [credit_card]
                answers: block
            """);
        h.Upstream.AnswerText = "Sure, the card is 4111-1111-1111-1111.";
        var whole = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("card?"));
        var wholeText = await whole.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, whole.StatusCode);
        Assert.Equal("data_boundary_answer_blocked", JsonDocument.Parse(wholeText).RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.DoesNotContain("1111", wholeText, StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(GatewayHarness.ChatBody("card?", stream: true)) };
        using var streamed = await h.Member.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await streamed.Content.ReadAsStringAsync();
        Assert.Contains("data_boundary_answer_blocked", body, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
    }

    private static async Task AssertBlockedAsync(GatewayHarness h, HttpResponseMessage response, string what, string detector = "credit_card")
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{what}: {(int)response.StatusCode} {text}");
        Assert.Equal("data_boundary_blocked", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("code").GetString());
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Contains($"\"{detector}\":{{\"count\":", record.DetectorHits, StringComparison.Ordinal);
        Assert.DoesNotContain("1111", record.RequestContent ?? "", StringComparison.Ordinal);
    }
}
