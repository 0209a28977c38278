using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsCheck;
using Pilotage.Core.Tests.Fuzz;
using Pilotage.Server.Tests.Gateway;
using Pilotage.Testing;

namespace Pilotage.Server.Tests.Security;

/// <summary>
/// Answers no real model should send, through the real gateway: fields of the wrong type, text that cannot be
/// decoded, function names that are not text, a stream that never ends. Each ends in an answer or an upstream
/// error (502) with its evidence record, never a 500 or a broken connection; read-only mode fails closed on a
/// call it cannot identify; reviewers can still open what was held.
/// </summary>
public class HostileUpstreamTests
{
    private const string ReadOnly = "  tools:\n    sideEffecting: [send_email]";
    private const string ValidAnswer = """{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"We will refund it."},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":5}}""";
    private const string ToolCallAnswer = """{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup_order","arguments":"{}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":12,"completion_tokens":5}}""";

    public static TheoryData<string, string, int, string> Answers => new()
    {
        { "a choice that is a number, token counts that are text", """{"choices":[5],"usage":{"prompt_tokens":"12","completion_tokens":1e30}}""", 200, "served" },
        { "a message that is text", """{"choices":[{"message":"hello"}]}""", 200, "served" },
        { "content that is half a surrogate pair", """{"choices":[{"message":{"role":"assistant","content":"refund \ud800"}}]}""", 200, "served" },
        { "tool_calls that is not a list", """{"choices":[{"message":{"tool_calls":"send_email"}}]}""", 200, "served" },
        { "a tool call to an allowed function", ToolCallAnswer, 200, "served" },
        { "a tool call whose name is a number", """{"choices":[{"message":{"tool_calls":[{"function":{"name":7}}]}}]}""", 502, "failed" },
        { "a tool call whose name cannot be decoded", """{"choices":[{"message":{"tool_calls":[{"function":{"name":"send_\udc00"}}]}}]}""", 502, "failed" },
        { "a legacy function_call to a side-effecting function", """{"choices":[{"message":{"function_call":{"name":"send_email","arguments":"{}"}}}]}""", 403, "refused" },
        { "tool_calls twice, the second calling a side-effecting function", """{"choices":[{"message":{"tool_calls":[],"tool_calls":[{"function":{"name":"send_email"}}]}}]}""", 502, "failed" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task A_strange_answer_in_read_only_mode_is_served_refused_or_a_502_with_its_record(string what, string answer, int status, string outcome)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "read_only", extra: ReadOnly);
        h.Upstream.RawAnswer = answer;
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my parcel?"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == (int)response.StatusCode, $"{what}: {(int)response.StatusCode} {text}");
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(outcome, record.Outcome);
        if (status == 502)
        {
            Assert.Equal("upstream_malformed", record.RefusalCode);
            Assert.Contains("read-only", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        h.Upstream.RawAnswer = null;
        await HostileRequestTests.AssertHealthyAsync(h);
    }

    public static TheoryData<string, string, string> StreamEvents => new()
    {
        { "a chunk that is a list", "[1,2]", "upstream_malformed" },
        { "content that is half a surrogate pair", """{"choices":[{"delta":{"content":"refund \ud800"}}]}""", "[DONE]" },
        { "a delta that is text and token counts of the wrong type", """{"choices":[{"delta":"x"},7],"usage":{"prompt_tokens":1.5,"completion_tokens":"x"}}""", "[DONE]" },
        { "a legacy function_call to a side-effecting function", """{"choices":[{"delta":{"function_call":{"name":"send_email"}}}]}""", "side_effect_blocked" },
        { "a tool call whose name is a number", """{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":5}}]}}]}""", "upstream_malformed" },
        { "the same key twice", """{"choices":[],"choices":[{"delta":{"content":"x"}}]}""", "upstream_malformed" },
    };

    [Theory]
    [MemberData(nameof(StreamEvents))]
    public async Task A_strange_stream_in_read_only_mode_ends_with_DONE_or_an_error_event_and_its_record(string what, string data, string expected)
    {
        await using var h = await GatewayHarness.StartAsync(mode: "read_only", extra: ReadOnly);
        h.Upstream.RawStreamEvents = ["""{"choices":[{"delta":{"role":"assistant","content":"Hello"}}]}""", data];
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my parcel?", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(HttpStatusCode.OK == response.StatusCode, $"{what}: {(int)response.StatusCode} {body}");
        Assert.Contains(expected, body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(expected switch { "[DONE]" => "served", "side_effect_blocked" => "refused", _ => "failed" }, record.Outcome);
        if (expected.StartsWith("upstream_", StringComparison.Ordinal)) Assert.Equal(expected, record.RefusalCode);
        if (expected == "[DONE]") Assert.StartsWith("Hello", record.ResponseContent, StringComparison.Ordinal);
        else Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        h.Upstream.RawStreamEvents = null;
        await HostileRequestTests.AssertHealthyAsync(h);
    }

    [Fact]
    public async Task A_stream_line_that_never_ends_is_cut_at_the_answer_size_limit()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "full");
        h.Upstream.Behaviour = UpstreamBehaviour.EndlessLine;
        using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Tell me everything", stream: true));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("upstream_truncated", body, StringComparison.Ordinal);
        Assert.Contains("larger than 32 MB", body, StringComparison.Ordinal);
        var record = await h.InteractionAsync(response.Headers.GetValues("x-pilotage-interaction-id").Single());
        Assert.Equal(("failed", "upstream_truncated"), (record.Outcome, record.RefusalCode));
        // The gateway let go of the upstream call: the fake model's handler ends only when its connection closes
        // (a gateway still reading would keep it writing until the total time-out, 120 s).
        for (var wait = 0; wait < 100 && h.Upstream.InFlight > 0; wait++) await Task.Delay(100);
        Assert.Equal(0, h.Upstream.InFlight);
        h.Upstream.Behaviour = UpstreamBehaviour.Answer;
        await HostileRequestTests.AssertHealthyAsync(h);
    }

    [Fact]
    public async Task Held_answers_of_any_shape_can_be_opened_and_released_by_a_reviewer()
    {
        await using var h = await GatewayHarness.StartAsync(mode: "approval");
        var reviewer = h.Server.ClientFor(await h.Server.CreateKeyAsync("rita@example.org"));
        string[] answers =
        [
            """{"choices":[5]}""",
            """{"choices":[{"message":"hello"}]}""",
            """{"choices":[{"message":{"content":[1,"x",{"text":"refund \ud800"}]}}]}""",
            """{"choices":[{"message":{"content":"refund \udc00"},"finish_reason":7}]}""",
            """{"choices":[{"message":{"content":"refund","\ud800":1}}]}""",
            """{"choices":[{"message":{"content":"refund","content":"refund twice"}}]}""",
            """{"\ud800":0,"choices":[{"message":{"content":"refund","function_call":{"name":"send_email"}},"finish_reason":"function_call"}]}""",
            """{"choices":[{"message":{"content":"refund","function_call":{"name":"send_email"}},"finish_reason":"function_call"}]}""",
        ];
        var edit = false;
        foreach (var answer in answers)
        {
            edit = !edit;
            h.Upstream.RawAnswer = answer;
            using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Can I get a refund?"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

            using var queue = await reviewer.GetAsync($"/api/v1/reviews?system={GatewayHarness.System}");
            Assert.True(HttpStatusCode.OK == queue.StatusCode, $"{answer}: queue {(int)queue.StatusCode} {await queue.Content.ReadAsStringAsync()}");
            using var detail = await reviewer.GetAsync($"/api/v1/interactions/{id}");
            Assert.True(HttpStatusCode.OK == detail.StatusCode, $"{answer}: detail {(int)detail.StatusCode} {await detail.Content.ReadAsStringAsync()}");
            if (answer.Contains("refund", StringComparison.Ordinal)) Assert.Contains("refund", await detail.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // Released as it is, or edited: the reviewer's text replaces the answer, and no call rides along with it.
            using var released = edit
                ? await reviewer.PostAsJsonAsync($"/api/v1/interactions/{id}/review", new { outcome = "edited", finalText = "We will refund it." })
                : await reviewer.PostAsJsonAsync($"/api/v1/approvals/{id}/release", new { reason = "checked" });
            Assert.True(HttpStatusCode.OK == released.StatusCode, $"{answer}: release {(int)released.StatusCode} {await released.Content.ReadAsStringAsync()}");
            using var fetched = await h.Member.GetAsync($"/v1/interactions/{id}");
            Assert.Equal("released", fetched.Headers.GetValues("x-pilotage-status").Single());
            if (edit)
            {
                var completion = await fetched.Content.ReadFromJsonAsync<JsonElement>();
                var message = completion.GetProperty("choices")[0].GetProperty("message");
                Assert.Equal("We will refund it.", message.GetProperty("content").GetString());
                Assert.False(message.TryGetProperty("function_call", out _), $"{answer}: {completion}");
                Assert.False(message.TryGetProperty("tool_calls", out _), $"{answer}: {completion}");
            }
        }
    }

    /// <summary>Seeded mutations of real answers and stream chunks: in read-only mode, which reads tool calls, and in
    /// approval mode, where each held answer is then opened by a reviewer and fetched by the app.</summary>
    [Theory]
    [InlineData("read_only")]
    [InlineData("approval")]
    public async Task Mutated_upstream_answers_never_get_a_500_and_always_leave_a_record(string mode)
    {
        await using var h = await GatewayHarness.StartAsync(mode: mode, extra: ReadOnly);
        var reviewer = h.Server.ClientFor(await h.Server.CreateKeyAsync("rita@example.org"));
        var approval = mode == "approval";
        const string chunk = """{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"refund","tool_calls":[{"index":0,"function":{"name":"send_email","arguments":""}}]}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}""";
        var seeds = new[] { Encoding.UTF8.GetBytes(ValidAnswer), Encoding.UTF8.GetBytes(ToolCallAnswer), Encoding.UTF8.GetBytes(chunk) };
        var requests = 0;
        await Mutations.Of(seeds).SampleAsync(async bytes =>
        {
            var text = Encoding.UTF8.GetString(bytes);
            // Approval mode asks the model for the whole answer, never a stream.
            var stream = !approval && text.Contains("chunk", StringComparison.Ordinal);
            h.Upstream.RawAnswer = stream ? null : text;
            // One event per line: a newline inside the mutated chunk would split it, as on the wire.
            h.Upstream.RawStreamEvents = stream ? [text.Replace("\n", " ", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal)] : null;
            using var response = await h.Member.PostAsJsonAsync("/v1/chat/completions", GatewayHarness.ChatBody("Where is my parcel?", stream: stream));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is 200 or 202 or 403 or 502, $"{(int)response.StatusCode} {body}");
            requests++;
            var id = response.Headers.GetValues("x-pilotage-interaction-id").Single();
            var record = await h.InteractionAsync(id);
            Assert.Contains(record.Outcome, (string[])["served", "refused", "failed", "held"]);
            if (record.Outcome != "held") return;
            using var detail = await reviewer.GetAsync($"/api/v1/interactions/{id}");
            Assert.True(HttpStatusCode.OK == detail.StatusCode, $"review detail {(int)detail.StatusCode} {await detail.Content.ReadAsStringAsync()}");
            using var pending = await h.Member.GetAsync($"/v1/interactions/{id}");
            Assert.True(HttpStatusCode.OK == pending.StatusCode, $"pending {(int)pending.StatusCode} {await pending.Content.ReadAsStringAsync()}");
        }, iter: Mutations.Scaled(100), threads: 1);
        Assert.Equal(requests, await h.InteractionCountAsync());
        using (var queue = await reviewer.GetAsync($"/api/v1/reviews?system={GatewayHarness.System}&limit=500"))
        {
            Assert.True(HttpStatusCode.OK == queue.StatusCode, $"queue {(int)queue.StatusCode} {await queue.Content.ReadAsStringAsync()}");
        }
        h.Upstream.RawAnswer = null;
        h.Upstream.RawStreamEvents = null;
        await HostileRequestTests.AssertHealthyAsync(h);
    }
}
